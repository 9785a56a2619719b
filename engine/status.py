"""A demand's current standing, as the workflow's `status` query returns it (no personal data)."""

from __future__ import annotations

from datetime import datetime

from engine.lifecycle import State, Step
from engine.values import Claimant, Clock, Location, Value
from engine.vocabulary import Channel, Kind, Level, Outcome, Priority, Rating


class Alarm(Value):
    """The next thing a demand's timer will do by itself, and when."""

    at: datetime
    step: Step


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
    warned: bool = False
    overdue: bool = False
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

    def next_alarm(self) -> Alarm | None:
        """The next timer step (warn, mark overdue, close unrated), or None if nothing is due."""
        clock = self.clock
        if clock is None or not self.state.is_open:
            return None
        if clock.warn_at is not None and not self.warned and not self.overdue:
            return Alarm(at=clock.warn_at, step=Step.WARN)
        if self.overdue:
            return None  # at the top of the ladder: nothing further moves by itself
        return Alarm(at=clock.due_at, step=clock.on_due)
