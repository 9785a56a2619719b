"""Demands from before, lived again: every step by today's rules, the timers by the policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from engine import commands as c
from engine.lifecycle import Refused, State
from engine.past import PastDemand, PastStep, relive, submission_of
from engine.policies.timelimits import load_time_limits
from engine.values import Location, Resident
from engine.vocabulary import Channel, Kind, Rating

T0 = datetime(2024, 5, 6, 1, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
LIMITS = load_time_limits()
SUBMISSION = c.Submission(
    source="oldplatform", external_id="2024-17", kind=Kind.APPEAL, title="Unpaid wages",
    channel=Channel.HOTLINE_12345,
    location=Location(city="Karamay", district="Karamay", street="Yingbin", community="Xinhua", grid="G1"),
    resident=Resident(name="Ma", phone="13912345678"),
)  # fmt: skip


def past(*steps: tuple[timedelta, c.Command]) -> PastDemand:
    return PastDemand(
        submission=SUBMISSION,
        collected_at=T0,
        steps=tuple(PastStep(at=T0 + t, command=cmd) for t, cmd in steps),
    )


CLAIM = c.Claim(member="wang", unit="Branch 1")
HANDLE = c.Handle(member="wang", hours=2)


def names(events: Any) -> list[str]:
    return [type(e).__name__ for e in events]


def test_a_closed_demand_is_lived_again_with_its_own_times_and_the_timers_it_met() -> None:
    demand = relive(
        past((2 * HOUR, CLAIM), (60 * HOUR, HANDLE), (61 * HOUR, c.FollowUp(worker="z", resolved=True)),
             (62 * HOUR, c.Evaluate(rating=Rating.SATISFIED))),
        LIMITS, now=T0 + 30 * DAY,
    )  # fmt: skip
    events = demand.collect_events()
    assert names(events) == [
        "Collected", "Claimed", "Warned", "Overdue", "Escalated", "Handled", "FollowedUp", "Evaluated",
        "Closed",
    ]  # fmt: skip  # the promise warned at 38.4 hours and broke at 48: to the street
    assert events[0].timestamp == T0
    assert events[-1].timestamp == T0 + 62 * HOUR
    assert (demand.state, demand.on_time) == (State.CLOSED, False)


def test_an_open_demand_stands_as_the_timers_left_it_by_now() -> None:
    demand = relive(past((2 * HOUR, CLAIM)), LIMITS, now=T0 + 40 * HOUR)
    status = demand.status()
    assert (status.state, status.promise_warned, status.late) == (State.CLAIMED, True, False)
    assert status.next_alarm() is not None  # the promise's deadline at 48 hours: its workflow's to fire
    assert submission_of(demand) == SUBMISSION  # pushed again, it changes nothing


def test_a_step_the_rules_refuse_refuses_the_demand_naming_the_step() -> None:
    with pytest.raises(Refused, match="is collected: cannot handle, only when claimed"):
        relive(past((HOUR, HANDLE)), LIMITS, now=T0 + DAY)


@pytest.mark.parametrize(
    ("steps", "words"),
    [
        ([(HOUR, c.MarkOverdue())], "the timers' steps are worked out by the time-limit policy"),
        ([(HOUR, c.Merge(by="op", into="demand-x-1"))], "merges are not imported"),
        ([(2 * HOUR, CLAIM), (HOUR, HANDLE)], "steps must be in time order"),
    ],
    ids=["timer-step", "merge", "out-of-order"],
)
def test_a_line_the_import_cannot_take_says_why(steps: list[tuple[timedelta, c.Command]], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        past(*steps)


def test_a_step_later_than_now_is_refused() -> None:
    with pytest.raises(ValueError, match="a step later than now"):
        relive(past((2 * DAY, CLAIM)), LIMITS, now=T0 + DAY)
