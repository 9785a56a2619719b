"""The demand index's SQL, written once for SQLite and PostgreSQL; a Dialect fills in the differences."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Literal, get_args

from engine.lifecycle import OPEN, State, Step
from engine.vocabulary import Rating
from projections.index_models import DemandRecord, Dimension, Period, Scope

ColumnKind = Literal["text", "int", "bool", "time"]


def _column_kind(annotation: Any) -> ColumnKind:
    types = [t for t in (get_args(annotation) or (annotation,)) if t is not type(None)]
    kinds: dict[Any, ColumnKind] = {datetime: "time", bool: "bool", int: "int"}
    return kinds.get(types[0], "text")


# Derived from the record model, so the table and the model cannot drift apart.
COLUMNS: dict[str, tuple[ColumnKind, bool]] = {
    name: (_column_kind(field.annotation), type(None) in get_args(field.annotation))
    for name, field in DemandRecord.model_fields.items()
}

_OPEN = ", ".join(f"'{state.value}'" for state in sorted(OPEN))
_OVERDUE_ABLE = f"state IN ({_OPEN}) AND due_at IS NOT NULL AND clock_on_due = '{Step.MARK_OVERDUE.value}'"
_SATISFIED = ", ".join(f"'{r.value}'" for r in Rating if r.is_positive)


class Dialect(ABC):
    """What differs between SQLite and PostgreSQL: parameters, types, names, calendar buckets."""

    @abstractmethod
    def param(self, name: str) -> str:
        """A named parameter placeholder."""

    @abstractmethod
    def column_type(self, kind: ColumnKind) -> str:
        """The column type that stores a kind of value."""

    @abstractmethod
    def table(self, name: str) -> str:
        """The table's name as written in statements (schema-qualified where there are schemas)."""

    @abstractmethod
    def period_start(self, period: Period, column: str, offset_seconds: str) -> str:
        """An expression for the first day of the bucket holding `column`, shifted to local time."""

    @abstractmethod
    def value(self, value: object) -> object:
        """A parameter value in the form the database compares correctly (times, above all)."""


class Statement:
    """SQL text and its named parameters, built up clause by clause."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.params: dict[str, object] = {}
        self.clauses: list[str] = []
        self.sql = ""

    def bind(self, name: str, value: object) -> str:
        """Bind a parameter; returns its placeholder."""
        self.params[name] = self.dialect.value(value)
        return self.dialect.param(name)

    def where(self, template: str, **values: object) -> None:
        """Add a condition; `{name}` in the template becomes the placeholder of `values[name]`."""
        self.clauses.append(template.format(**{k: self.bind(k, v) for k, v in values.items()}))

    def filters(
        self, *, scope: Scope | None = None, since: datetime | None = None, until: datetime | None = None
    ) -> None:
        """The filters every query shares: a place, and a window on the collection time."""
        if scope is not None:
            self.where(f"{scope.place.value} = {{scope}}", scope=scope.name)
        if since is not None:
            self.where("collected_at >= {since}", since=since)
        if until is not None:
            self.where("collected_at < {until}", until=until)

    @property
    def where_sql(self) -> str:
        """The WHERE clause (empty without conditions)."""
        return " WHERE " + " AND ".join(self.clauses) if self.clauses else ""


def create_statements(dialect: Dialect, table: str) -> list[str]:
    """The table and the indexes that keep rates, the board and listings flat as the store grows."""
    columns = ", ".join(
        f"{name} {dialect.column_type(kind)}{'' if nullable else ' NOT NULL'}"
        for name, (kind, nullable) in COLUMNS.items()
    )
    qualified = dialect.table(table)
    indexes = {
        "demand": "demand_id",
        "collected": "collected_at",
        "board": "state, due_at",
        **{place: f"{place}, collected_at" for place in ("community", "grid", "street", "district")},
    }
    return [
        f"CREATE TABLE IF NOT EXISTS {qualified} ({columns}, PRIMARY KEY (originator_id))",
        *(
            f"CREATE {'UNIQUE ' if name == 'demand' else ''}INDEX IF NOT EXISTS {table}_{name} "
            f"ON {qualified} ({cols})"
            for name, cols in indexes.items()
        ),
    ]


@cache
def upsert_statement(dialect: Dialect, table: str) -> str:
    """Insert a record, or replace the stored one with the same aggregate id."""
    names = list(COLUMNS)
    updates = ", ".join(f"{n} = excluded.{n}" for n in names if n != "originator_id")
    return (
        f"INSERT INTO {dialect.table(table)} ({', '.join(names)}) "
        f"VALUES ({', '.join(dialect.param(n) for n in names)}) "
        f"ON CONFLICT (originator_id) DO UPDATE SET {updates}"
    )


@cache
def update_statement(dialect: Dialect, table: str, names: tuple[str, ...]) -> str:
    """Set the named columns of the row whose `originator_id` is given (also among the names)."""
    updates = ", ".join(f"{n} = {dialect.param(n)}" for n in names if n != "originator_id")
    return (
        f"UPDATE {dialect.table(table)} SET {updates} WHERE originator_id = {dialect.param('originator_id')}"
    )


def rates_statement(
    dialect: Dialect,
    table: str,
    *,
    by: Dimension | None,
    period: Period | None,
    scope: Scope | None,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
    utc_offset: timedelta,
) -> Statement:
    """One aggregate query: counts per group and calendar bucket of the collection date."""
    st = Statement(dialect)
    st.filters(scope=scope, since=since, until=until)
    key = f"COALESCE({by.value}, '(none)')" if by is not None else "NULL"
    bucket = "NULL"
    if period is not None:
        bucket = dialect.period_start(
            period, "collected_at", st.bind("offset", int(utc_offset.total_seconds()))
        )
    overdue = f"{_OVERDUE_ABLE} AND due_at < {st.bind('now', now)}"

    def count(condition: str) -> str:
        return f"COALESCE(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), 0)"

    closed, withdrawn, merged = (
        f"state = '{s.value}'" for s in (State.CLOSED, State.WITHDRAWN, State.MERGED)
    )
    # Grouped by output position: PostgreSQL would not match a parameterised expression to itself.
    grouping = [pos for pos, used in (("1", by), ("2", period)) if used is not None]
    st.sql = (
        f"SELECT {key} AS key, {bucket} AS period_start, COUNT(*) AS collected, "
        f"{count('claimed_at IS NOT NULL')} AS claimed, "
        f"{count(closed)} AS closed, "
        f"{count(closed + ' AND on_time')} AS closed_on_time, "
        f"{count(withdrawn)} AS withdrawn, "
        f"{count(merged)} AS merged, "
        f"{count('rating IS NOT NULL')} AS rated, "
        f"{count(f'rating IN ({_SATISFIED})')} AS satisfied, "
        f"COALESCE(SUM(escalations), 0) AS escalations, "
        f"{count(overdue)} AS open_overdue "
        f"FROM {dialect.table(table)}{st.where_sql}"
        + (f" GROUP BY {', '.join(grouping)} ORDER BY {', '.join(reversed(grouping))}" if grouping else "")
    )
    return st


def overdue_statement(
    dialect: Dialect,
    table: str,
    *,
    horizon: datetime,
    scope: Scope | None,
    priority: str | None,
    level: str | None,
    limit: int,
) -> Statement:
    """Open demands whose accountable deadline falls before `horizon`, earliest deadline first."""
    st = Statement(dialect)
    st.clauses.append(_OVERDUE_ABLE)
    st.where("due_at <= {horizon}", horizon=horizon)
    st.filters(scope=scope)
    if priority is not None:
        st.where("priority = {priority}", priority=priority)
    if level is not None:
        st.where("level = {level}", level=level)
    st.sql = (
        f"SELECT * FROM {dialect.table(table)}{st.where_sql} "
        f"ORDER BY due_at, demand_id LIMIT {st.bind('limit', limit)}"
    )
    return st


def list_statement(
    dialect: Dialect,
    table: str,
    *,
    equals: dict[str, object],
    open_only: bool,
    scope: Scope | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> Statement:
    """The ticket index: filtered by exact column values, a place and a window, newest first."""
    st = Statement(dialect)
    st.filters(scope=scope, since=since, until=until)
    for column, value in equals.items():
        if value is not None:
            assert column in COLUMNS, column  # column names come from code, never from input
            st.where(f"{column} = {{{column}}}", **{column: value})
    if open_only:
        st.clauses.append(f"state IN ({_OPEN})")
    st.sql = (
        f"SELECT * FROM {dialect.table(table)}{st.where_sql} ORDER BY collected_at DESC, demand_id "
        f"LIMIT {st.bind('limit', limit)} OFFSET {st.bind('offset', offset)}"
    )
    return st
