"""Demands from before: a past demand's submission and people's steps with their own times, lived
again through the aggregate, so history from another platform obeys the same rules as today's.

Each step is checked by the same rules (`engine.rules`, the one transition table) and recorded by
the same aggregate methods; the timers' steps (warnings, overdue marks and the escalations after
them, closing unrated) are not taken from the file but fired between the steps by the workflow's
own rule (`DemandStatus.next_alarm`), at their own times, up to the moment of the import. So an
imported demand is late, escalated and on time exactly as it would have been here. Pure: no I/O.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, model_validator

from engine import commands as c
from engine.demand import MicroDemand
from engine.lifecycle import Step
from engine.policies.timelimits import TimeLimits
from engine.resimulation import fire_timers
from engine.values import AwareDatetime, Value

NOT_IMPORTED = {
    Step.WARN: "the timers' steps are worked out by the time-limit policy: leave them out",
    Step.MARK_OVERDUE: "the timers' steps are worked out by the time-limit policy: leave them out",
    Step.CLOSE: "a demand closes by its rating, or unrated when the evaluation window passes: leave it out",
    Step.MERGE: "merges are not imported: import the duplicate as withdrawn, or merge it once imported",
    Step.ABSORB: "merges are not imported: import the duplicate as withdrawn, or merge it once imported",
}
"""Steps a past demand may not carry, and why."""


class PastStep(Value):
    """Something a person did to a past demand, and when (any command, told apart by its `step`)."""

    at: AwareDatetime
    command: c.AnyCommand


class PastDemand(Value):
    """One line of an import file: a demand as another platform (or `seed --year`) recorded it."""

    submission: c.Submission
    collected_at: AwareDatetime
    steps: tuple[PastStep, ...] = Field(default=(), max_length=200)
    sample: bool = Field(
        default=False, description="Sample data (`seed --year`), not real residents' demands."
    )

    @model_validator(mode="after")
    def _in_order(self) -> PastDemand:
        at = self.collected_at
        for step in self.steps:
            if step.command.step in NOT_IMPORTED:
                raise ValueError(f"{step.command.verb}: {NOT_IMPORTED[step.command.step]}")
            if step.at < at:
                raise ValueError(f"{step.command.verb} at {step.at.isoformat()}: steps must be in time order")
            at = step.at
        return self

    @property
    def demand_id(self) -> str:
        """The demand's id, from its submission."""
        return self.submission.demand_id


def submission_of(demand: MicroDemand) -> c.Submission:
    """The demand as its platform would push it now (its content as amended): a repeated push of it
    changes nothing, so it hands an imported demand to its workflow without amending it."""
    return c.Submission(
        source=demand.source, external_id=demand.external_id, kind=demand.kind, title=demand.title,
        description=demand.description, channel=demand.channel, category=demand.category,
        priority=demand.priority, post=demand.post, location=demand.location,
        resident=demand.reporters[0], reported_at=demand.reported_at,
    )  # fmt: skip


def relive(past: PastDemand, limits: TimeLimits, now: datetime) -> MicroDemand:
    """The demand as it stands `now` after its past: every step checked and recorded by the
    aggregate, the timers firing in between (lifecycle.Refused names a step it could not take)."""
    latest = past.steps[-1].at if past.steps else past.collected_at
    if latest > now:
        raise ValueError(f"{past.demand_id}: a step later than now ({now.isoformat()})")
    demand = MicroDemand.collect(past.submission, past.collected_at, limits)
    moment = past.collected_at
    for step in past.steps:
        moment = fire_timers(demand, moment, step.at, limits, inclusive=False)
        demand.apply(step.command, step.at, limits)
        moment = max(moment, step.at)
    fire_timers(demand, moment, now, limits, inclusive=True)
    return demand
