"""The MicroDemand aggregate on its own: guards, clocks, escalation, reopen, merge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine import commands as c
from engine.demand import MicroDemand
from engine.lifecycle import Refused, State
from engine.policies.timelimits import load_time_limits
from engine.values import Location, Resident
from engine.vocabulary import Channel, Kind, Level, Priority, Stage

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
LIMITS = load_time_limits()
LOCATION = Location(city="Karamay", district="Karamay", street="Yingbin", community="Xinhua", grid="G1")


def submission(
    priority: Priority = Priority.GENERAL, title: str = "Water keeps being cut off"
) -> c.Submission:
    return c.Submission(
        source="hotline", external_id="42", kind=Kind.APPEAL, title=title,
        channel=Channel.HOTLINE_12345, priority=priority, location=LOCATION,
        resident=Resident(name="Zhang", phone="13900139000", address="Unit 2"),
    )  # fmt: skip


def collected(priority: Priority = Priority.GENERAL) -> MicroDemand:
    return MicroDemand.collect(submission(priority), T0, LIMITS)


def test_a_claimed_demand_runs_on_the_promise_made_at_collection() -> None:
    demand = collected(Priority.MAJOR)
    demand.apply(c.Claim(member="wang", unit="branch"), T0 + timedelta(hours=2), LIMITS)
    assert demand.clock is None  # no step clock of its own: the promise is the deadline
    assert demand.promise is not None
    assert demand.promise.stage is Stage.HANDLE
    assert demand.promise.due_at == T0 + timedelta(days=10)


def test_overdue_escalates_one_level_and_stops_at_the_top() -> None:
    demand = collected()
    levels = []
    for hours in (24, 48, 72, 96):
        demand.apply(c.MarkOverdue(), T0 + timedelta(hours=hours), LIMITS)
        levels.append((demand.level, demand.responsible_unit))
    assert levels[:3] == [(Level.STREET, "Yingbin"), (Level.DISTRICT, "Karamay"), (Level.CITY, "Karamay")]
    assert demand.level is Level.CITY
    assert demand.status().next_alarm() is None
    with pytest.raises(Refused, match="top of the ladder"):
        demand.apply(c.Escalate(by="op", reason="still stuck"), T0 + timedelta(days=5), LIMITS)


def test_unsatisfied_evaluation_reopens_with_a_fresh_promise() -> None:
    demand = collected()
    demand.apply(c.Claim(member="wang", unit="branch"), T0, LIMITS)
    demand.apply(c.Handle(member="wang", hours=2), T0 + timedelta(hours=3), LIMITS)
    demand.apply(c.FollowUp(worker="zhao", resolved=True), T0 + timedelta(hours=4), LIMITS)
    reopened_at = T0 + timedelta(days=1)
    demand.apply(c.Evaluate(rating="unsatisfied"), reopened_at, LIMITS)
    assert demand.state is State.CLAIMED
    assert demand.promise is not None
    assert demand.promise.due_at == reopened_at + timedelta(days=2)  # kept the first time: a fresh one
    names = [type(e).__name__ for e in demand.collect_events()]
    assert names[-2:] == ["Evaluated", "Reopened"]


def test_only_the_holder_may_handle() -> None:
    demand = collected()
    demand.apply(c.Claim(member="wang", unit="branch", co_claimants=("li",)), T0, LIMITS)
    demand.apply(c.Handle(member="li", hours=1), T0, LIMITS)  # a co-claimant may
    assert demand.state is State.HANDLED
    other = collected()
    other.apply(c.Claim(member="wang", unit="branch"), T0, LIMITS)
    with pytest.raises(Refused, match="zhou does not hold it"):
        other.apply(c.Handle(member="zhou", hours=1), T0, LIMITS)


def test_extension_clears_overdue_and_moves_the_deadline_and_the_running_promise() -> None:
    demand = collected()
    demand.apply(c.MarkOverdue(), T0 + timedelta(days=1), LIMITS)  # the claim deadline: escalated
    assert demand.clock is not None
    due = demand.clock.due_at
    demand.apply(c.Extend(by="op", extra=timedelta(hours=6), reason="holiday"), T0, LIMITS)
    assert demand.clock.due_at == due + timedelta(hours=6)
    assert demand.promise is not None
    assert demand.promise.due_at == T0 + timedelta(days=2, hours=6)
    assert not demand.overdue


def test_a_transfer_to_the_unit_already_responsible_is_refused_and_records_nothing() -> None:
    demand = collected()
    demand.collect_events()
    with pytest.raises(Refused, match="is collected: cannot transfer, it is already with Xinhua"):
        demand.apply(c.Transfer(by="op", to_unit="Xinhua", reason="pipes"), T0, LIMITS)
    assert demand.collect_events() == []


def test_a_demand_cannot_be_merged_into_itself() -> None:
    demand = collected()
    demand.collect_events()
    with pytest.raises(Refused, match="a demand cannot be merged into itself"):
        demand.apply(c.Merge(by="op", into=demand.demand_id), T0, LIMITS)
    assert demand.state is State.COLLECTED
    assert demand.collect_events() == []


def test_reassigning_a_demand_to_the_member_who_holds_it_is_refused() -> None:
    demand = collected()
    demand.apply(c.Claim(member="wang", unit="branch"), T0, LIMITS)
    demand.collect_events()
    with pytest.raises(Refused, match="wang already holds it"):
        demand.apply(c.Reassign(by="op", member="wang", unit="branch", reason="r"), T0, LIMITS)
    assert demand.collect_events() == []


def test_every_event_moves_the_state_by_the_step_read_models_read_it_as() -> None:
    """EVENT_STEPS, which the read models use, agrees with what each of the aggregate's events does."""
    from engine.demand import EVENT_STEPS, step_of
    from engine.lifecycle import next_state

    walk: list[c.Command] = [
        c.Amend.of(submission(Priority.MAJOR, "The water is off again")), c.Supplement(text="since Monday"),
        c.Dispatch(by="op", to="post"), c.Claim(member="wang", unit="b"), c.Warn(),
        c.Release(member="wang", reason="r"), c.Claim(member="wang", unit="b"),
        c.Reassign(by="op", member="li", unit="b", reason="r"), c.Transfer(by="op", to_unit="u", reason="r"),
        c.Extend(by="op", extra=timedelta(hours=1), reason="r"), c.MarkOverdue(),
        c.Escalate(by="op", reason="r"), c.Handle(member="li", hours=1), c.Commend(by="resident"),
        c.FollowUp(worker="z", resolved=False), c.Handle(member="li", hours=1),
        c.FollowUp(worker="z", resolved=True), c.Evaluate(rating="satisfied"),
    ]  # fmt: skip
    demand, withdrawn, merged, original = collected(), collected(), collected(), collected()
    withdrawn.apply(c.Withdraw(reason="r"), T0, LIMITS)
    merged.apply(c.Merge(by="op", into="demand-other"), T0, LIMITS)
    original.absorb(c.Absorb(by="op", duplicate_id="demand-other"), [Resident(name="A")], T0)
    seen: set[str] = set()
    for aggregate, commands in ((demand, walk), (withdrawn, []), (merged, []), (original, [])):
        state = State.NEW
        for command in [None, *commands]:
            if command is not None:
                aggregate.apply(command, T0 + timedelta(hours=1), LIMITS)
            for event in aggregate.collect_events():
                state = next_state(state, step_of(event))
                seen.add(type(event).__name__)
            assert state is aggregate.state, (
                f"after {command}: events say {state}, aggregate {aggregate.state}"
            )
    assert seen == set(EVENT_STEPS)


def test_an_amendment_before_the_claim_replaces_the_content_and_a_new_priority_restarts_the_claim_clock() -> (
    None
):
    demand = collected(Priority.GENERAL)
    assert demand.holds(c.Amend.of(submission()))
    assert not demand.holds(c.Amend.of(submission(title="Other")))
    demand.apply(c.Amend.of(submission(Priority.MAJOR, "No water at all")), T0 + timedelta(hours=1), LIMITS)
    assert (demand.title, demand.priority) == ("No water at all", Priority.MAJOR)
    assert demand.clock is not None
    assert demand.clock.due_at == T0 + timedelta(hours=6)  # a major demand's claim limit, from collection
    demand.apply(c.Claim(member="wang", unit="branch"), T0 + timedelta(hours=2), LIMITS)
    with pytest.raises(Refused, match="is claimed: cannot amend, only when collected or dispatched"):
        demand.apply(c.Amend.of(submission(title="Changed again")), T0 + timedelta(hours=3), LIMITS)


def test_a_complaint_reopens_only_a_closed_demand_and_says_who_complained() -> None:
    demand = collected()
    complaint = c.Complain(by="resident", reason="it leaks again")
    with pytest.raises(Refused, match="is collected: cannot reopen, only when closed"):
        demand.apply(complaint, T0, LIMITS)
    for offset, command in enumerate(
        [c.Claim(member="wang", unit="branch"), c.Handle(member="wang", hours=1),
         c.FollowUp(worker="zhao", resolved=True), c.Evaluate(rating="satisfied")], start=1,
    ):  # fmt: skip
        demand.apply(command, T0 + timedelta(hours=offset), LIMITS)
    demand.collect_events()
    demand.apply(complaint, T0 + timedelta(days=10), LIMITS)
    [reopened] = demand.collect_events()
    assert (type(reopened).__name__, reopened.by, reopened.reason) == (
        "Reopened",
        "resident",
        "it leaks again",
    )  # type: ignore[attr-defined]
    assert demand.state is State.CLAIMED
    assert demand.promise == LIMITS.promise(Priority.GENERAL, T0 + timedelta(days=10))
    assert c.Complain(reason="r").verb == "complain"
