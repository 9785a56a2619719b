"""Re-simulating a demand under another time-limit policy: facts kept, timers fired by the workflow's rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine import commands as c
from engine.demand import MicroDemand
from engine.policies.timelimits import TimeLimits, load_time_limits
from engine.resimulation import facts_of, resimulate
from engine.values import Location, Resident
from engine.vocabulary import Channel, Kind, Level, Priority, Rating

T0 = datetime(2026, 3, 2, 1, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
LIMITS = load_time_limits()
LOCATION = Location(city="Karamay", district="Karamay", street="Yingbin", community="Xinhua", grid="G1")


def stricter(**handle: str) -> TimeLimits:
    """The shipped policy with shorter handling limits."""
    data: dict[str, Any] = LIMITS.model_dump()
    data["handle"] = {"general": "12h", "important": "1d", "major": "2d", **handle}
    return TimeLimits.model_validate(data)


def recorded(steps: list[tuple[timedelta, Any]], limits: TimeLimits = LIMITS) -> list[Any]:
    """A demand's events: collected at T0, then each (offset, command) applied as the store would."""
    submission = c.Submission(
        source="wechat", external_id="7", kind=Kind.WISH, title="Fix the stairwell light",
        channel=Channel.WECHAT, priority=Priority.GENERAL, location=LOCATION,
        resident=Resident(name="Li Mei", phone="13800138000", address="Building 3"),
    )  # fmt: skip
    demand = MicroDemand.collect(submission, T0, limits)
    for offset, command in steps:
        demand.apply(command, T0 + offset, limits)
    return list(demand.collect_events())


def names(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


CLAIM = c.Claim(member="wang", unit="Branch 1")
HANDLE = c.Handle(member="wang", hours=2)
FOLLOW_UP = c.FollowUp(worker="zhao", resolved=True)
COMPLAINT = c.Complain(reason="the light failed again")


def test_facts_leave_out_what_timers_and_the_command_before_them_recorded() -> None:
    events = recorded(
        [
            (10 * HOUR, CLAIM),
            (20 * HOUR, c.Warn()),
            (2 * DAY, c.MarkOverdue()),  # Overdue + an automatic Escalated
            (2 * DAY + HOUR, c.Escalate(by="op", reason="supervision meeting")),
            (2 * DAY + 2 * HOUR, HANDLE),
            (2 * DAY + 3 * HOUR, FOLLOW_UP),
            (2 * DAY + 4 * HOUR, c.Evaluate(rating=Rating.UNSATISFIED)),  # Evaluated + Reopened
            (2 * DAY + 5 * HOUR, HANDLE),
            (2 * DAY + 6 * HOUR, FOLLOW_UP),
            (2 * DAY + 7 * HOUR, c.Evaluate(rating=Rating.SATISFIED)),  # Evaluated + Closed
            (3 * DAY, COMPLAINT),  # a late complaint
        ]
    )
    facts = [f.name for f in facts_of(events)]
    assert facts == [
        "collect", "claim", "escalate", "handle", "follow-up", "evaluate", "handle", "follow-up",
        "evaluate", "complain",
    ]  # fmt: skip


def test_the_same_policy_lives_the_same_history_again() -> None:
    late_claim = 30 * HOUR  # past the claim deadline: the timers warned, marked overdue, escalated
    history = recorded(
        [
            (19 * HOUR + 12 * 60 * timedelta(seconds=1), c.Warn()),
            (DAY, c.MarkOverdue()),
            (late_claim, CLAIM),
            (late_claim + HOUR, HANDLE),
            (late_claim + 2 * HOUR, FOLLOW_UP),
            (late_claim + 3 * HOUR, c.Evaluate(rating=Rating.SATISFIED)),
        ]
    )
    again = resimulate(history, LIMITS, horizon=T0 + 30 * DAY)
    assert again.refused == []
    assert [(type(e).__name__, e.timestamp) for e in again.events] == [
        (type(e).__name__, e.timestamp) for e in history
    ]
    # Past the claim deadline, but handled within the two days promised at collection: on time.
    assert again.events[-1].on_time is True  # type: ignore[attr-defined]


def test_a_stricter_policy_marks_overdue_what_was_on_time_and_escalates() -> None:
    closing = recorded(
        [
            (HOUR, CLAIM),
            (30 * HOUR, HANDLE),
            (31 * HOUR, FOLLOW_UP),
            (32 * HOUR, c.Evaluate(rating="satisfied")),
        ]
    )
    real = resimulate(closing, LIMITS, horizon=T0 + 10 * DAY)
    strict = resimulate(closing, stricter(), horizon=T0 + 10 * DAY)
    assert "Overdue" not in names(real.events)
    assert names(strict.events)[:4] == ["Collected", "Claimed", "Warned", "Overdue"]
    escalated = next(e for e in strict.events if type(e).__name__ == "Escalated")
    assert (escalated.automatic, escalated.to_level) == (True, Level.STREET)  # type: ignore[attr-defined]
    assert strict.events[-1].on_time is False  # type: ignore[attr-defined]
    assert real.events[-1].on_time is True  # type: ignore[attr-defined]


def test_an_open_demand_keeps_escalating_up_to_the_horizon_and_stops_at_the_top() -> None:
    history = recorded([])
    early = resimulate(history, LIMITS, horizon=T0 + 20 * HOUR)
    late = resimulate(history, LIMITS, horizon=T0 + 60 * DAY)
    assert names(early.events) == ["Collected", "Warned"]
    escalations = [e for e in late.events if type(e).__name__ == "Escalated"]
    assert [e.to_level for e in escalations] == [Level.STREET, Level.DISTRICT, Level.CITY]  # type: ignore[attr-defined]
    assert names(late.events)[-1] == "Overdue"  # overdue at the city: nothing more moves by itself


def test_a_fact_the_demand_can_no_longer_take_is_refused_and_reported() -> None:
    # A manual escalation from the street to the district, late on day 3. Under a policy that
    # escalates after 1 hour at each rung, the timers took it to the city long before.
    history = recorded([(DAY, c.MarkOverdue()), (3 * DAY, c.Escalate(by="op", reason="stuck"))])
    data: dict[str, Any] = LIMITS.model_dump()
    data["claim"] = {"general": "2h", "important": "2h", "major": "2h"}
    data["escalation"] = {"general": "1h", "important": "1h", "major": "1h"}
    again = resimulate(history, TimeLimits.model_validate(data), horizon=T0 + 4 * DAY)
    assert len(again.refused) == 1
    assert "escalate: it is already at the top of the ladder (city)" in again.refused[0]


def test_an_unrated_demand_closes_when_the_window_passes_and_a_late_reopen_still_applies() -> None:
    history = recorded(
        [(HOUR, CLAIM), (2 * HOUR, HANDLE), (3 * HOUR, FOLLOW_UP), (3 * HOUR + 7 * DAY, c.CloseUnrated()),
         (9 * DAY, COMPLAINT)]
    )  # fmt: skip
    data: dict[str, Any] = LIMITS.model_dump()
    data["evaluate"] = {"general": "3d", "important": "3d", "major": "3d"}
    again = resimulate(history, TimeLimits.model_validate(data), horizon=T0 + 9 * DAY + HOUR)
    closed = next(e for e in again.events if type(e).__name__ == "Closed")
    assert closed.timestamp == T0 + 3 * HOUR + 3 * DAY
    assert names(again.events)[-2:] == ["Closed", "Reopened"]  # a late complaint reopens it all the same


def test_history_must_start_with_a_collection() -> None:
    with pytest.raises(ValueError, match="starts with its collection"):
        resimulate(recorded([(HOUR, CLAIM)])[1:], LIMITS, horizon=T0 + DAY)
    [collected] = resimulate(recorded([]), LIMITS, horizon=T0).events
    assert collected.originator_version == 1


def test_every_event_of_a_demand_is_either_a_fact_to_replay_or_a_timers_step() -> None:
    """A new event must be taught to `whatif` (engine/resimulation.py), or it refuses whole periods."""
    import inspect
    import re

    from engine import resimulation
    from engine.demand import EVENT_STEPS

    facts = set(re.findall(r'case "(\w+)":', inspect.getsource(resimulation._fact)))
    assert facts.isdisjoint(resimulation.TIMER_EVENTS)
    assert facts | resimulation.TIMER_EVENTS == set(EVENT_STEPS)
