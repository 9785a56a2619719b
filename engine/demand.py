"""The MicroDemand aggregate: one demand's closed loop, every step an event named by the seeds' verbs.

Public methods take a validated command, the time it happened (the workflow's clock) and the
time-limit policy; they check `engine.rules` (the one transition table) and trigger events.
The `@event` methods below them are the state changes, replayed when the demand is loaded.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from engine import commands as c
from engine import lifecycle, rules
from engine.eventmodel import Aggregate
from engine.lifecycle import PROMISED, State, Step
from engine.policies.timelimits import TimeLimits
from engine.status import DemandStatus
from engine.values import Claimant, Clock, Location, Resident
from engine.vocabulary import Channel, Kind, Level, Outcome, Priority, Rating, Stage


def aggregate_id(demand_id: str) -> UUID:
    """The stored aggregate's id: a UUID derived from the demand id, the same on every machine."""
    return uuid5(NAMESPACE_URL, f"microdemand:{demand_id}")


class MicroDemand(Aggregate):
    """A micro-wish or micro-appeal moving collected → claimed → handled → followed up → closed."""

    @staticmethod
    def create_id(demand_id: str) -> UUID:
        """Deterministic ids make a repeated collect collide instead of duplicating."""
        return aggregate_id(demand_id)

    # ---- commands -------------------------------------------------------------------------

    @classmethod
    def collect(cls, cmd: c.Submission, at: datetime, limits: TimeLimits) -> MicroDemand:
        """Record a new demand (征集/登记) and start its claim clock."""
        rules.check(DemandStatus(demand_id=cmd.demand_id), cmd)
        return cls(
            demand_id=cmd.demand_id,
            source=cmd.source,
            external_id=cmd.external_id,
            kind=cmd.kind,
            title=cmd.title,
            description=cmd.description,
            channel=cmd.channel,
            category=cmd.category,
            priority=cmd.priority,
            post=cmd.post,
            location=cmd.location,
            resident=cmd.resident,
            reported_at=cmd.reported_at,
            clock=limits.clock(Stage.CLAIM, cmd.priority, at),
            promise=limits.promise(cmd.priority, at),
            timestamp=at,
        )

    def apply(self, cmd: c.Command, at: datetime, limits: TimeLimits) -> None:
        """Check `cmd` against the rules, then record it with its verb's method (lifecycle.Refused if not)."""
        rules.check(self.status(), cmd)
        getattr(self, cmd.step.value)(cmd, at, limits)

    # One method per verb, named by its step; each is called by `apply` once the rules allow it.

    def amend(self, cmd: c.Amend, at: datetime, limits: TimeLimits) -> None:
        """The platform's changed content replaces the demand's; a new priority restarts the claim
        clock and the promise from when they started (a promise already broken stays broken)."""
        clock = promise = None
        if cmd.priority is not self.priority:
            if self.clock is not None:
                clock = limits.clock(Stage.CLAIM, cmd.priority, self.clock.started_at)
            if self.promise is not None and not self.late:
                promise = limits.promise(cmd.priority, self.promise.started_at)
        content = cmd.model_dump(exclude={"step", "actor"})
        content["resident"] = self._kept_resident(cmd.resident)
        self._amended(**content, clock=clock, promise=promise, timestamp=at)

    def _kept_resident(self, resident: Resident) -> Resident:
        """A forgotten resident (a payload replayed after their key was destroyed) changes nothing."""
        return self.reporters[0] if resident.forgotten else resident

    def supplement(self, cmd: c.Supplement, at: datetime, limits: TimeLimits) -> None:
        """The resident adds text or attachments."""
        self._supplemented(by=cmd.by, text=cmd.text, attachments=cmd.attachments, timestamp=at)

    def holds(self, content: c.Amend) -> bool:
        """Whether the demand already holds exactly this content (a repeated push changes nothing)."""
        held = c.Amend(
            kind=self.kind, title=self.title, description=self.description, channel=self.channel,
            category=self.category, priority=self.priority, post=self.post, location=self.location,
            resident=self.reporters[0], reported_at=self.reported_at,
        )  # fmt: skip
        return held == content.model_copy(
            update={"actor": None, "resident": self._kept_resident(content.resident)}
        )

    def dispatch(self, cmd: c.Dispatch, at: datetime, limits: TimeLimits) -> None:
        """The community offers the demand to a post, a group or a member (派单)."""
        self._dispatched(by=cmd.by, to=cmd.to, note=cmd.note, timestamp=at)

    def claim(self, cmd: c.Claim, at: datetime, limits: TimeLimits) -> None:
        """A member and their unit take it; the promise, running since collection, is its deadline."""
        claimant = Claimant(member=cmd.member, unit=cmd.unit, co_claimants=cmd.co_claimants)
        self._claimed(claimant=claimant, clock=self._handling_clock(at, limits), timestamp=at)

    def release(self, cmd: c.Release, at: datetime, limits: TimeLimits) -> None:
        """The holder gives it back; the claim clock starts again."""
        clock = limits.clock(Stage.CLAIM, self.priority, at)
        self._released(member=cmd.member, reason=cmd.reason, clock=clock, timestamp=at)

    def handle(self, cmd: c.Handle, at: datetime, limits: TimeLimits) -> None:
        """The holder reports it done; the follow-up clock starts."""
        clock = limits.clock(Stage.FOLLOW_UP, self.priority, at)
        self._handled(
            member=cmd.member, hours=cmd.hours, note=cmd.note, evidence=cmd.evidence, clock=clock,
            timestamp=at,
        )  # fmt: skip

    def follow_up(self, cmd: c.FollowUp, at: datetime, limits: TimeLimits) -> None:
        """The community records whether it is resolved; unresolved reopens it."""
        clock = limits.clock(Stage.EVALUATE, self.priority, at)
        self._followed_up(worker=cmd.worker, resolved=cmd.resolved, note=cmd.note, clock=clock, timestamp=at)
        if not cmd.resolved:
            self._reopen(cmd.worker, "follow-up found it unresolved", at, limits)

    def evaluate(self, cmd: c.Evaluate, at: datetime, limits: TimeLimits) -> None:
        """The resident's rating: a positive one closes it, an unsatisfied one reopens it."""
        self._evaluated(rating=cmd.rating, comment=cmd.comment, by=cmd.by, timestamp=at)
        if cmd.rating.is_positive:
            self._closed(outcome=cmd.rating.outcome, on_time=self.on_time, timestamp=at)
        else:
            self._reopen(cmd.by, "the resident is unsatisfied", at, limits)

    def close(self, cmd: c.CloseUnrated, at: datetime, limits: TimeLimits) -> None:
        """The evaluation window passed without a rating: close it as not rated."""
        self._closed(outcome=Outcome.NOT_RATED, on_time=self.on_time, timestamp=at)

    def withdraw(self, cmd: c.Withdraw, at: datetime, limits: TimeLimits) -> None:
        """The resident withdraws it."""
        self._withdrawn(by=cmd.by, reason=cmd.reason, timestamp=at)

    def merge(self, cmd: c.Merge, at: datetime, limits: TimeLimits) -> None:
        """It closes as a duplicate of another demand."""
        self._merged(by=cmd.by, into=cmd.into, reason=cmd.reason, timestamp=at)

    def escalate(self, cmd: c.Escalate, at: datetime, limits: TimeLimits) -> None:
        """An operator moves it one level up the ladder."""
        self._escalate(cmd.by, cmd.reason, at, limits, automatic=False)

    def transfer(self, cmd: c.Transfer, at: datetime, limits: TimeLimits) -> None:
        """An operator hands it to another unit (转办)."""
        self._transferred(
            by=cmd.by, from_unit=self.responsible_unit, to_unit=cmd.to_unit, reason=cmd.reason, timestamp=at
        )

    def reassign(self, cmd: c.Reassign, at: datetime, limits: TimeLimits) -> None:
        """An operator gives the claim to another member."""
        claimant = Claimant(member=cmd.member, unit=cmd.unit)
        self._reassigned(by=cmd.by, claimant=claimant, reason=cmd.reason, timestamp=at)

    def extend(self, cmd: c.Extend, at: datetime, limits: TimeLimits) -> None:
        """An operator moves the running deadlines later: the step clock's, and the promise's while it
        still runs (a promise already broken stays broken: the demand was late)."""
        clock = limits.extended(self.clock, cmd.extra) if self.clock is not None else None
        promise = limits.extended(self.promise, cmd.extra) if self.promise and self.promise_running else None
        if clock is None and promise is None:  # pragma: no cover - every open state has a deadline
            raise lifecycle.Refused(self.demand_id, self.state, Step.EXTEND, "no time limit is running")
        self._extended(
            by=cmd.by, extra=cmd.extra, reason=cmd.reason, clock=clock, promise=promise, timestamp=at
        )

    def warn(self, cmd: c.Warn, at: datetime, limits: TimeLimits) -> None:
        """The timer: a limit is nearly used up (the promise's, or the step clock's); once per clock."""
        on_promise = self.status().timer_acts_on_promise(Step.WARN)
        clock = self._timed_clock(on_promise)
        self._warned(stage=clock.stage, due_at=clock.due_at, promise=on_promise, timestamp=at)

    def mark_overdue(self, cmd: c.MarkOverdue, at: datetime, limits: TimeLimits) -> None:
        """The timer: a deadline passed; escalate one level unless at the top.

        Past the promise, the demand is late until it ends, whatever rung it reaches; past a step
        clock's deadline (the claim, an escalation window, the follow-up), it only moves up.
        """
        on_promise = self.status().timer_acts_on_promise(Step.MARK_OVERDUE)
        clock = self._timed_clock(on_promise)
        self._overdue(
            stage=clock.stage, due_at=clock.due_at, level=self.level, promise=on_promise, timestamp=at
        )
        if self.level.above is not None:
            what = "the promised time limit" if on_promise else f"the {clock.stage.value} deadline"
            self._escalate("system", f"{what} passed", at, limits, True)

    def commend(self, cmd: c.Commend, at: datetime, limits: TimeLimits) -> None:
        """Praise for good work, which earns the claimants points."""
        self._commended(by=cmd.by, note=cmd.note, timestamp=at)

    def absorb(self, cmd: c.Absorb, reporters: list[Resident], at: datetime) -> None:
        """Take in a merged duplicate's reporters, so they get the same feedback."""
        rules.check(self.status(), cmd)
        for reporter in reporters:
            self._absorbed(by=cmd.by, duplicate_id=cmd.duplicate_id, reporter=reporter, timestamp=at)

    def reopen(self, cmd: c.Complain, at: datetime, limits: TimeLimits) -> None:
        """A late complaint reopens a closed demand, with a fresh promise (its points are given back)."""
        self._reopen(cmd.by, cmd.reason, at, limits)

    def _reopen(self, by: str, reason: str, at: datetime, limits: TimeLimits) -> None:
        """Back to the claimant: a fresh promise from now, unless the demand is late already (then it
        stays late, and its rung's window runs from now)."""
        promise = None
        if self.promise is None:  # collected before promises: a fresh handling clock, as then
            clock: Clock | None = limits.clock(Stage.HANDLE, self.priority, at)
        elif self.late:
            clock = limits.escalated(Stage.HANDLE, self.priority, at)
        else:
            clock, promise = None, limits.promise(self.priority, at)
        self._reopened(by=by, reason=reason, clock=clock, promise=promise, timestamp=at)

    def _handling_clock(self, at: datetime, limits: TimeLimits) -> Clock | None:
        """The step clock of a claimed demand: none while its promise runs (the promise is the
        deadline); a late demand's rung gets its window from now."""
        if self.promise is None:  # collected before promises: the handling clock from collection
            return limits.clock(Stage.HANDLE, self.priority, self.reopened_at or self.collected_at)
        return limits.escalated(Stage.HANDLE, self.priority, at) if self.late else None

    def _escalate(self, by: str, reason: str, at: datetime, limits: TimeLimits, automatic: bool) -> None:
        to_level = self.level.above
        assert to_level is not None  # guarded by rules.check and the caller
        stage = self.clock.stage if self.clock is not None else Stage.HANDLE
        clock = limits.escalated(stage, self.priority, at)
        self._escalated(
            by=by, reason=reason, automatic=automatic, from_level=self.level, to_level=to_level,
            to_unit=self.location.unit_at(to_level), clock=clock, timestamp=at,
        )  # fmt: skip

    def _timed_clock(self, on_promise: bool) -> Clock:
        clock = self.promise if on_promise else self.clock
        if clock is None:  # pragma: no cover - every open state has a deadline
            raise lifecycle.Refused(self.demand_id, self.state, Step.WARN, "no time limit is running")
        return clock

    @property
    def promise_running(self) -> bool:
        """Whether the promise still waits to be kept: not yet handled, and not yet broken."""
        return self.promise is not None and self.state in PROMISED and not self.late

    @property
    def on_time(self) -> bool:
        """Whether the demand kept its promise (demands from before promises: every deadline)."""
        return not (self.ever_late if self.promise is not None else self.ever_overdue)

    def status(self, limits: TimeLimits | None = None) -> DemandStatus:
        """The demand's current standing, without the resident's personal data.

        With `limits`, a demand whose loop has ended says how long its workflow is kept to answer
        (a late complaint, or a typed refusal for any other command).
        """
        kept_until = None
        if limits is not None and self.state.is_final and self.ended_at is not None:
            kept_until = self.ended_at + limits.complaint_window
        return DemandStatus(
            demand_id=self.demand_id, state=self.state, version=self.version, kind=self.kind,
            title=self.title, channel=self.channel, category=self.category, priority=self.priority,
            post=self.post, location=self.location, level=self.level,
            responsible_unit=self.responsible_unit, claimant=self.claimant, clock=self.clock,
            warned=self.warned, overdue=self.overdue, promise=self.promise,
            promise_warned=self.promise_warned, late=self.late, escalations=self.escalations,
            reopened=self.reopen_count, rating=self.rating, outcome=self.outcome,
            merged_into=self.merged_into, duplicates=tuple(self.duplicates),
            collected_at=self.collected_at, closed_at=self.closed_at, updated_at=self.modified_on,
            kept_until=kept_until,
        )  # fmt: skip

    # ---- events: the state changes ---------------------------------------------------------
    #
    # Most event classes are generated from the signatures below. Those that gained a field after
    # events of theirs were stored are declared here instead, so the field has a default and the
    # events stored before it still load (a generated class has no defaults).

    class Collected(Aggregate.Created):
        """A demand was recorded, with its claim clock and (since issue 14) its promise."""

        demand_id: str
        source: str
        external_id: str
        kind: Kind
        title: str
        description: str
        channel: Channel
        category: str
        priority: Priority
        post: str | None
        location: Location
        resident: Resident
        reported_at: datetime | None
        clock: Clock
        promise: Clock | None = None

    @event(Collected)
    def __init__(
        self, demand_id: str, source: str, external_id: str, kind: Kind, title: str,
        description: str, channel: Channel, category: str, priority: Priority, post: str | None,
        location: Location, resident: Resident, reported_at: datetime | None, clock: Clock,
        timestamp: datetime, promise: Clock | None = None,
    ) -> None:  # fmt: skip
        self.demand_id = demand_id
        self.kind, self.title, self.description = kind, title, description
        self.channel, self.category, self.priority, self.post = channel, category, priority, post
        self.location = location
        self.reporters: list[Resident] = [resident]
        self.state = State.COLLECTED
        self.level = Level.COMMUNITY
        self.responsible_unit = location.community
        self.claimant: Claimant | None = None
        self.clock: Clock | None = clock
        self.promise: Clock | None = promise
        self.warned = self.overdue = self.ever_overdue = False
        self.promise_warned = self.late = self.ever_late = False
        self.escalations = self.reopen_count = 0
        self.rating: Rating | None = None
        self.outcome: Outcome | None = None
        self.merged_into: str | None = None
        self.duplicates: list[str] = []
        self.source, self.external_id, self.reported_at = source, external_id, reported_at
        self.collected_at = timestamp
        self.reopened_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.ended_at: datetime | None = None

    def _move(self, step: Step, at: datetime | None = None) -> None:
        self.state = lifecycle.next_state(self.state, step)
        if self.state.is_final:  # resolved, one way or another: nothing runs, nothing is late
            self._run(None)
            self.promise_warned = self.late = False
        self.ended_at = at if self.state.is_final else None

    def _run(self, clock: Clock | None) -> None:
        """A new step clock (or none): the warning and overdue marks of the old one go with it."""
        self.clock, self.warned, self.overdue = clock, False, False

    def _promise(self, promise: Clock, at: datetime) -> None:
        self.promise, self.promise_warned = promise, promise.warned_by(at)

    class Amended(Aggregate.Event):
        """The platform pushed changed content; a new priority restarts the claim clock and promise."""

        kind: Kind
        title: str
        description: str
        channel: Channel
        category: str
        priority: Priority
        post: str | None
        location: Location
        resident: Resident
        reported_at: datetime | None
        clock: Clock | None
        promise: Clock | None = None

    @event(Amended)
    def _amended(
        self, kind: Kind, title: str, description: str, channel: Channel, category: str,
        priority: Priority, post: str | None, location: Location, resident: Resident,
        reported_at: datetime | None, clock: Clock | None, timestamp: datetime,
        promise: Clock | None = None,
    ) -> None:  # fmt: skip
        self.kind, self.title, self.description = kind, title, description
        self.channel, self.category, self.priority, self.post = channel, category, priority, post
        self.location, self.reported_at = location, reported_at
        self.reporters[0] = resident
        if self.level is Level.COMMUNITY:
            self.responsible_unit = location.community
        if clock is not None:
            self.clock, self.overdue = clock, False
            self.warned = clock.warned_by(timestamp)
        if promise is not None:
            self._promise(promise, timestamp)

    @event("Supplemented")
    def _supplemented(self, by: str, text: str, attachments: tuple[str, ...], timestamp: datetime) -> None:
        pass

    @event("Dispatched")
    def _dispatched(self, by: str, to: str, note: str, timestamp: datetime) -> None:
        self._move(Step.DISPATCH)

    @event("Claimed")
    def _claimed(self, claimant: Claimant, clock: Clock | None, timestamp: datetime) -> None:
        self.claimant = claimant
        self._move(Step.CLAIM)
        self._run(clock)

    @event("Released")
    def _released(self, member: str, reason: str, clock: Clock, timestamp: datetime) -> None:
        self.claimant = None
        self._move(Step.RELEASE)
        self._run(clock)

    @event("Handled")
    def _handled(
        self, member: str, hours: float, note: str, evidence: tuple[str, ...], clock: Clock,
        timestamp: datetime,
    ) -> None:  # fmt: skip
        self._move(Step.HANDLE)
        self._run(clock)

    @event("FollowedUp")
    def _followed_up(self, worker: str, resolved: bool, note: str, clock: Clock, timestamp: datetime) -> None:
        self._move(Step.FOLLOW_UP)
        self._run(clock)

    @event("Evaluated")
    def _evaluated(self, rating: Rating, comment: str, by: str, timestamp: datetime) -> None:
        self.rating = rating
        self._move(Step.EVALUATE)

    @event("Closed")
    def _closed(self, outcome: Outcome, on_time: bool, timestamp: datetime) -> None:
        self.outcome = outcome
        self.closed_at = timestamp
        self._move(Step.CLOSE, at=timestamp)

    class Reopened(Aggregate.Event):
        """Back to the claimant, with a fresh promise (or, once late, its rung's window): by an
        unresolved follow-up, an unsatisfied rating, or a late complaint (`by` whom)."""

        reason: str
        clock: Clock | None
        promise: Clock | None = None
        by: str | None = None

    @event(Reopened)
    def _reopened(
        self, reason: str, clock: Clock | None, timestamp: datetime, promise: Clock | None = None,
        by: str | None = None,
    ) -> None:  # fmt: skip
        self.reopen_count += 1
        self.reopened_at = timestamp
        self.rating, self.outcome, self.closed_at = None, None, None
        self._move(Step.REOPEN)
        self._run(clock)
        if promise is not None:
            self._promise(promise, timestamp)

    @event("Withdrawn")
    def _withdrawn(self, by: str, reason: str, timestamp: datetime) -> None:
        self.outcome = Outcome.WITHDRAWN
        self._move(Step.WITHDRAW, at=timestamp)

    @event("Merged")
    def _merged(self, by: str, into: str, reason: str, timestamp: datetime) -> None:
        self.merged_into = into
        self.outcome = Outcome.MERGED
        self._move(Step.MERGE, at=timestamp)

    @event("DuplicateAbsorbed")
    def _absorbed(self, by: str, duplicate_id: str, reporter: Resident, timestamp: datetime) -> None:
        self.duplicates.append(duplicate_id)
        self.reporters.append(reporter)

    @event("Escalated")
    def _escalated(
        self, by: str, reason: str, automatic: bool, from_level: Level, to_level: Level,
        to_unit: str, clock: Clock, timestamp: datetime,
    ) -> None:  # fmt: skip
        self.level, self.responsible_unit = to_level, to_unit
        self.escalations += 1
        self._move(Step.ESCALATE)
        self._run(clock)

    @event("Transferred")
    def _transferred(self, by: str, from_unit: str, to_unit: str, reason: str, timestamp: datetime) -> None:
        self.responsible_unit = to_unit

    @event("Reassigned")
    def _reassigned(self, by: str, claimant: Claimant, reason: str, timestamp: datetime) -> None:
        self.claimant = claimant

    class Extended(Aggregate.Event):
        """An operator moved the deadlines later: the step clock's and the running promise's."""

        by: str
        extra: timedelta
        reason: str
        clock: Clock | None
        promise: Clock | None = None

    @event(Extended)
    def _extended(
        self, by: str, extra: timedelta, reason: str, clock: Clock | None, timestamp: datetime,
        promise: Clock | None = None,
    ) -> None:  # fmt: skip
        if clock is not None:
            self.clock, self.overdue = clock, False
            self.warned = clock.warned_by(timestamp)
        if promise is not None:
            self._promise(promise, timestamp)

    class Warned(Aggregate.Event):
        """A limit is nearly used up: the step clock's, or (`promise`) the promise's."""

        stage: Stage
        due_at: datetime
        promise: bool = False

    @event(Warned)
    def _warned(self, stage: Stage, due_at: datetime, timestamp: datetime, promise: bool = False) -> None:
        if promise:
            self.promise_warned = True
        else:
            self.warned = True

    class Overdue(Aggregate.Event):
        """A deadline passed: the step clock's, or (`promise`) the promise's, which makes it late."""

        stage: Stage
        due_at: datetime
        level: Level
        promise: bool = False

    @event(Overdue)
    def _overdue(
        self, stage: Stage, due_at: datetime, level: Level, timestamp: datetime, promise: bool = False
    ) -> None:
        if promise:
            self.late = self.ever_late = True
        else:
            self.overdue = True
        self.ever_overdue = True

    @event("Commended")
    def _commended(self, by: str, note: str, timestamp: datetime) -> None:
        pass


EVENT_STEPS: dict[str, Step] = {
    "Collected": Step.COLLECT,
    "Amended": Step.AMEND,
    "Supplemented": Step.SUPPLEMENT,
    "Dispatched": Step.DISPATCH,
    "Claimed": Step.CLAIM,
    "Released": Step.RELEASE,
    "Handled": Step.HANDLE,
    "FollowedUp": Step.FOLLOW_UP,
    "Evaluated": Step.EVALUATE,
    "Closed": Step.CLOSE,
    "Reopened": Step.REOPEN,
    "Withdrawn": Step.WITHDRAW,
    "Merged": Step.MERGE,
    "DuplicateAbsorbed": Step.ABSORB,
    "Escalated": Step.ESCALATE,
    "Transferred": Step.TRANSFER,
    "Reassigned": Step.REASSIGN,
    "Extended": Step.EXTEND,
    "Warned": Step.WARN,
    "Overdue": Step.MARK_OVERDUE,
    "Commended": Step.COMMEND,
}
"""The step each of the aggregate's events records: read models move a demand by the same table."""

FOREIGN_EVENTS = frozenset({"DuplicateAbsorbed"})
"""Events written into a demand's stream by another demand's command (a merge), not by its own workflow."""


def step_of(domain_event: object) -> Step:
    """The lifecycle step a MicroDemand event records; KeyError for an event of no step."""
    return EVENT_STEPS[type(domain_event).__name__]
