"""The MicroDemand aggregate on its own: guards, clocks, escalation, reopen, merge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine import commands as c
from engine.demand import MicroDemand
from engine.lifecycle import Refused, State
from engine.timelimits import load_time_limits
from engine.vocabulary import Channel, Kind, Level, Location, Priority, Resident, Stage

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
LIMITS = load_time_limits()
LOCATION = Location(city="Karamay", district="Karamay", street="Yingbin", community="Xinhua", grid="G1")


def collected(priority: Priority = Priority.GENERAL) -> MicroDemand:
    submission = c.Submission(
        source="hotline", external_id="42", kind=Kind.APPEAL, title="Water keeps being cut off",
        channel=Channel.HOTLINE_12345, priority=priority, location=LOCATION,
        resident=Resident(name="Zhang", phone="13900139000", address="Unit 2"),
    )  # fmt: skip
    return MicroDemand.collect(submission, T0, LIMITS)


def test_claim_starts_the_handling_clock_from_collection() -> None:
    demand = collected(Priority.MAJOR)
    demand.apply_command(c.Claim(member="wang", unit="branch"), T0 + timedelta(hours=2), LIMITS)
    assert demand.clock is not None
    assert demand.clock.stage is Stage.HANDLE
    assert demand.clock.due_at == T0 + timedelta(days=10)


def test_overdue_escalates_one_level_and_stops_at_the_top() -> None:
    demand = collected()
    levels = []
    for hours in (24, 48, 72, 96):
        demand.apply_command(c.MarkOverdue(), T0 + timedelta(hours=hours), LIMITS)
        levels.append((demand.level, demand.responsible_unit))
    assert levels[:3] == [(Level.STREET, "Yingbin"), (Level.DISTRICT, "Karamay"), (Level.CITY, "Karamay")]
    assert demand.level is Level.CITY
    assert demand.status().next_alarm() is None
    with pytest.raises(Refused, match="top of the ladder"):
        demand.apply_command(c.Escalate(by="op", reason="still stuck"), T0 + timedelta(days=5), LIMITS)


def test_unsatisfied_evaluation_reopens_with_a_fresh_handling_clock() -> None:
    demand = collected()
    demand.apply_command(c.Claim(member="wang", unit="branch"), T0, LIMITS)
    demand.apply_command(c.Handle(member="wang", hours=2), T0 + timedelta(hours=3), LIMITS)
    demand.apply_command(c.FollowUp(worker="zhao", resolved=True), T0 + timedelta(hours=4), LIMITS)
    reopened_at = T0 + timedelta(days=1)
    demand.apply_command(c.Evaluate(rating="unsatisfied"), reopened_at, LIMITS)
    assert demand.state is State.CLAIMED
    assert demand.clock is not None
    assert demand.clock.due_at == reopened_at + timedelta(days=2)
    names = [type(e).__name__ for e in demand.collect_events()]
    assert names[-2:] == ["Evaluated", "Reopened"]


def test_only_the_holder_may_handle() -> None:
    demand = collected()
    demand.apply_command(c.Claim(member="wang", unit="branch", co_claimants=("li",)), T0, LIMITS)
    demand.apply_command(c.Handle(member="li", hours=1), T0, LIMITS)  # a co-claimant may
    assert demand.state is State.HANDLED
    other = collected()
    other.apply_command(c.Claim(member="wang", unit="branch"), T0, LIMITS)
    with pytest.raises(Refused, match="zhou does not hold it"):
        other.apply_command(c.Handle(member="zhou", hours=1), T0, LIMITS)


def test_extension_clears_overdue_and_moves_the_deadline() -> None:
    demand = collected()
    demand.apply_command(c.MarkOverdue(), T0 + timedelta(days=1), LIMITS)  # escalated, new clock
    assert demand.clock is not None
    due = demand.clock.due_at
    demand.apply_command(c.Extend(by="op", extra=timedelta(hours=6), reason="holiday"), T0, LIMITS)
    assert demand.clock.due_at == due + timedelta(hours=6)
    assert not demand.overdue
