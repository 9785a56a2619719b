"""Exports: events read back equal the store's; view rows filtered as the figures are; residents left out."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest
from demand_stories import HOUR, T0, mixed_history, story_on, submission
from eventsourcing.utils import resolve_topic

from adapters.bootstrap import System
from adapters.datasets import Dataset, Format
from adapters.export import export
from adapters.settings import Settings
from engine import commands as c
from engine.periods import Period
from engine.scope import Scope

pytestmark = pytest.mark.integration


def read_rows(path: Path, fmt: Format) -> list[dict[str, Any]]:
    """An exported file's rows, as a reader in another tool would see them."""
    if fmt is Format.JSONL:
        return [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    if fmt is Format.CSV:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    return pq.read_table(path).to_pylist()


def as_events(rows: list[dict[str, Any]]) -> list[Any]:
    """Domain events rebuilt from exported rows: the class named by the topic, from the stored state."""
    events = []
    for row in rows:
        data = row["data"] if isinstance(row["data"], dict) else orjson.loads(row["data"])
        events.append(resolve_topic(row["topic"])(**data))
    return events


def export_to(system: System, path: Path, dataset: Dataset, fmt: Format, **options: Any) -> int:
    with path.open("wb") as out:
        return export(system, dataset, fmt, out, **options)


@pytest.fixture
def system(settings: Settings) -> System:
    """A store with every common path and a merge (whose original keeps the duplicate's reporter)."""
    with story_on(settings) as story:
        ids = mixed_history(story, range(12), T0)
        story.do(ids[5], c.Merge(by="operator", into=ids[11]), T0 + 200 * HOUR)
        story.do(ids[11], c.Absorb(by="operator", duplicate_id=ids[5]), T0 + 200 * HOUR)
        story.collect(submission("later", community="Kunlun"), T0 + 400 * 24 * HOUR)  # in 2027
    system = System(settings)
    with system.projections() as running:
        running.wait_until_caught_up(timeout=60)
    return system


@pytest.mark.parametrize("fmt", list(Format))
def test_exported_events_read_back_equal_the_stores(system: System, tmp_path: Path, fmt: Format) -> None:
    path = tmp_path / f"events.{fmt.value}"
    written = export_to(system, path, Dataset.EVENTS, fmt, reveal=True)
    with system.store() as store:
        stored = [
            store.mapper.to_domain_event(n)
            for n in store.recorder.select_notifications(start=1, limit=10_000)
        ]
        positions = [n.id for n in store.recorder.select_notifications(start=1, limit=10_000)]
    rows = read_rows(path, fmt)
    assert written == len(rows) == len(stored)
    assert as_events(rows) == stored
    assert [int(r["position"]) for r in rows] == positions
    assert "DuplicateAbsorbed" in {r["event"] for r in rows}


def test_residents_are_left_out_unless_revealed(system: System, tmp_path: Path) -> None:
    for fmt in Format:
        path = tmp_path / f"events.{fmt.value}"
        export_to(system, path, Dataset.EVENTS, fmt)
        content = path.read_bytes()
        assert b"13800138000" not in content
        assert b"Li Mei" not in content
        assert b"Building 3" not in content
    rows = read_rows(tmp_path / "events.jsonl", Format.JSONL)
    assert all("resident" not in r["data"] and "reporter" not in r["data"] for r in rows)
    revealed = tmp_path / "revealed.jsonl"
    export_to(system, revealed, Dataset.EVENTS, Format.JSONL, reveal=True)
    assert b"13800138000" in revealed.read_bytes()


def test_events_filter_by_period_and_the_place_of_their_demand(system: System, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    export_to(system, path, Dataset.EVENTS, Format.JSONL, period=Period.parse("2027"))
    assert [r["event"] for r in read_rows(path, Format.JSONL)] == ["Collected"]
    export_to(system, path, Dataset.EVENTS, Format.JSONL, scope=Scope.parse("community:Kunlun"))
    rows = read_rows(path, Format.JSONL)
    kunlun = {r["originator_id"] for r in rows if r["event"] == "Collected"}
    assert len(kunlun) == 5  # m1, m4, m7, m10 and `later`
    assert {r["originator_id"] for r in rows} == kunlun


@pytest.mark.parametrize("fmt", list(Format))
def test_view_rows_export_as_the_figures_count_them(system: System, tmp_path: Path, fmt: Format) -> None:
    index_path, points_path = tmp_path / f"index.{fmt.value}", tmp_path / f"points.{fmt.value}"
    xinhua, year = Scope.parse("community:Xinhua"), Period.parse("2026")
    written = export_to(system, index_path, Dataset.INDEX, fmt, scope=xinhua, period=year)
    since, until = year.window(system.local_zone)
    with system.index_view() as index, system.points_view() as ledger:
        [rates] = index.rates(scope=xinhua, since=since, until=until)
        entries = ledger.ledger()
    rows = read_rows(index_path, fmt)
    assert written == len(rows) == rates.collected == 4
    assert {r["community"] for r in rows} == {"Xinhua"}
    export_to(system, points_path, Dataset.POINTS, fmt)
    exported = read_rows(points_path, fmt)
    assert [(r["demand_id"], r["account"], int(r["tenths"])) for r in exported] == [
        (e.demand_id, e.account, e.tenths) for e in entries
    ]
