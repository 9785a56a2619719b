"""A demand's current standing, as the workflow's `status` query returns it (no personal data)."""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.lifecycle import PROMISED, State, Step
from engine.values import Claimant, Clock, Location, Value
from engine.vocabulary import Channel, Kind, Level, Outcome, Priority, Rating


class Alarm(Value):
    """The next thing a demand's timer will do by itself, and when."""

    at: datetime
    step: Step
    promise: bool = False
    """The promise's alarm (the 2310 limit), rather than the running step's clock's."""


class DemandStatus(Value):
    """Where a demand stands: state, holder, level, running clock. Built by the aggregate."""

    demand_id: str
    state: State = State.NEW
    version: int = 0
    kind: Kind | None = None
    title: str = ""
    channel: Channel | None = None
    category: str = ""
    priority: Priority = Priority.GENERAL
    post: str | None = None
    location: Location | None = None
    level: Level = Level.COMMUNITY
    responsible_unit: str = ""
    claimant: Claimant | None = None
    clock: Clock | None = None
    """The running step's clock at the rung the demand stands on (claim, an escalation window,
    follow-up, evaluation); none while a claimed demand runs on its promise."""
    warned: bool = False
    overdue: bool = False
    """The step clock passed its deadline at the top of the ladder: it escalates no further."""
    promise: Clock | None = None
    """The promise to the resident: handled within 2 / 3 / 10 days of collection (or of a reopen).
    None for demands collected before promises were recorded, which keep the old rule."""
    promise_warned: bool = False
    late: bool = False
    """Past the promise and not resolved since: overdue, whatever rung it is on, until it ends."""
    escalations: int = 0
    reopened: int = 0
    rating: Rating | None = None
    outcome: Outcome | None = None
    merged_into: str | None = None
    duplicates: tuple[str, ...] = ()
    collected_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime | None = None
    kept_until: datetime | None = None
    """Once the loop has ended: until when the workflow is kept (for a late complaint)."""
    rejection: str | None = None
    """Why the workflow ended without collecting anything (state `rejected`)."""

    @property
    def promise_running(self) -> bool:
        """Whether the promise still waits to be kept: not yet handled, and not yet broken."""
        return self.promise is not None and self.state in PROMISED and not self.late

    def alarms(self) -> list[Alarm]:
        """Each running clock's next alarm, one warning per clock and then its deadline."""
        if not self.state.is_open:
            return []
        found = []
        promise = self.promise
        if promise is not None and self.promise_running:
            if promise.warn_at is not None and not self.promise_warned:
                found.append(Alarm(at=promise.warn_at, step=Step.WARN, promise=True))
            else:
                found.append(Alarm(at=promise.due_at, step=Step.MARK_OVERDUE, promise=True))
        clock = self.clock
        if clock is not None and not self.overdue:  # overdue at the top: it moves no further
            if clock.warn_at is not None and not self.warned:
                found.append(Alarm(at=clock.warn_at, step=Step.WARN))
            else:
                found.append(Alarm(at=clock.due_at, step=clock.on_due))
        return found

    def next_alarm(self) -> Alarm | None:
        """The next timer step (warn, mark overdue, close unrated), or None if nothing is due.

        The workflow's timer rule: the earliest alarm of the promise and the step clock, the
        promise's first when both fall at once.
        """
        return min(self.alarms(), key=lambda alarm: (alarm.at, not alarm.promise), default=None)

    @property
    def on_the_board(self) -> bool:
        """Whether the overdue board lists it: open and past its promise (demands collected before
        promises: past their step deadline), whatever rung the escalations took it to."""
        if not self.state.is_open:
            return False
        return self.late if self.promise is not None else self.overdue

    def late_by(self, at: datetime) -> timedelta | None:
        """How far past its promise the demand is at `at`, if it is: overdue is past the promise.

        Open demands only: a handled one that broke its promise stays late until it ends. A demand
        collected before promises counts by its running step deadline, as it did then.
        """
        if not self.state.is_open:
            return None
        if self.promise is None:
            clock = self.clock
            if clock is None or clock.on_due is not Step.MARK_OVERDUE or clock.due_at > at:
                return None
            return at - clock.due_at
        if not (self.late or self.state in PROMISED) or self.promise.due_at > at:
            return None
        return at - self.promise.due_at

    def timer_acts_on_promise(self, step: Step) -> bool:
        """Whether a timer `step` concerns the promise rather than the step clock: the one due first
        (the promise on a tie), or the only one that can take it."""
        promise, clock = self.promise, self.clock
        if promise is None or not self.promise_running:
            return False
        if step is Step.WARN:
            mine = None if self.promise_warned else promise.warn_at
            theirs = clock.warn_at if clock and not self.warned and not self.overdue else None
        else:
            mine, theirs = promise.due_at, clock.due_at if clock and not self.overdue else None
        if mine is None:
            return False
        return theirs is None or mine <= theirs
