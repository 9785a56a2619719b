"""The demand index view: rows staged by the projection, written with their position; SQL queries."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, ClassVar
from uuid import UUID

from engine.lifecycle import State
from engine.periods import Bucket
from engine.scope import Places
from engine.vocabulary import Channel, Kind, Level, Priority
from projections.database import Cursor, Database
from projections.index import queries
from projections.index.models import DemandRecord, Dimension, OverdueRow, RateRow, RejectionRow
from projections.sql import row_params
from projections.view import View

_CHUNK = 500
"""Demands asked about in one `IN (...)` list."""


class DemandIndexView(View):
    """One row per demand in `demand_index`; queried for listings, rates and the overdue board."""

    name = "demand_index"
    cache_size: ClassVar[int] = 10_000

    def __init__(
        self, db: Database, suffix: str = "", *, indexes: bool = True, utc_offset: timedelta = timedelta(0)
    ) -> None:
        self.utc_offset = utc_offset
        """The calendar new rollups count their days in (a rollup keeps the one it was begun in)."""
        self._rollup_offset: int | None = None
        self._rollups_pending: bool | None = None
        """Whether the rollups wait to be made from the rows at the end (decided at the first write)."""
        self._cache: OrderedDict[UUID, DemandRecord] = OrderedDict()
        self._staged: dict[UUID, DemandRecord] = {}
        self._rejections: list[RejectionRow] = []
        self._replaced_keys: dict[tuple[UUID, str], frozenset[str]] = {}
        self._added_keys: set[tuple[UUID, str]] = set()
        super().__init__(db, suffix, indexes=indexes)

    @property
    def tables(self) -> tuple[str, ...]:
        """The index table, the rejected messages, the lookup keys and the daily and monthly rollups."""
        return ("", "rejections", "keys", *ROLLUPS)

    def table_statements(self) -> list[str]:
        """The index table, the rejections, the lookup keys and the rollups, with their keys."""
        return [
            *queries.create_statements(self.dialect, self.table("")),
            *queries.create_rejections(self.dialect, self.table("rejections")),
            *queries.create_keys(self.dialect, self.table("keys")),
            *(st for rollup in ROLLUPS for st in queries.create_rollup(self.dialect, self.table(rollup))),
        ]

    def index_statements(self) -> list[str]:
        """The secondary indexes of the three tables."""
        return [
            *queries.index_statements(self.dialect, self.table("")),
            *queries.rejections_indexes(self.dialect, self.table("rejections")),
            *queries.keys_indexes(self.dialect, self.table("keys")),
        ]

    def comparable_tables(self) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
        """One row per demand, by aggregate id, and one per rejection, every column compared."""
        return {
            "": (("originator_id",), tuple(queries.COLUMNS)),
            "rejections": (("rejection_id",), tuple(queries.REJECTION_COLUMNS)),
            "keys": (("originator_id", "key"), tuple(queries.KEY_COLUMNS)),
            **{rollup: (queries.ROLLUP_KEY, tuple(queries.ROLLUP_COLUMNS)) for rollup in ROLLUPS},
        }

    def outdated(self) -> bool:
        """Whether the index table predates a column of DemandRecord, or a rollup is missing (or
        predates one of its counts): views are rebuilt, never migrated."""
        try:
            self.db.select(f"SELECT {', '.join(queries.COLUMNS)} FROM {self.qualified('')} WHERE 1 = 0")
            for rollup in ROLLUPS:
                self.db.select(
                    f"SELECT {', '.join(queries.ROLLUP_COLUMNS)} FROM {self.qualified(rollup)} WHERE 1 = 0"
                )
        except Exception:
            return True
        return False

    # ---- written by DemandIndexProjection ------------------------------------------------------

    def record(self, originator_id: UUID) -> DemandRecord | None:
        """The row of the demand with this aggregate id (as staged, cached or stored), if collected."""
        record = self._staged.get(originator_id) or self._cache.get(originator_id)
        if record is None:
            rows = self.db.select(
                f"SELECT * FROM {self.qualified('')} WHERE originator_id = {self.dialect.param('id')}",
                {"id": str(originator_id)},
            )
            record = DemandRecord.model_validate(rows[0]) if rows else None
            if record is not None:
                self._remember(record)
        return record

    def save(self, record: DemandRecord) -> None:
        """Stage a row; it is written with the position at the next commit."""
        self._staged[record.originator_id] = record

    def replace_keys(self, originator_id: UUID, kind: str, keys: frozenset[str]) -> None:
        """Stage a demand's keys of one kind (`member`) as exactly these, the ones it had before gone."""
        self._replaced_keys[(originator_id, kind)] = keys

    def add_keys(self, originator_id: UUID, keys: set[str]) -> None:
        """Stage more keys of a demand (a resident's, which it keeps)."""
        self._added_keys.update((originator_id, key) for key in keys)

    def reject(self, rejection: RejectionRow) -> None:
        """Stage a rejected message; written with the position at the next commit."""
        self._rejections.append(rejection)

    def flush(self, cursor: Cursor) -> None:
        """Upsert every staged row (and what they count in the rollups), keep the rejections, and
        write the lookup keys."""
        if self._staged:
            sql = queries.upsert_statement(self.dialect, self.table(""))
            rows = (row_params(self.dialect, record) for record in self._staged.values())
            if self._pending(cursor):
                cursor.executemany(sql, rows)
            else:
                ids = [str(originator_id) for originator_id in self._staged]
                before = self._contributions(cursor, ids)
                cursor.executemany(sql, rows)
                self._roll_up(cursor, before, self._contributions(cursor, ids))
        if self._rejections:
            cursor.executemany(
                queries.insert_rejection_statement(self.dialect, self.table("rejections")),
                (row_params(self.dialect, rejection) for rejection in self._rejections),
            )
        keys = self.table("keys")
        if self._replaced_keys:
            cursor.executemany(
                queries.delete_keys_statement(self.dialect, keys),
                ({"id": str(o), "pattern": f"{kind}:%"} for o, kind in self._replaced_keys),
            )
        written = {
            (o, key) for (o, _), held in self._replaced_keys.items() for key in held
        } | self._added_keys
        if written:
            cursor.executemany(
                queries.insert_key_statement(self.dialect, keys),
                (
                    {"id": str(o), "key": key}
                    for o, key in sorted(written)  # ids order as their text does: by their digits
                ),
            )

    def _pending(self, cursor: Cursor) -> bool:
        """Whether the rows are written without their rollups, which are made from them once the
        writer has caught up (`create_indexes`): so a view filled from event zero (its rollups empty
        while it defers its indexes; after a crash too) does not count every page twice over."""
        if self._rollups_pending is None:
            empty = not cursor.execute(f"SELECT 1 FROM {self.qualified('days')} LIMIT 1").fetchall()
            self._rollups_pending = empty and not self.indexed
        return self._rollups_pending

    def create_indexes(self) -> None:
        """Make the rollups from the rows if they were deferred, then the secondary indexes; a view
        filled from zero so is then readied for reading (`Database.tidy`)."""
        filled = bool(self._rollups_pending)
        if self._rollups_pending:
            with self.db.transaction() as cursor:
                offset = self._calendar(cursor)
                for rollup, bucket in (("days", Bucket.DAY), ("months", Bucket.MONTH)):
                    cursor.execute(f"DELETE FROM {self.qualified(rollup)}")
                    statement = queries.rollup_build_statement(
                        self.dialect, self.table(""), self.table(rollup), bucket
                    )
                    cursor.execute(statement, {"offset": offset})
            self._rollups_pending = False
        super().create_indexes()
        if filled:
            self.db.tidy(self.qualified(part) for part in self.tables)

    def _contributions(self, cursor: Cursor, ids: list[str]) -> dict[tuple[object, ...], dict[str, int]]:
        """What the stored rows of these demands count in the rollups, per local day and place."""
        offset = self._calendar(cursor)
        counted: dict[tuple[object, ...], dict[str, int]] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            sql = queries.rollup_contributions(self.dialect, self.table(""), len(chunk))
            params: dict[str, object] = {f"i{n}": i for n, i in enumerate(chunk)} | {"offset": offset}
            for row in cursor.execute(sql, params).fetchall():
                key = tuple(row[name] for name in queries.ROLLUP_KEY)
                counts = counted.setdefault(key, dict.fromkeys(queries.COHORT_COUNTS, 0))
                for name in queries.COHORT_COUNTS:
                    counts[name] += int(row[name])
        return counted

    def _roll_up(
        self,
        cursor: Cursor,
        before: dict[tuple[object, ...], dict[str, int]],
        after: dict[tuple[object, ...], dict[str, int]],
    ) -> None:
        """Add to the rollups what the rows written changed: their counts now less their counts
        before, per day and, summed, per month."""
        offset = self._calendar(cursor)
        daily = _changes(before, after)
        monthly = _changes(_by_month(before), _by_month(after))
        for rollup, changes in (("days", daily), ("months", monthly)):
            table = self.table(rollup)
            for change in changes:
                change["day"] = self.dialect.value(change["day"])
            if changes:
                cursor.executemany(
                    queries.rollup_add_statement(self.dialect, table),
                    (change | {"utc_offset_s": offset} for change in changes),
                )
            emptied = [
                {name: change[name] for name in queries.ROLLUP_KEY}
                for change in changes
                if change["collected"] < 0
            ]
            if emptied:
                cursor.executemany(queries.rollup_prune_statement(self.dialect, table), emptied)

    def _calendar(self, cursor: Cursor) -> int:
        """The offset (seconds) the rollups count their days in: the one they were begun in, else ours."""
        if self._rollup_offset is None:
            rows = cursor.execute(f"SELECT utc_offset_s FROM {self.qualified('days')} LIMIT 1").fetchall()
            self._rollup_offset = (
                int(rows[0]["utc_offset_s"]) if rows else int(self.utc_offset.total_seconds())
            )
        return self._rollup_offset

    def committed(self) -> None:
        """The projection is the only writer, so rows it wrote are the stored rows: keep them."""
        for record in self._staged.values():
            self._remember(record)
        self._staged.clear()
        self._rejections.clear()
        self._replaced_keys.clear()
        self._added_keys.clear()

    def discard(self) -> None:
        """Forget staged and cached rows."""
        self._rollup_offset = None
        self._staged.clear()
        self._rejections.clear()
        self._cache.clear()
        self._replaced_keys.clear()
        self._added_keys.clear()

    def _remember(self, record: DemandRecord) -> None:
        self._cache[record.originator_id] = record
        self._cache.move_to_end(record.originator_id)
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    # ---- queries ---------------------------------------------------------------------------

    def demand(self, demand_id: str) -> DemandRecord | None:
        """One demand's row, or None if the index has not seen it."""
        rows = self.db.select(
            f"SELECT * FROM {self.qualified('')} WHERE demand_id = {self.dialect.param('d')}",
            {"d": demand_id},
        )
        return DemandRecord.model_validate(rows[0]) if rows else None

    def list_demands(
        self,
        *,
        state: State | None = None,
        open_only: bool = False,
        scope: Places = None,
        priority: Priority | None = None,
        kind: Kind | None = None,
        channel: Channel | None = None,
        category: str | None = None,
        level: Level | None = None,
        responsible_unit: str | None = None,
        claimant_unit: str | None = None,
        claimant_member: str | None = None,
        holder: str | None = None,
        keys: tuple[str, ...] = (),
        due: tuple[datetime, datetime] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[DemandRecord]:
        """The ticket index: demands matching every given filter, most recently collected first.

        `holder`: held by this member, as the lead or a co-claimant. `keys`: lookup keys the demand
        has (a resident's keyed phone or name hash, `engine.lookup`). `due`: its next deadline falls
        in [from, until), soonest first.
        """
        equals: dict[str, object] = {
            "state": state, "priority": priority, "kind": kind, "channel": channel,
            "category": category, "level": level, "responsible_unit": responsible_unit,
            "claimant_unit": claimant_unit, "claimant_member": claimant_member,
        }  # fmt: skip
        st = queries.list_statement(
            self.dialect, self.table(""), equals=equals, open_only=open_only, scope=scope,
            since=since, until=until, limit=limit, offset=offset, keys_table=self.table("keys"),
            keys=(*keys, *((f"member:{holder}",) if holder is not None else ())), due=due,
        )  # fmt: skip
        return [DemandRecord.model_validate(row) for row in self.db.select(st.sql, st.params)]

    def holders(self, demand_id: str) -> tuple[str, ...]:
        """Everyone who holds the demand now, the lead first (co-claimants from the lookup keys)."""
        found = self.parties(demand_id)
        return found[1] if found is not None else ()

    def parties(self, demand_id: str) -> tuple[DemandRecord, tuple[str, ...], frozenset[str]] | None:
        """The demand's row, who holds it (the lead first, then co-claimants) and its reporters' keyed
        hashes (`engine.lookup`: who may act as its resident), in two reads; None if not indexed."""
        record = self.demand(demand_id)
        if record is None:
            return None
        rows = self.db.select(
            f"SELECT key FROM {self.qualified('keys')} WHERE originator_id = {self.dialect.param('id')} "
            "ORDER BY key",
            {"id": str(record.originator_id)},
        )
        keys = [str(row["key"]) for row in rows]
        members = [k.removeprefix("member:") for k in keys if k.startswith("member:")]
        lead = record.claimant_member
        holders = () if lead is None else (lead, *(m for m in members if m != lead))
        return record, holders, frozenset(k for k in keys if not k.startswith("member:"))

    def forget_keys(self, keys: Sequence[str]) -> int:
        """Drop these lookup keys (a forgotten resident's) from every demand; how many rows went.

        A rebuild does not bring them back: a forgotten resident's events have no keys."""
        if self.outdated():
            return 0  # no index yet (or one to be rebuilt, without them)
        gone = 0
        with self.db.transaction() as cursor:
            for key in keys:
                cursor.execute(
                    f"DELETE FROM {self.qualified('keys')} WHERE key = {self.dialect.param('key')}",
                    {"key": key},
                )
                gone += cursor.rowcount
        return gone

    def rejections(
        self, *, demand_id: str | None = None, since: datetime | None = None, limit: int = 100
    ) -> list[RejectionRow]:
        """Messages the workflows could not take (rejected pushes, amendments, signals), newest first."""
        st = queries.rejections_statement(
            self.dialect, self.table("rejections"), demand_id=demand_id, since=since, limit=limit
        )
        return [RejectionRow.model_validate(row) for row in self.db.select(st.sql, st.params)]

    def count_demands(self) -> int:
        """How many demands the index holds."""
        return int(self.db.select(f"SELECT COUNT(*) AS n FROM {self.qualified('')}")[0]["n"])

    def rates(
        self,
        by: Dimension | str | None = None,
        per: Bucket | str | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        scope: Places = None,
        now: datetime | None = None,
        utc_offset: timedelta = timedelta(0),
        rollup: bool = True,
    ) -> list[RateRow]:
        """Closed-loop figures of the demands collected in [since, until), per group and/or bucket,
        ordered by bucket, then group.

        Cohorts by collection time; `utc_offset` sets the local calendar of the buckets (+8h in
        China). `open_overdue` counts the cohort's open demands past their deadline at `now`.
        Grouped by a place (or not at all), over whole local days in the views' calendar, the counts
        come from a rollup (the monthly one for months, years or all at once over whole months, the
        daily one else) and only the demands late at `now` from the index: the same figures as the
        index's scan (`rollup=False`: the scan alone), in time that does not grow with the store.
        Raises ValueError for an unknown dimension or bucket.
        """
        dimension = Dimension(by) if by is not None else None
        bucket = Bucket(per) if per is not None else None
        moment = now or datetime.now(UTC)
        rows: list[dict[str, Any]] | None = None
        if rollup:
            rows = self._rates_from_rollup(dimension, bucket, since, until, scope, moment, utc_offset)
        if rows is None:
            st = queries.rates_statement(
                self.dialect, self.table(""), by=dimension, per=bucket, scope=scope,
                since=since, until=until, now=moment, utc_offset=utc_offset,
            )  # fmt: skip
            rows = self.db.select(st.sql, st.params)
            for row in rows:
                row["period_start"] = _day(row["period_start"])
        rows.sort(key=lambda r: (r["period_start"] or date.min, r["key"] or ""))
        return [
            RateRow.model_validate(
                row
                | {"period": bucket.label(row["period_start"]) if bucket and row["period_start"] else None}
            )
            for row in rows
        ]

    def _rates_from_rollup(
        self,
        by: Dimension | None,
        per: Bucket | None,
        since: datetime | None,
        until: datetime | None,
        scope: Places,
        now: datetime,
        utc_offset: timedelta,
    ) -> list[dict[str, Any]] | None:
        """The rates' counts from a rollup, or None where none can answer (then the index is scanned)."""
        if by is not None and by.value not in queries.PLACES:
            return None
        bounds = [_local_day(moment, utc_offset) for moment in (since, until) if moment is not None]
        if None in bounds:
            return None  # a window that does not fall on whole local days
        monthly = per in (None, Bucket.MONTH, Bucket.YEAR) and all(day.day == 1 for day in bounds if day)
        rollup = "months" if monthly else "days"
        offset = int(utc_offset.total_seconds())
        try:
            held = self.db.select(f"SELECT utc_offset_s FROM {self.qualified(rollup)} LIMIT 1")
        except Exception:
            return None  # no rollup (yet): the index answers
        if not held:
            return None  # none counted yet (a view filled from zero makes them at the end): the index answers
        if int(held[0]["utc_offset_s"]) != offset:
            return None  # counted in another calendar
        st = queries.rollup_rates_statement(
            self.dialect, self.table(rollup), by=by, scope=scope, utc_offset_s=offset,
            since=_local_day(since, utc_offset), until=_local_day(until, utc_offset),
        )  # fmt: skip
        figures: dict[tuple[str | None, date | None], dict[str, int]] = {}
        names = tuple(queries.COHORT_COUNTS)
        for row in self.db.select(st.sql, st.params):
            day = _day(row["period_start"])
            assert day is not None
            group = (row["key"], per.start(day) if per is not None else None)
            counts = figures.get(group)
            if counts is None:  # most groups are one row of the rollup (a month per month)
                figures[group] = {name: int(row[name]) for name in names}
            else:
                for name in names:
                    counts[name] += int(row[name])
        if by is None and per is None and not figures:
            figures[(None, None)] = dict.fromkeys(queries.COHORT_COUNTS, 0)  # as the scan: one row
        late = queries.rates_statement(
            self.dialect, self.table(""), by=by, per=per, scope=scope,
            since=since, until=until, now=now, utc_offset=utc_offset, late_only=True,
        )  # fmt: skip
        overdue = {
            (row["key"], _day(row["period_start"])): int(row["open_overdue"])
            for row in self.db.select(late.sql, late.params)
        }
        return [
            {"key": key, "period_start": start, **counts, "open_overdue": overdue.get((key, start), 0)}
            for (key, start), counts in figures.items()
        ]

    def overdue(
        self,
        now: datetime,
        due_within: timedelta | None = None,
        scope: Places = None,
        priority: Priority | str | None = None,
        *,
        level: Level | str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[OverdueRow]:
        """A page of the open demands past their promise at `now` (or due within `due_within`), most
        overdue first: `limit` rows after the first `offset`.

        Overdue is past the promise: a demand stays on the board, whatever rung the escalations
        took it to, until it ends. Demands collected before promises count by their step deadline.
        """
        horizon = now + (due_within or timedelta(0))
        return self._board(now, horizon, None, scope, priority, level, limit, offset)

    def due(
        self, now: datetime, until: datetime, scope: Places = None, *, limit: int = 50, offset: int = 0
    ) -> list[OverdueRow]:
        """A page of the open demands not yet overdue at `now` that will be by `until`, soonest first."""
        return self._board(now, until, now, scope, None, None, limit, offset)

    def _board(
        self,
        now: datetime,
        horizon: datetime,
        after: datetime | None,
        scope: Places,
        priority: Priority | str | None,
        level: Level | str | None,
        limit: int,
        offset: int,
    ) -> list[OverdueRow]:
        st = queries.overdue_statement(
            self.dialect, self.table(""), horizon=horizon, scope=scope,
            priority=Priority(priority).value if priority is not None else None,
            level=Level(level).value if level is not None else None, limit=limit, offset=offset,
            after=after,
        )  # fmt: skip
        board = []
        for row in self.db.select(st.sql, st.params):
            record = DemandRecord.model_validate(row)
            late_from = record.promised_by or record.due_at
            assert late_from is not None  # the query only returns demands with a deadline
            started = record.promise_started_at
            board.append(
                OverdueRow(
                    demand_id=record.demand_id, title=record.title, priority=record.priority,
                    state=record.state, level=record.level, responsible_unit=record.responsible_unit,
                    promised_by=late_from,
                    limit=late_from - started if record.promised_by and started else None,
                    overdue_by=now - late_from, escalations=record.escalations, stage=record.clock_stage,
                    step_due_at=record.due_at, community=record.community, grid=record.grid,
                )
            )  # fmt: skip
        return board


ROLLUPS = ("days", "months")
"""The rollups beside the index: the cohorts' counts per local day and grid, and per local month."""


def _local_day(moment: datetime | None, utc_offset: timedelta) -> date | None:
    """The local day `moment` begins, if it is the very start of one (else None)."""
    if moment is None:
        return None
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(timezone(utc_offset))
    return local.date() if local.time() == time(0) else None


Counted = dict[tuple[object, ...], dict[str, int]]
"""Counts per rollup key (day and places)."""


def _by_month(counted: Counted) -> Counted:
    """Daily counts summed per month (keyed by the month's first day)."""
    months: Counted = {}
    for (day, *places), counts in counted.items():
        first = _day(day)
        assert first is not None
        key = (first.replace(day=1), *places)
        summed = months.setdefault(key, dict.fromkeys(queries.COHORT_COUNTS, 0))
        for name, value in counts.items():
            summed[name] += value
    return months


def _changes(before: Counted, after: Counted) -> list[dict[str, Any]]:
    """What to add to a rollup, key by key, for its counts to go from `before` to `after`."""
    changes = []
    for key in sorted(before.keys() | after.keys(), key=str):
        was, now = before.get(key, {}), after.get(key, {})
        delta = {name: now.get(name, 0) - was.get(name, 0) for name in queries.COHORT_COUNTS}
        if any(delta.values()):
            changes.append(dict(zip(queries.ROLLUP_KEY, key, strict=True)) | delta)
    return changes


def _day(value: object) -> date | None:
    """A day as the database gives it back (a date, or ISO text on SQLite)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
