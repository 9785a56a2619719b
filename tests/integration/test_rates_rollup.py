"""The rollups (per day, per month) answer rates as the index's scan does: the same figures,
whatever became of the demands (amended to another place, merged, withdrawn, reopened, late),
caught up in one go or page after page; in a calendar they were not kept in, the scan answers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import product
from typing import Any

import pytest
from demand_stories import HOUR, T0, finish_open_demands, mixed_history, projected_index, story_on, submission

from adapters.bootstrap import System
from adapters.settings import Settings
from engine import commands as c
from engine.periods import Period
from engine.scope import Scope
from projections.index.view import DemandIndexView
from projections.rebuild import differences
from projections.runner import ProjectionRunner

pytestmark = pytest.mark.integration
DAY = timedelta(days=1)
KARAMAY = timedelta(hours=8)  # the settings' calendar (report_utc_offset_hours = 8)


def asked(index: DemandIndexView, now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """The rates people ask for, in every shape the rollup answers and some it does not."""
    spans = ("2026-01", "2026-02..2026-03", "2026", "2026-01-07..2026-02-20", "2026-02-19")
    local = [Period.parse(p).window(timezone(KARAMAY)) for p in spans]  # months, then days
    windows = [(None, None), *local, (T0 + 3 * HOUR, T0 + 40 * DAY)]  # the last: not whole days
    shapes: list[tuple[str, dict[str, Any]]] = []
    for by, per, (since, until), scope, offset in product(
        (None, "community", "grid", "district", "channel"),
        (None, "month", "year", "day", "week"),
        windows,
        (None, Scope.parse("street:Yingbin")),
        (KARAMAY, timedelta(0)),
    ):
        shapes.append(
            (
                f"by={by} per={per} {since}..{until} scope={scope} offset={offset}",
                {"by": by, "per": per, "since": since, "until": until, "scope": scope, "now": now,
                 "utc_offset": offset},
            )
        )  # fmt: skip
    return shapes


def assert_rollup_equals_scan(index: DemandIndexView, now: datetime) -> None:
    answered = 0
    for label, question in asked(index, now):
        rows = index.rates(**question)
        assert rows == index.rates(**question, rollup=False), label
        answered += sum(r.collected for r in rows)
    assert answered > 1_000  # figures, not empty rows, were compared


def test_the_rollup_gives_the_scans_figures_as_demands_move_and_end(settings: Settings) -> None:
    with story_on(settings) as story:
        first = mixed_history(story, range(0, 36), T0)  # three communities, every common path
        later = mixed_history(story, range(36, 72), T0 + 45 * DAY)
        with projected_index(settings) as index:
            assert_rollup_equals_scan(index, T0 + 20 * DAY)
        # Page by page now: demands amended to another community and grid, merged, finished late.
        waiting = [d for d in first + later if story.app.status(d).state.value == "collected"]
        assert len(waiting) >= 6
        for n, demand in enumerate(waiting[:3]):
            moved = submission(demand.removeprefix("demand-wechat-"), community="Baijiantan")
            story.do(demand, c.Amend.of(moved), T0 + 50 * DAY + n * HOUR)
        story.do(waiting[3], c.Merge(by="operator", into=waiting[4]), T0 + 51 * DAY)
        finish_open_demands(story, first, T0 + 80 * DAY)
        with projected_index(settings) as index:
            for now in (T0 + 2 * DAY, T0 + 400 * DAY):
                assert_rollup_equals_scan(index, now)
            assert {r.key for r in index.rates(by="community", rollup=False)} == {
                "Xinhua", "Kunlun", "Baijiantan"
            }  # fmt: skip

            # The rollups do answer: a count altered in one by hand shows in what rates say.
            for rollup, per in (("months", "year"), ("days", "week")):
                scanned = index.rates(per=per, utc_offset=KARAMAY, now=T0, rollup=False)
                index.db.run([f"UPDATE {index.qualified(rollup)} SET collected = collected + 1"])
                rolled = index.rates(per=per, utc_offset=KARAMAY, now=T0)
                rows = index.db.select(f"SELECT COUNT(*) AS n FROM {index.qualified(rollup)}")[0]["n"]
                total = sum(r.collected for r in scanned)
                assert sum(r.collected for r in rolled) == total + rows > total


def test_a_view_filled_from_zero_makes_its_rollups_at_the_end_as_page_by_page_upkeep_would(
    settings: Settings,
) -> None:
    """A rebuild writes its rows without upkeep of the rollups and sums them once it has caught up;
    so does a rebuild that died half-way (rows written, rollups not yet made), when restarted."""
    system = System(settings)
    [spec, _] = system.projection_specs()
    with story_on(settings) as story:
        mixed_history(story, range(0, 40), T0)
        last = story.app.recorder.max_notification_id()
        assert last is not None

        def run(suffix: str, until: int | None = None, page_size: int = 1_000) -> None:
            runner = ProjectionRunner(
                spec, story.app, system.views_database, suffix=suffix, page_size=page_size,
                follow=False, until=until,
            )  # fmt: skip
            runner.start().join(60)
            assert runner.error is None

        run("_zero")  # one go: rollups made at the end
        run("_kept", until=7)  # the first pages, then upkeep page after page (pages of 4)
        run("_kept", page_size=4)
        run("_died", until=last // 2)
        db = system.views_database()
        try:
            died = spec.open(db, "_died")
            db.run([f"DELETE FROM {died.qualified(rollup)}" for rollup in ("days", "months")])  # as if killed
            half = died.rates(by="community", now=T0 + 20 * DAY)  # meanwhile, the rows answer
            assert half == died.rates(by="community", now=T0 + 20 * DAY, rollup=False)
            assert sum(r.collected for r in half) > 5
            run("_died")
            zero, kept = spec.open(db, "_zero"), spec.open(db, "_kept")
            assert db.select(f"SELECT COUNT(*) AS n FROM {zero.qualified('days')}")[0]["n"] > 10
            assert list(differences(zero, kept)) == []
            assert list(differences(zero, died)) == []
            assert_rollup_equals_scan(zero, T0 + 20 * DAY)
        finally:
            db.close()
