"""The demand index's row and the shapes its queries return: rates, the overdue board, dimensions."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, computed_field

from engine.lifecycle import PROMISED, State, Step
from engine.status import DemandStatus
from engine.values import Claimant, Clock, Location, clean_line
from engine.vocabulary import Channel, Kind, Level, Outcome, Priority, Rating, Stage


class Dimension(StrEnum):
    """What rates can be grouped by: a place on the ladder or a property of the demand."""

    GRID = "grid"
    COMMUNITY = "community"
    STREET = "street"
    DISTRICT = "district"
    CITY = "city"
    CHANNEL = "channel"
    CATEGORY = "category"
    PRIORITY = "priority"
    POST = "post"
    LEVEL = "level"
    """The rung of the ladder a demand stands at now: every escalation moves it one rung up."""


class DemandRecord(BaseModel):
    """One demand in the index: where it stands, who holds it, its clock. No personal data."""

    model_config = ConfigDict(frozen=True)

    originator_id: UUID
    demand_id: str
    source: str
    external_id: str
    kind: Kind
    title: str
    channel: Channel
    category: str
    priority: Priority
    post: str | None
    city: str
    district: str
    street: str
    community: str
    grid: str
    state: State
    level: Level
    responsible_unit: str
    claimant_member: str | None = None
    claimant_unit: str | None = None
    clock_stage: Stage | None = None
    clock_on_due: Step | None = None
    clock_started_at: datetime | None = None
    warn_at: datetime | None = None
    due_at: datetime | None = None
    warned: bool = False
    overdue: bool = False
    promise_started_at: datetime | None = None
    promise_warn_at: datetime | None = None
    promised_by: datetime | None = None
    """The promise's deadline (the 2310 limit, extended if it was): past it, the demand is overdue."""
    promise_warned: bool = False
    late: bool = False
    """It broke its promise and has not ended since (cleared when it ends)."""
    next_due_at: datetime | None = None
    """Its next deadline: the promise while it runs, or its step's on its rung, whichever is first."""
    escalations: int = 0
    reopened: int = 0
    duplicates: int = 0
    commendations: int = 0
    rating: Rating | None = None
    outcome: Outcome | None = None
    on_time: bool | None = None
    merged_into: str | None = None
    collected_at: datetime
    claimed_at: datetime | None = None
    closed_at: datetime | None = None
    withdrawn_at: datetime | None = None
    updated_at: datetime
    version: int
    last_notification_id: int

    def status(self) -> DemandStatus:
        """The row as a demand's status, as `microdemand status` shows it (co-claimants are not indexed)."""
        clock = None
        if self.clock_stage is not None and self.due_at is not None:
            clock = Clock(
                stage=self.clock_stage, started_at=self.clock_started_at or self.updated_at,
                warn_at=self.warn_at, due_at=self.due_at, on_due=self.clock_on_due or Step.MARK_OVERDUE,
            )  # fmt: skip
        promise = None
        if self.promise_started_at is not None and self.promised_by is not None:
            promise = Clock(
                stage=Stage.HANDLE, started_at=self.promise_started_at, warn_at=self.promise_warn_at,
                due_at=self.promised_by,
            )  # fmt: skip
        claimant = None
        if self.claimant_member is not None and self.claimant_unit is not None:
            claimant = Claimant(member=self.claimant_member, unit=self.claimant_unit)
        location = Location(
            city=self.city,
            district=self.district,
            street=self.street,
            community=self.community,
            grid=self.grid,
        )
        return DemandStatus(
            demand_id=self.demand_id, state=self.state, version=self.version, kind=self.kind,
            title=self.title, channel=self.channel, category=self.category, priority=self.priority,
            post=self.post, location=location, level=self.level, responsible_unit=self.responsible_unit,
            claimant=claimant, clock=clock, warned=self.warned, overdue=self.overdue, promise=promise,
            promise_warned=self.promise_warned, late=self.late,
            escalations=self.escalations, reopened=self.reopened, rating=self.rating, outcome=self.outcome,
            merged_into=self.merged_into, collected_at=self.collected_at, closed_at=self.closed_at,
            updated_at=self.updated_at,
        )  # fmt: skip


def next_deadline(
    state: State,
    promised_by: datetime | None,
    late: bool,
    due_at: datetime | None,
    on_due: Step | None,
    overdue: bool,
) -> datetime | None:
    """A demand's next deadline: its promise while it runs, or its step's (claim, an escalation
    window, follow-up), whichever comes first; the evaluation window is nobody's deadline."""
    if not state.is_open:
        return None
    promise = promised_by if promised_by is not None and state in PROMISED and not late else None
    step = due_at if on_due is Step.MARK_OVERDUE and not overdue else None
    return min((d for d in (promise, step) if d is not None), default=None)


Quoted = Annotated[str, BeforeValidator(lambda text: clean_line(str(text), 1000))]
"""Text a sender chose, as stored before the store cleaned it: printable, bounded (PostgreSQL
refuses NUL, and one such row must not stop the view)."""


class RejectionRow(BaseModel):
    """A message to a demand's workflow that could not be taken: which, why, when (never its payload)."""

    model_config = ConfigDict(frozen=True)

    rejection_id: UUID
    demand_id: Quoted
    message: Quoted
    reason: Quoted
    at: datetime
    notification_id: int


def _ratio(numerator: int, denominator: int) -> float | None:
    # None, not 0: "no demand was collected" is not "none was claimed".
    return numerator / denominator if denominator else None


class RollupRow(BaseModel):
    """One day's (or, in the monthly rollup, one month's) cohort in one grid: the demands collected
    that local day (or month) at the rollup's offset from UTC."""

    day: date
    """The local day (in the monthly rollup, the month's first)."""
    city: str
    district: str
    street: str
    community: str
    grid: str
    utc_offset_s: int
    """The offset from UTC of the calendar its months are counted in (seconds)."""
    collected: int
    claimed: int
    closed: int
    closed_on_time: int
    withdrawn: int
    merged: int
    rated: int
    satisfied: int
    escalations: int


class RateRow(BaseModel):
    """The closed-loop figures of one group and/or bucket (or of everything).

    Counts are of demands collected in the period; a merged duplicate counts only as `merged`.
    The rates are derived from the counts here, once, for the live, as-of and what-if figures
    alike: computed when read or dumped, never given or stored, so a row cannot disagree with itself.
    """

    model_config = ConfigDict(frozen=True)

    key: str | None = None
    period: str | None = None
    period_start: date | None = None
    collected: int = 0
    claimed: int = 0
    closed: int = 0
    closed_on_time: int = 0
    withdrawn: int = 0
    merged: int = 0
    rated: int = 0
    satisfied: int = 0
    escalations: int = 0
    open_overdue: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def claim_rate(self) -> float | None:
        """claimed / (collected - merged): one problem reported twice is one demand."""
        return _ratio(self.claimed, self.collected - self.merged)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def completion_rate(self) -> float | None:
        """closed / (collected - merged - withdrawn): nobody failed a withdrawal."""
        return _ratio(self.closed, self.collected - self.merged - self.withdrawn)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def on_time_rate(self) -> float | None:
        """closed on time / (closed + open and overdue at the cut-off)."""
        return _ratio(self.closed_on_time, self.closed + self.open_overdue)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def satisfaction_rate(self) -> float | None:
        """(satisfied + basically satisfied) / rated."""
        return _ratio(self.satisfied, self.rated)


class OverdueRow(BaseModel):
    """One line of the overdue board: an open demand past (or near) its promise."""

    model_config = ConfigDict(frozen=True)

    demand_id: str
    title: str
    priority: Priority
    state: State
    level: Level
    """The rung it stands on now."""
    responsible_unit: str
    promised_by: datetime
    """The promise's deadline: the 2310 limit from collection (or a reopen), extended if it was."""
    limit: timedelta | None
    """How long it was promised (2 / 3 / 10 days, with any extension); None before promises."""
    overdue_by: timedelta
    """How late it is; negative: the time left before the promise's deadline."""
    escalations: int
    stage: Stage | None
    """What its rung waits for now (claim, handle, follow-up), if a step clock runs."""
    step_due_at: datetime | None
    """The rung's own deadline for that step (the next escalation)."""
    community: str
    grid: str
