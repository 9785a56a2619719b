"""The demand index's SQL, written once for SQLite and PostgreSQL (a Dialect fills in the differences)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache

from engine.lifecycle import OPEN, PROMISED, State, Step
from engine.periods import Bucket
from engine.scope import Places, each
from engine.vocabulary import Rating
from projections.index.models import DemandRecord, Dimension, RejectionRow, RollupRow
from projections.sql import ColumnKind, Dialect, Statement, create_index, create_table, model_columns

COLUMNS = model_columns(DemandRecord)
"""Derived from the record model, so the table and the model cannot drift apart."""

REJECTION_COLUMNS = model_columns(RejectionRow)
"""The columns of the rejections table, from its row model."""

PLACES = ("city", "district", "street", "community", "grid")
"""The ladder's places, the rollups' key beside the day (every place dimension is one of them)."""

_OPEN = ", ".join(f"'{state.value}'" for state in sorted(OPEN))
_PROMISED = ", ".join(f"'{state.value}'" for state in sorted(PROMISED))
_SATISFIED = ", ".join(f"'{r.value}'" for r in Rating if r.is_positive)

LATE_FROM = (
    f"CASE WHEN promised_by IS NULL THEN (CASE WHEN clock_on_due = '{Step.MARK_OVERDUE.value}' "
    f"THEN due_at END) WHEN late OR state IN ({_PROMISED}) THEN promised_by END"
)
"""When a demand is (or will be) overdue: past its promise, running or broken (then until it ends).
Demands collected before promises count by their running step deadline. `DemandStatus.late_by`
says the same of one demand."""

LATE_FROM_COLUMNS = ("promised_by", "clock_on_due", "due_at", "late")
"""The columns `LATE_FROM` is computed from (with `state`): an index of it holds them too, since
PostgreSQL reads an expression index alone (an index-only scan) only when it also holds the
columns of the expression."""


def overdue_at(moment: str) -> str:
    """The condition of a demand open and overdue at `moment` (a placeholder)."""
    return f"state IN ({_OPEN}) AND ({LATE_FROM}) <= {moment}"


def filters(
    st: Statement,
    *,
    scope: Places = None,
    since: datetime | None = None,
    until: datetime | None = None,
    window_indexed: bool = True,
) -> None:
    """The filters every query shares: a place, and a window on the collection time. Without
    `window_indexed`, the window is not looked up in the index of collection times (a query better
    served by another index that holds the time too: the late demands of a month)."""
    for n, place in enumerate(each(scope)):
        assert place.place is not None
        st.where(f"{place.place.value} = {{scope{n}}}", **{f"scope{n}": place.name})
    collected_at = "collected_at" if window_indexed else st.dialect.unindexed("collected_at")
    if since is not None:
        st.where(f"{collected_at} >= {{since}}", since=since)
    if until is not None:
        st.where(f"{collected_at} < {{until}}", until=until)


def create_rejections(dialect: Dialect, table: str) -> list[str]:
    """The rejected messages, by id."""
    return [create_table(dialect, table, REJECTION_COLUMNS, "rejection_id")]


def rejections_indexes(dialect: Dialect, table: str) -> list[str]:
    """The rejected messages' indexes: newest first by time, and by demand."""
    return [create_index(dialect, table, "at", "at"), create_index(dialect, table, "demand", "demand_id, at")]


def insert_rejection_statement(dialect: Dialect, table: str) -> str:
    """Keep one rejection (a replayed one changes nothing)."""
    names = list(REJECTION_COLUMNS)
    return (
        f"INSERT INTO {dialect.table(table)} ({', '.join(names)}) "
        f"VALUES ({', '.join(dialect.param(n) for n in names)}) ON CONFLICT (rejection_id) DO NOTHING"
    )


def rejections_statement(
    dialect: Dialect, table: str, *, demand_id: str | None, since: datetime | None, limit: int
) -> Statement:
    """Rejected messages, newest first."""
    st = Statement(dialect)
    if demand_id is not None:
        st.where("demand_id = {demand_id}", demand_id=demand_id)
    if since is not None:
        st.where("at >= {since}", since=since)
    st.sql = (
        f"SELECT * FROM {dialect.table(table)}{st.where_sql} ORDER BY at DESC, rejection_id "
        f"LIMIT {st.bind('limit', limit)}"
    )
    return st


KEY_COLUMNS: dict[str, tuple[ColumnKind, bool]] = {"originator_id": ("text", False), "key": ("text", False)}
"""The lookup keys of demands: `member:<name>` for everyone who holds one, `phone:<hash>` and
`name:<hash>` for every resident who reported one (keyed hashes, never the data)."""


def create_keys(dialect: Dialect, table: str) -> list[str]:
    """The lookup keys, by demand."""
    return [create_table(dialect, table, KEY_COLUMNS, "originator_id, key")]


def keys_indexes(dialect: Dialect, table: str) -> list[str]:
    """The lookup keys' index: found by key."""
    return [create_index(dialect, table, "key", "key")]


def delete_keys_statement(dialect: Dialect, table: str) -> str:
    """Forget a demand's keys of one kind (`pattern`: `member:%`), before writing the ones it has now."""
    p = dialect.param
    return f"DELETE FROM {dialect.table(table)} WHERE originator_id = {p('id')} AND key LIKE {p('pattern')}"


def insert_key_statement(dialect: Dialect, table: str) -> str:
    """Keep one key of a demand (a key it has already changes nothing)."""
    p = dialect.param
    return (
        f"INSERT INTO {dialect.table(table)} (originator_id, key) VALUES ({p('id')}, {p('key')}) "
        "ON CONFLICT (originator_id, key) DO NOTHING"
    )


def create_statements(dialect: Dialect, table: str) -> list[str]:
    """The table, keyed by aggregate id, and its one unique index (a demand id names one demand)."""
    return [
        create_table(dialect, table, COLUMNS, "originator_id"),
        create_index(dialect, table, "demand", "demand_id", unique=True),
    ]


def index_statements(dialect: Dialect, table: str) -> list[str]:
    """The indexes that keep rates, the board and listings flat as the store grows."""
    indexes = {
        "collected": "collected_at",
        **{place: f"{place}, collected_at" for place in ("community", "grid", "street", "district")},
    }
    return [
        *(create_index(dialect, table, name, cols) for name, cols in indexes.items()),
        # The open demands by lateness (tie broken as the board orders them), with what the rates
        # group them by: the board reads a page of it in order and rates count from it alone.
        # It replaced `late`, which lacked the expression's own columns (PostgreSQL then read
        # every late demand's row from the table as well).
        dialect.drop_index(f"{table}_late"),
        create_index(
            dialect,
            table,
            "lateness",
            f"({LATE_FROM}), demand_id, collected_at, {', '.join(PLACES)}, state, "
            f"{', '.join(LATE_FROM_COLUMNS)}",
            where=f"state IN ({_OPEN})",
        ),
        # The same, one place at a time: a community's (street's ...) board, read in order.
        *(
            create_index(
                dialect,
                table,
                f"late_{place}",
                f"{place}, ({LATE_FROM}), demand_id",
                where=f"state IN ({_OPEN})",
            )
            for place in ("community", "grid", "street", "district")
        ),
        # The open demands by their next deadline: what falls due when (`list --due`).
        create_index(dialect, table, "due", "next_due_at, demand_id", where=f"state IN ({_OPEN})"),
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


def _count(condition: str) -> str:
    return f"COALESCE(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), 0)"


_KEPT = f"state <> '{State.MERGED.value}'"
_CLOSED = f"state = '{State.CLOSED.value}'"

COHORT_COUNTS: dict[str, str] = {
    "collected": "COUNT(*)",
    "claimed": _count(f"claimed_at IS NOT NULL AND {_KEPT}"),
    "closed": _count(_CLOSED),
    "closed_on_time": _count(f"{_CLOSED} AND on_time"),
    "withdrawn": _count(f"state = '{State.WITHDRAWN.value}'"),
    "merged": _count(f"state = '{State.MERGED.value}'"),
    "rated": _count(f"rating IS NOT NULL AND {_KEPT}"),
    "satisfied": _count(f"rating IN ({_SATISFIED}) AND {_KEPT}"),
    "escalations": "COALESCE(SUM(escalations), 0)",
}
"""How a cohort's figures are counted from its demands' rows, written once: by the rates' scan of
the index, and by the rollups kept at every write (`rollup_contributions`). A merged
duplicate is counted as `merged` and nowhere else: one problem is one demand."""


def _counts_sql() -> str:
    return ", ".join(f"{expression} AS {name}" for name, expression in COHORT_COUNTS.items())


def rates_statement(
    dialect: Dialect,
    table: str,
    *,
    by: Dimension | None,
    per: Bucket | None,
    scope: Places,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
    utc_offset: timedelta,
    late_only: bool = False,
) -> Statement:
    """One aggregate query over the index: counts per group and calendar bucket of the collection date.

    `open_overdue` counts the demands open and past their promise at `now`. The rates are derived
    from these counts in one place, `RateRow`. `late_only`: that count alone, read from the open
    demands' lateness index (`lateness`), so its cost follows the demands late now, not the store
    (the rollups hold the other counts).
    """
    st = Statement(dialect)
    overdue = overdue_at(st.bind("now", now))
    if late_only:
        st.clauses.append(overdue)
    # The late demands of a window are read from the lateness index, which holds their collection
    # times: SQLite would read the window's every demand from the index of collection times.
    filters(st, scope=scope, since=since, until=until, window_indexed=not late_only)
    key = f"COALESCE({by.value}, '(none)')" if by is not None else "NULL"
    bucket = "NULL"
    if per is not None:
        bucket = dialect.bucket_start(per, "collected_at", st.bind("offset", int(utc_offset.total_seconds())))
    counts = "COUNT(*)" if late_only else f"{_counts_sql()}, {_count(overdue)}"
    st.sql = (
        f"SELECT {key} AS key, {bucket} AS period_start, {counts} AS open_overdue "
        f"FROM {dialect.table(table)}{st.where_sql}" + _grouping(by, per)
    )
    return st


def _grouping(by: object, per: object) -> str:
    # Grouped by output position: PostgreSQL would not match a parameterised expression to itself.
    grouping = [pos for pos, used in (("1", by), ("2", per)) if used is not None]
    return f" GROUP BY {', '.join(grouping)}" if grouping else ""


# ---- the monthly rollup: the cohorts' counts per local month and place, kept at every write ----


ROLLUP_COLUMNS = model_columns(RollupRow)
ROLLUP_KEY = ("day", *PLACES)


def create_rollup(dialect: Dialect, table: str) -> list[str]:
    """A rollup, keyed by day and place."""
    return [create_table(dialect, table, ROLLUP_COLUMNS, ", ".join(ROLLUP_KEY))]


def rollup_contributions(dialect: Dialect, table: str, ids: int) -> str:
    """What the rows of `ids` demands (`:i0`..) count in the rollups, per local day (at `:offset`)
    and place."""
    day = dialect.bucket_start(Bucket.DAY, "collected_at", dialect.param("offset"))
    listed = ", ".join(dialect.param(f"i{n}") for n in range(ids))
    return (
        f"SELECT {day} AS day, {', '.join(PLACES)}, {_counts_sql()} FROM {dialect.table(table)} "
        f"WHERE originator_id IN ({listed}) GROUP BY {', '.join(str(n) for n in range(1, 7))}"
    )


def rollup_build_statement(dialect: Dialect, table: str, rollup: str, bucket: Bucket) -> str:
    """Fill an empty rollup with what every row of the index counts, per local day (or month, keyed
    by its first day) at `:offset` and place: the same counts `rollup_contributions` keeps."""
    start = dialect.bucket_start(bucket, "collected_at", dialect.param("offset"))
    key = ", ".join(ROLLUP_KEY)
    return (
        f"INSERT INTO {dialect.table(rollup)} ({key}, utc_offset_s, {', '.join(COHORT_COUNTS)}) "
        f"SELECT {start} AS day, {', '.join(PLACES)}, {dialect.param('offset')}, {_counts_sql()} "
        f"FROM {dialect.table(table)} GROUP BY {', '.join(str(n) for n in range(1, 7))}"
    )


def rollup_add_statement(dialect: Dialect, table: str) -> str:
    """Add counts to a day and place of a rollup (negative ones take a changed demand out)."""
    names = list(ROLLUP_COLUMNS)
    updates = ", ".join(f"{n} = r.{n} + excluded.{n}" for n in COHORT_COUNTS)
    return (
        f"INSERT INTO {dialect.table(table)} AS r ({', '.join(names)}) "
        f"VALUES ({', '.join(dialect.param(n) for n in names)}) "
        f"ON CONFLICT ({', '.join(ROLLUP_KEY)}) DO UPDATE SET {updates}"
    )


def rollup_prune_statement(dialect: Dialect, table: str) -> str:
    """Drop a day and place left with no demand (they all moved elsewhere)."""
    p = dialect.param
    keyed = " AND ".join(f"{n} = {p(n)}" for n in ROLLUP_KEY)
    return f"DELETE FROM {dialect.table(table)} WHERE {keyed} AND collected = 0"


def rollup_rates_statement(
    dialect: Dialect,
    table: str,
    *,
    by: Dimension | None,
    scope: Places,
    since: date | None,
    until: date | None,
    utc_offset_s: int,
) -> Statement:
    """A rollup's counts per group and day (or month), of the local days in [since, until)."""
    st = Statement(dialect)
    filters(st, scope=scope)
    if since is not None:
        st.where("day >= {since}", since=since)
    if until is not None:
        st.where("day < {until}", until=until)
    st.where("utc_offset_s = {offset}", offset=utc_offset_s)
    sums = ", ".join(f"SUM({name}) AS {name}" for name in COHORT_COUNTS)
    st.sql = (
        f"SELECT {'NULL' if by is None else by.value} AS key, day AS period_start, {sums} "
        f"FROM {dialect.table(table)}{st.where_sql} GROUP BY 1, 2"
    )
    return st


def overdue_statement(
    dialect: Dialect,
    table: str,
    *,
    horizon: datetime,
    scope: Places,
    priority: str | None,
    level: str | None,
    limit: int,
    offset: int = 0,
    after: datetime | None = None,
) -> Statement:
    """Open demands past their promise at `horizon` (or broken it already), most overdue first: a
    page of the open demands' lateness index (`late`), in its order. `after`: only those not yet
    late then (what falls due between `after` and `horizon`)."""
    st = Statement(dialect)
    st.clauses.append(overdue_at(st.bind("horizon", horizon)))
    if after is not None:
        st.clauses.append(f"({LATE_FROM}) > {st.bind('after', after)}")
    filters(st, scope=scope)
    if priority is not None:
        st.where("priority = {priority}", priority=priority)
    if level is not None:
        st.where("level = {level}", level=level)
    st.sql = (
        f"SELECT * FROM {dialect.table(table)}{st.where_sql} "
        f"ORDER BY ({LATE_FROM}), demand_id "
        f"LIMIT {st.bind('limit', limit)} OFFSET {st.bind('offset', offset)}"
    )
    return st


def list_statement(
    dialect: Dialect,
    table: str,
    *,
    equals: dict[str, object],
    open_only: bool,
    scope: Places,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
    keys_table: str | None = None,
    keys: tuple[str, ...] = (),
    due: tuple[datetime, datetime] | None = None,
) -> Statement:
    """The ticket index: filtered by exact column values, a place, a window, lookup keys (each one
    the demand must have) and a window on the next deadline; newest first, or soonest due first."""
    st = Statement(dialect)
    filters(st, scope=scope, since=since, until=until)
    for column, value in equals.items():
        if value is not None:
            assert column in COLUMNS, column  # column names come from code, never from input
            st.where(f"{column} = {{{column}}}", **{column: value})
    if open_only or due is not None:  # only an open demand has a deadline ahead
        st.clauses.append(f"state IN ({_OPEN})")
    for n, key in enumerate(keys):
        assert keys_table is not None
        st.where(
            f"originator_id IN (SELECT originator_id FROM {dialect.table(keys_table)} WHERE key = {{k{n}}})",
            **{f"k{n}": key},
        )
    order = "collected_at DESC, demand_id"
    if due is not None:
        st.where("next_due_at >= {due_from} AND next_due_at < {due_until}", due_from=due[0], due_until=due[1])
        order = "next_due_at, demand_id"
    st.sql = (
        f"SELECT * FROM {dialect.table(table)}{st.where_sql} ORDER BY {order} "
        f"LIMIT {st.bind('limit', limit)} OFFSET {st.bind('offset', offset)}"
    )
    return st
