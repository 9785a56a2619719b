"""Exports: the store's events, or a view's rows, as JSON Lines, CSV or Parquet, streamed page by page.

Memory stays flat however many events there are: events are read a page of notifications at a
time and view rows a page of keys at a time, and each page is written before the next is read.
Residents' personal data (the `resident` and `reporter` of events) is left out unless revealing
it is asked for (`adapters.privacy`), the reveal allowed and recorded by the caller first
(`Services.reveal_many`). Periods and places filter as the figures do: events by when they
happened and where their demand is, demands by collection, points by the day they were written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import IO, Any, Protocol
from uuid import UUID

import orjson
from eventsourcing.utils import get_topic

from adapters.bootstrap import System
from adapters.datasets import Dataset, Format
from adapters.privacy import without_personal_data
from engine.periods import Period
from engine.scope import Places, each, inside
from projections.index.models import DemandRecord
from projections.pages import count_index_records, count_ledger_entries, index_records, ledger_entries
from projections.points.models import LedgerEntry
from projections.sql import ColumnKind, model_columns

Progress = Callable[[int, int], None]
"""Told (rows or positions done, total)."""

PAGE = 1000


EVENT_COLUMNS: dict[str, ColumnKind] = {
    "position": "int", "originator_id": "text", "originator_version": "int", "event": "text",
    "topic": "text", "timestamp": "time", "data": "text",
}  # fmt: skip
"""An exported event: where it is in the store, what it is, and its whole stored state (`data`)."""


def columns(dataset: Dataset) -> dict[str, ColumnKind]:
    """The columns of a dataset, in order, with their kinds."""
    if dataset is Dataset.EVENTS:
        return EVENT_COLUMNS
    model = DemandRecord if dataset is Dataset.INDEX else LedgerEntry
    found = {name: kind for name, (kind, _) in model_columns(model).items()}
    return found if dataset is Dataset.INDEX else {"position": "int", **found}


class Writer(Protocol):
    """Writes pages of rows (JSON-ready dicts) to one file."""

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Write a page."""

    def close(self) -> None:
        """Finish the file."""


class _JsonLines:
    def __init__(self, out: IO[bytes]) -> None:
        self.out = out

    def write(self, rows: list[dict[str, Any]]) -> None:
        self.out.write(b"".join(orjson.dumps(row) + b"\n" for row in rows))

    def close(self) -> None:
        self.out.flush()


class _Csv:
    def __init__(self, out: IO[bytes], names: list[str]) -> None:
        self.text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        self.writer = csv.writer(self.text)
        self.writer.writerow(names)
        self.names = names

    def write(self, rows: list[dict[str, Any]]) -> None:
        self.writer.writerows([_flat(row.get(name)) for name in self.names] for row in rows)

    def close(self) -> None:
        self.text.flush()
        self.text.detach()


def _flat(value: Any) -> Any:
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return "" if value is None else value


class _Parquet:
    def __init__(self, out: IO[bytes], kinds: dict[str, ColumnKind]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        types = {
            "text": pa.string(), "int": pa.int64(), "bool": pa.bool_(),
            "time": pa.timestamp("us", tz="UTC"), "date": pa.date32(),
        }  # fmt: skip
        self.pa = pa
        self.kinds = kinds
        self.schema = pa.schema([(name, types[kind]) for name, kind in kinds.items()])
        self.writer = pq.ParquetWriter(out, self.schema)

    def write(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            typed = [
                {name: self._typed(kind, row.get(name)) for name, kind in self.kinds.items()} for row in rows
            ]
            self.writer.write_batch(self.pa.RecordBatch.from_pylist(typed, schema=self.schema))

    def _typed(self, kind: ColumnKind, value: Any) -> Any:
        if value is None:
            return None
        if kind == "time":
            return datetime.fromisoformat(value) if isinstance(value, str) else value
        if kind == "date":
            return date.fromisoformat(value) if isinstance(value, str) else value
        if kind == "text" and not isinstance(value, str):
            return orjson.dumps(value).decode()
        return value

    def close(self) -> None:
        self.writer.close()


def writer(fmt: Format, out: IO[bytes], dataset: Dataset) -> Writer:
    """A writer of `dataset` rows in `fmt` to `out`."""
    if fmt is Format.JSONL:
        return _JsonLines(out)
    if fmt is Format.CSV:
        return _Csv(out, list(columns(dataset)))
    return _Parquet(out, columns(dataset))


def export(
    system: System,
    dataset: Dataset,
    fmt: Format,
    out: IO[bytes],
    *,
    period: Period | None = None,
    scope: Places = None,
    reveal: bool = False,
    on_progress: Progress | None = None,
) -> int:
    """Write the dataset's rows for `period` and `scope` to `out`; returns how many were written."""
    pages = _pages(system, dataset, period, scope, reveal, on_progress)
    sink = writer(fmt, out, dataset)
    written = 0
    try:
        for page in pages:
            sink.write(page)
            written += len(page)
    finally:
        sink.close()
    return written


def _pages(
    system: System,
    dataset: Dataset,
    period: Period | None,
    scope: Places,
    reveal: bool,
    on_progress: Progress | None,
) -> Iterator[list[dict[str, Any]]]:
    window = period.window(system.local_zone) if period is not None else (None, None)
    if dataset is Dataset.EVENTS:
        yield from _event_pages(system, window, scope, reveal, on_progress)
        return
    if dataset is Dataset.INDEX:
        with system.index_view() as index:
            total = count_index_records(index, scope=scope, since=window[0], until=window[1])
            rows = (
                r.model_dump(mode="json")
                for r in index_records(index, scope=scope, since=window[0], until=window[1])
            )
            yield from _paged(rows, total, on_progress)
        return
    with system.points_view() as ledger:
        total = count_ledger_entries(ledger, scope=scope, period=period)
        entries = ledger_entries(ledger, scope=scope, period=period)
        yield from _paged(
            ({"position": p, **e.model_dump(mode="json")} for p, e in entries), total, on_progress
        )


def _paged(
    rows: Iterator[dict[str, Any]], total: int, on_progress: Progress | None
) -> Iterator[list[dict[str, Any]]]:
    page: list[dict[str, Any]] = []
    done = 0
    for row in rows:
        page.append(row)
        if len(page) == PAGE:
            done += len(page)
            yield page
            page = []
            if on_progress is not None:
                on_progress(done, total)
    if page:
        yield page
    if on_progress is not None:
        on_progress(total, total)


def _event_pages(
    system: System,
    window: tuple[datetime | None, datetime | None],
    scope: Places,
    reveal: bool,
    on_progress: Progress | None,
) -> Iterator[list[dict[str, Any]]]:
    since, until = window
    located: set[UUID | str] = set()  # demands located in the scope, learnt from their Collected events
    with system.store() as store:
        last = store.recorder.max_notification_id() or 0
        position = 0
        while notes := store.recorder.select_notifications(
            start=position, limit=PAGE, inclusive_of_start=False
        ):
            page = []
            for note in notes:
                event: Any = store.mapper.to_domain_event(note)
                if each(scope):
                    if type(event).__name__ == "Collected" and inside(scope, event.location):
                        located.add(note.originator_id)
                    if note.originator_id not in located:
                        continue
                if (since is not None and event.timestamp < since) or (
                    until is not None and event.timestamp >= until
                ):
                    continue
                page.append(_event_row(note.id, event, reveal))
            position = notes[-1].id
            if page:
                yield page
            if on_progress is not None:
                on_progress(position, last)


def _event_row(position: int, event: Any, reveal: bool) -> dict[str, Any]:
    data = without_personal_data(event.model_dump(mode="json"), reveal)
    return {
        "position": position, "originator_id": str(event.originator_id),
        "originator_version": event.originator_version, "event": type(event).__name__,
        "topic": get_topic(type(event)), "timestamp": data["timestamp"], "data": data,
    }  # fmt: skip
