"""Views' rows read a page at a time by key (never OFFSET), so millions of rows stream in constant memory.

Exports and reports read whole views; they filter as the views' own queries do: the demand
index by place and collection window (`projections.index.queries.filters`), the ledger by
place and the local day its entries were written (as rankings count them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from engine.periods import Period
from engine.scope import Places, each
from projections.index.models import DemandRecord
from projections.index.queries import filters
from projections.index.view import DemandIndexView
from projections.points.models import LedgerEntry
from projections.points.queries import LEDGER_COLUMNS
from projections.points.view import PointsView
from projections.sql import Statement
from projections.view import View

Where = Callable[[Statement], None]


def _rows(view: View, part: str, key: str, where: Where, columns: str, size: int) -> Iterator[dict[str, Any]]:
    after: object = None
    while True:
        st = Statement(view.dialect)
        where(st)
        if after is not None:
            st.clauses.append(f"{key} > {st.bind('after', after)}")
        st.sql = (
            f"SELECT {columns} FROM {view.qualified(part)}{st.where_sql} ORDER BY {key} "
            f"LIMIT {st.bind('size', size)}"
        )
        page = view.db.select(st.sql, st.params)
        yield from page
        if len(page) < size:
            return
        after = page[-1][key]


def _count(view: View, part: str, where: Where) -> int:
    st = Statement(view.dialect)
    where(st)
    return int(
        view.db.select(f"SELECT COUNT(*) AS n FROM {view.qualified(part)}{st.where_sql}", st.params)[0]["n"]
    )


def index_records(
    index: DemandIndexView,
    *,
    scope: Places,
    since: datetime | None = None,
    until: datetime | None = None,
    size: int = 1000,
) -> Iterator[DemandRecord]:
    """The index's rows for demands collected in [since, until) within `scope`, by aggregate id."""

    def where(st: Statement) -> None:
        filters(st, scope=scope, since=since, until=until)

    for row in _rows(index, "", "originator_id", where, "*", size):
        yield DemandRecord.model_validate(row)


def count_index_records(
    index: DemandIndexView, *, scope: Places, since: datetime | None = None, until: datetime | None = None
) -> int:
    """How many rows `index_records` yields."""
    return _count(index, "", lambda st: filters(st, scope=scope, since=since, until=until))


def _ledger_where(scope: Places, period: Period | None) -> Where:
    def where(st: Statement) -> None:
        if period is not None:
            st.where("day BETWEEN {first} AND {last}", first=period.first, last=period.last)
        for n, place in enumerate(each(scope)):
            assert place.place is not None  # one of five column names
            st.where(f"{place.place.value} = {{place{n}}}", **{f"place{n}": place.name})

    return where


def ledger_entries(
    ledger: PointsView, *, scope: Places, period: Period | None = None, size: int = 1000
) -> Iterator[tuple[int, LedgerEntry]]:
    """Ledger entries (with the position that wrote them) written on the days of `period` in `scope`."""
    columns = ", ".join(["id", *LEDGER_COLUMNS, "notification_id"])
    for row in _rows(ledger, "ledger", "id", _ledger_where(scope, period), columns, size):
        position = int(row.pop("notification_id"))
        row.pop("id")
        yield position, LedgerEntry.model_validate(row)


def count_ledger_entries(ledger: PointsView, *, scope: Places, period: Period | None = None) -> int:
    """How many entries `ledger_entries` yields."""
    return _count(ledger, "ledger", _ledger_where(scope, period))
