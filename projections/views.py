"""The demand index view: what the projection writes and what the CLI and HTTP API ask it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.persistence import Tracking, TrackingRecorder

from engine.lifecycle import State
from engine.vocabulary import Channel, Kind, Level, Priority
from projections import index_sql
from projections.index_models import DemandRecord, Dimension, OverdueRow, Period, RateRow, Scope

ScopeArg = Scope | tuple[str, str] | None
"""A place: a Scope, or a pair such as ("community", "Xinhua")."""


class DemandIndexView(TrackingRecorder, ABC):
    """One row per demand, written with its tracking position in one transaction; queried with SQL."""

    table: ClassVar[str] = "demand_index"
    dialect: index_sql.Dialect

    # ---- written by DemandIndexProjection ----------------------------------------------------

    cache_size: ClassVar[int] = 10_000

    @cached_property
    def _written(self) -> OrderedDict[UUID, DemandRecord]:
        # The projection is the view's only writer, so the rows it read or wrote last are the
        # stored rows: memory spares a query per event, and lets a write set only what changed.
        return OrderedDict()

    def record(self, originator_id: UUID) -> DemandRecord | None:
        """The row of the demand with this aggregate id, if it has been collected."""
        record = self._written.get(originator_id)
        if record is None:
            st = index_sql.Statement(self.dialect)
            st.where("originator_id = {id}", id=originator_id)
            rows = self._select(f"SELECT * FROM {self.dialect.table(self.table)}{st.where_sql}", st.params)
            record = DemandRecord.model_validate(rows[0]) if rows else None
        if record is not None:
            self._remember(record)
        return record

    def save(self, record: DemandRecord, tracking: Tracking) -> None:
        """Write the row and the tracking position atomically: exactly once, resumable."""
        previous = self._written.get(record.originator_id)
        if previous is None:
            sql, values = index_sql.upsert_statement(self.dialect, self.table), record.model_dump()
        else:
            # Only the changed columns, so the indexes on the unchanged ones are left alone.
            values = {name: value for name, value in record if value != getattr(previous, name)}
            values["originator_id"] = record.originator_id
            sql = index_sql.update_statement(self.dialect, self.table, tuple(values))
        self._write(sql, {k: self.dialect.value(v) for k, v in values.items()}, tracking)
        self._remember(record)  # only once committed

    def forget(self) -> None:
        """Forget the rows held in memory (the table was dropped, or changed by someone else)."""
        self._written.clear()

    def _remember(self, record: DemandRecord) -> None:
        self._written[record.originator_id] = record
        self._written.move_to_end(record.originator_id)
        if len(self._written) > self.cache_size:
            self._written.popitem(last=False)

    @abstractmethod
    def _write(self, sql: str, params: Mapping[str, object], tracking: Tracking) -> None:
        """Execute one row statement and insert the tracking position, in one transaction."""

    @abstractmethod
    def drop(self) -> None:
        """Drop the view's tables and tracking, so the next run replays from position zero."""

    @abstractmethod
    def close(self) -> None:
        """Release the view's connections."""

    @abstractmethod
    def _select(self, sql: str, params: Mapping[str, object]) -> list[dict[str, Any]]:
        """Run a read-only query; rows as dicts."""

    def track(self, tracking: Tracking) -> None:
        """Record progress past an event that changes no row."""
        self.insert_tracking(tracking)

    def __enter__(self) -> DemandIndexView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- queries ---------------------------------------------------------------------------

    def demand(self, demand_id: str) -> DemandRecord | None:
        """One demand's row, or None if the index has not seen it."""
        st = index_sql.Statement(self.dialect)
        st.where("demand_id = {demand_id}", demand_id=demand_id)
        rows = self._select(f"SELECT * FROM {self.dialect.table(self.table)}{st.where_sql}", st.params)
        return DemandRecord.model_validate(rows[0]) if rows else None

    def list_demands(
        self,
        *,
        state: State | None = None,
        open_only: bool = False,
        scope: ScopeArg = None,
        priority: Priority | None = None,
        kind: Kind | None = None,
        channel: Channel | None = None,
        category: str | None = None,
        level: Level | None = None,
        responsible_unit: str | None = None,
        claimant_unit: str | None = None,
        claimant_member: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[DemandRecord]:
        """The ticket index: demands matching every given filter, most recently collected first."""
        equals: dict[str, object] = {
            "state": state, "priority": priority, "kind": kind, "channel": channel,
            "category": category, "level": level, "responsible_unit": responsible_unit,
            "claimant_unit": claimant_unit, "claimant_member": claimant_member,
        }  # fmt: skip
        st = index_sql.list_statement(
            self.dialect, self.table, equals=equals, open_only=open_only, scope=Scope.of(scope),
            since=since, until=until, limit=limit, offset=offset,
        )  # fmt: skip
        return [DemandRecord.model_validate(row) for row in self._select(st.sql, st.params)]

    def count_demands(self) -> int:
        """How many demands the index holds."""
        rows = self._select(f"SELECT COUNT(*) AS n FROM {self.dialect.table(self.table)}", {})
        return int(rows[0]["n"])

    def rates(
        self,
        by: Dimension | str | None = None,
        period: Period | str | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        scope: ScopeArg = None,
        now: datetime | None = None,
        utc_offset: timedelta = timedelta(0),
    ) -> list[RateRow]:
        """Closed-loop figures of the demands collected in [since, until), per group and/or period.

        Cohorts by collection time; `utc_offset` sets the local calendar of the buckets (+8h in
        China). `open_overdue` counts the cohort's open demands past their deadline at `now`.
        Raises ValueError for an unknown dimension or period.
        """
        dimension = Dimension(by) if by is not None else None
        bucket = Period(period) if period is not None else None
        st = index_sql.rates_statement(
            self.dialect, self.table, by=dimension, period=bucket, scope=Scope.of(scope),
            since=since, until=until, now=now or datetime.now(UTC), utc_offset=utc_offset,
        )  # fmt: skip
        rows = [RateRow.model_validate(row) for row in self._select(st.sql, st.params)]
        if bucket is not None:
            rows = [
                r.model_copy(update={"period": bucket.label(r.period_start) if r.period_start else None})
                for r in rows
            ]
        return rows

    def overdue(
        self,
        now: datetime,
        due_within: timedelta | None = None,
        scope: ScopeArg = None,
        priority: Priority | str | None = None,
        *,
        level: Level | str | None = None,
        limit: int = 500,
    ) -> list[OverdueRow]:
        """Open demands past their deadline at `now` (or due within `due_within`), most overdue first."""
        st = index_sql.overdue_statement(
            self.dialect, self.table, horizon=now + (due_within or timedelta(0)), scope=Scope.of(scope),
            priority=Priority(priority).value if priority is not None else None,
            level=Level(level).value if level is not None else None, limit=limit,
        )  # fmt: skip
        board = []
        for row in self._select(st.sql, st.params):
            record = DemandRecord.model_validate(row)
            assert record.due_at is not None  # the query only returns demands with a running clock
            board.append(
                OverdueRow(
                    demand_id=record.demand_id,
                    title=record.title,
                    priority=record.priority,
                    state=record.state,
                    stage=record.clock_stage,
                    level=record.level,
                    responsible_unit=record.responsible_unit,
                    due_at=record.due_at,
                    overdue_by=now - record.due_at,
                    escalations=record.escalations,
                    community=record.community,
                    grid=record.grid,
                )
            )
        return board
