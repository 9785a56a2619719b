"""What-if: one demand's history lived again under another time-limit policy. Pure: no I/O.

What people did to a demand (claim, handle, follow up, evaluate, an operator's escalation,
transfer or extension, a withdrawal, a merge, a late complaint) are facts: they happened when
they happened, whatever the policy. What the timers did (Warned, Overdue, the automatic
escalation after it, a close for want of a rating) follows from the policy. So a demand is
re-simulated by replaying its facts in time order through the real aggregate under the other
policy, and firing in between the timer steps the workflow would fire: the next alarm of the
demand's status (`DemandStatus.next_alarm()`, the workflow's own rule), acted on at its time, or
at once if it is already past (as the workflow does). A fact the demand can no longer take
under the other policy (an operator's escalation of a demand the timers already took to the
top) is refused by the same rules as ever and reported, not forced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine import commands as c
from engine.demand import MicroDemand
from engine.eventmodel import DomainEvent
from engine.lifecycle import Refused
from engine.policies.timelimits import TimeLimits
from engine.values import Resident

TIMER_EVENTS = frozenset({"Warned", "Overdue", "Closed"})
"""Events only a timer (or the command before them) records; an automatic Escalated is one too."""


@dataclass(frozen=True)
class Fact:
    """Something a person did to a demand at a time: a command."""

    at: datetime
    command: c.Command
    reporters: tuple[Resident, ...] = ()

    @property
    def name(self) -> str:
        """The step as people say it: `claim`, `follow-up`, `complain`."""
        return self.command.verb


@dataclass
class Resimulation:
    """A demand's events under the other policy, and the facts it could no longer take."""

    demand_id: str
    events: list[DomainEvent] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def facts_of(events: Sequence[DomainEvent]) -> list[Fact]:
    """The facts among a demand's recorded events, oldest first; timer steps and their results dropped."""
    facts: list[Fact] = []
    previous: Any = None
    for event in events:
        fact = _fact(event, previous)
        if fact is not None:
            facts.append(fact)
        previous = event
    return facts


def _fact(e: Any, previous: Any) -> Fact | None:
    """The fact one event records, or None if a timer or the command before it recorded it."""
    at = e.timestamp
    match type(e).__name__:
        case "Collected":
            sub = c.Submission(
                source=e.source, external_id=e.external_id, kind=e.kind, title=e.title,
                description=e.description, channel=e.channel, category=e.category, priority=e.priority,
                post=e.post, location=e.location, resident=e.resident, reported_at=e.reported_at,
            )  # fmt: skip
            return Fact(at, sub)
        case "Amended":
            amend = c.Amend(
                kind=e.kind, title=e.title, description=e.description, channel=e.channel,
                category=e.category, priority=e.priority, post=e.post, location=e.location,
                resident=e.resident, reported_at=e.reported_at,
            )  # fmt: skip
            return Fact(at, amend)
        case "Supplemented":
            return Fact(at, c.Supplement(by=e.by, text=e.text, attachments=e.attachments))
        case "Dispatched":
            return Fact(at, c.Dispatch(by=e.by, to=e.to, note=e.note))
        case "Claimed":
            claimant = e.claimant
            return Fact(
                at, c.Claim(member=claimant.member, unit=claimant.unit, co_claimants=claimant.co_claimants)
            )
        case "Released":
            return Fact(at, c.Release(member=e.member, reason=e.reason))
        case "Handled":
            return Fact(at, c.Handle(member=e.member, hours=e.hours, note=e.note, evidence=e.evidence))
        case "FollowedUp":
            return Fact(at, c.FollowUp(worker=e.worker, resolved=e.resolved, note=e.note))
        case "Evaluated":
            return Fact(at, c.Evaluate(rating=e.rating, comment=e.comment, by=e.by))
        case "Reopened":
            if _reopens_by_itself(previous):
                return None
            return Fact(at, c.Complain(by=e.by or "resident", reason=e.reason or "complaint"))
        case "Withdrawn":
            return Fact(at, c.Withdraw(by=e.by, reason=e.reason))
        case "Merged":
            return Fact(at, c.Merge(by=e.by, into=e.into, reason=e.reason))
        case "DuplicateAbsorbed":
            return Fact(at, c.Absorb(by=e.by, duplicate_id=e.duplicate_id), reporters=(e.reporter,))
        case "Escalated":
            return None if e.automatic else Fact(at, c.Escalate(by=e.by, reason=e.reason))
        case "Transferred":
            return Fact(at, c.Transfer(by=e.by, to_unit=e.to_unit, reason=e.reason))
        case "Reassigned":
            claimant = e.claimant
            return Fact(at, c.Reassign(by=e.by, member=claimant.member, unit=claimant.unit, reason=e.reason))
        case "Extended":
            return Fact(at, c.Extend(by=e.by, extra=e.extra, reason=e.reason))
        case "Commended":
            return Fact(at, c.Commend(by=e.by, note=e.note))
        case name if name in TIMER_EVENTS:
            return None
    raise ValueError(f"cannot re-simulate a {type(e).__name__} event: it is neither a fact nor a timer step")


def _reopens_by_itself(previous: Any) -> bool:
    """An unresolved follow-up or an unsatisfied rating reopens the demand in the same command."""
    name = type(previous).__name__
    if name == "FollowedUp":
        return not previous.resolved
    return name == "Evaluated" and not previous.rating.is_positive


def resimulate(events: Sequence[DomainEvent], limits: TimeLimits, horizon: datetime) -> Resimulation:
    """The demand's history under `limits`: its facts up to `horizon`, with the timers firing between."""
    facts = [f for f in facts_of(events) if f.at <= horizon]
    if not facts or not isinstance(facts[0].command, c.Submission):
        raise ValueError("a demand's history starts with its collection")
    first, rest = facts[0], facts[1:]
    assert isinstance(first.command, c.Submission)
    result = Resimulation(demand_id=first.command.demand_id)
    demand = MicroDemand.collect(first.command, first.at, limits)
    now = first.at
    for fact in rest:
        now = fire_timers(demand, now, fact.at, limits, inclusive=False)
        try:
            _apply(demand, fact, limits)
        except Refused as refusal:
            result.refused.append(f"{fact.at.isoformat()} {fact.name}: {refusal.why}")
        now = max(now, fact.at)
    fire_timers(demand, now, horizon, limits, inclusive=True)
    result.events = list(demand.collect_events())  # type: ignore[arg-type]
    return result


def _apply(demand: MicroDemand, fact: Fact, limits: TimeLimits) -> None:
    if isinstance(fact.command, c.Absorb):
        demand.absorb(fact.command, list(fact.reporters), fact.at)
    else:
        demand.apply(fact.command, fact.at, limits)


def fire_timers(
    demand: MicroDemand, now: datetime, until: datetime, limits: TimeLimits, *, inclusive: bool
) -> datetime:
    """Act on every alarm due before `until` (or at it, if `inclusive`); a past alarm acts at once.

    A person's command at the very moment an alarm is due goes first, as in the workflow, where
    a command that slipped in first wins. Bounded: each alarm moves the demand on, and nothing
    moves by itself once it is overdue at the top of the ladder or settled.
    """
    while (alarm := demand.status().next_alarm()) is not None:
        at = max(alarm.at, now)
        if at > until or (at == until and not inclusive):
            break
        demand.apply(c.TIMER_COMMANDS[alarm.step](), at, limits)
        now = at
    return now
