"""The promise to the resident ("2310"): it runs from collection beside the claim clock, warns once,
and once broken the demand stays late, whatever rung it reaches, until it ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engine import commands as c
from engine.demand import MicroDemand
from engine.policies.timelimits import load_time_limits
from engine.resimulation import resimulate
from engine.status import Alarm, DemandStatus
from engine.values import Location, Resident
from engine.vocabulary import Channel, Kind, Level, Priority, Rating, Stage

T0 = datetime(2026, 3, 2, 1, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
LIMITS = load_time_limits()
LOCATION = Location(city="Karamay", district="Karamay", street="Yingbin", community="Xinhua", grid="G1")
CLAIM = c.Claim(member="wang", unit="Branch 1")
HANDLE = c.Handle(member="wang", hours=2)
FOLLOW_UP = c.FollowUp(worker="zhao", resolved=True)
SATISFIED = c.Evaluate(rating=Rating.SATISFIED)


def collected(priority: Priority = Priority.GENERAL) -> MicroDemand:
    """A demand collected at T0."""
    submission = c.Submission(
        source="wechat", external_id="7", kind=Kind.APPEAL, title="The water keeps being cut off",
        channel=Channel.WECHAT, priority=priority, location=LOCATION,
        resident=Resident(name="Li Mei", phone="13800138000"),
    )  # fmt: skip
    return MicroDemand.collect(submission, T0, LIMITS)


def lived(steps: list[tuple[timedelta, c.Command]], until: timedelta) -> list[Any]:
    """A demand collected at T0 taking people's `steps`, its timers firing as the workflow fires them."""
    demand = collected()
    for offset, command in steps:
        demand.apply(command, T0 + offset, LIMITS)
    events: Any = demand.collect_events()
    return resimulate(events, LIMITS, horizon=T0 + until).events


def timeline(events: list[Any]) -> list[tuple[str, timedelta]]:
    """Each event as (name, its time after collection); a promise's warning or deadline says so."""
    return [
        (type(e).__name__ + ("(promise)" if getattr(e, "promise", False) is True else ""), e.timestamp - T0)
        for e in events
    ]


def test_an_unclaimed_demand_runs_its_promise_from_collection_beside_the_claim_clock() -> None:
    status = collected().status()
    assert status.promise is not None
    assert (status.promise.stage, status.promise.due_at) == (Stage.HANDLE, T0 + 2 * DAY)
    assert status.clock is not None
    assert (status.clock.stage, status.clock.due_at) == (Stage.CLAIM, T0 + DAY)
    assert status.alarms() == [
        Alarm(at=T0 + 2 * DAY * 0.8, step="warn", promise=True),
        Alarm(at=T0 + DAY * 0.8, step="warn"),
    ]
    assert status.next_alarm() == Alarm(at=T0 + DAY * 0.8, step="warn")


def test_an_unclaimed_general_demand_is_late_at_two_days_and_escalates_daily_up_to_the_city() -> None:
    events = lived([], until=5 * DAY)
    assert timeline(events) == [
        ("Collected", 0 * DAY),
        ("Warned", DAY * 0.8),  # the claim clock
        ("Overdue", DAY),
        ("Escalated", DAY),  # to the street, with a day of its own
        ("Warned(promise)", 2 * DAY * 0.8),
        ("Warned", DAY + DAY * 0.8),  # the street's day
        ("Overdue(promise)", 2 * DAY),  # the promise and the street's day end together: one escalation
        ("Escalated", 2 * DAY),
        ("Warned", 2 * DAY + DAY * 0.8),
        ("Overdue", 3 * DAY),
        ("Escalated", 3 * DAY),
        ("Warned", 3 * DAY + DAY * 0.8),
        ("Overdue", 4 * DAY),  # at the city: marked, nowhere left to go
    ]
    demand = collected()
    for event in events[1:]:
        event.mutate(demand)
    status = demand.status()
    assert (status.level, status.late, status.overdue, status.next_alarm()) == (Level.CITY, True, True, None)


def test_a_claim_after_the_promise_warned_records_no_second_warning() -> None:
    events = lived([(40 * HOUR, CLAIM)], until=47 * HOUR)
    assert timeline(events)[-2:] == [
        ("Warned(promise)", 2 * DAY * 0.8),
        ("Claimed", 40 * HOUR),
    ]  # one warning per clock: the claim starts no clock of its own, and the promise warned already


def test_a_demand_past_its_promise_stays_late_through_claim_and_handling_until_it_closes() -> None:
    demand = collected()
    demand.apply(c.MarkOverdue(), T0 + DAY, LIMITS)  # the claim deadline: escalated, not late
    assert not demand.status().late
    demand.apply(c.MarkOverdue(), T0 + 2 * DAY, LIMITS)  # the promise (and the street's day)
    assert demand.status().late
    demand.apply(CLAIM, T0 + 50 * HOUR, LIMITS)
    claimed = demand.status()
    assert claimed.late
    assert claimed.clock is not None  # a late demand's rung gives it a window from the claim
    assert (claimed.clock.stage, claimed.clock.due_at) == (Stage.HANDLE, T0 + 50 * HOUR + DAY)
    demand.apply(HANDLE, T0 + 60 * HOUR, LIMITS)
    demand.apply(FOLLOW_UP, T0 + 61 * HOUR, LIMITS)
    assert demand.status().late  # handled, but not resolved: still past the promise
    demand.apply(SATISFIED, T0 + 62 * HOUR, LIMITS)
    closed = demand.status()
    assert (closed.state, closed.late) == ("closed", False)
    assert list(demand.collect_events())[-1].on_time is False  # type: ignore[attr-defined]


def test_missing_the_claim_deadline_but_keeping_the_promise_is_on_time() -> None:
    events = lived(
        [(30 * HOUR, CLAIM), (31 * HOUR, HANDLE), (32 * HOUR, FOLLOW_UP), (33 * HOUR, SATISFIED)],
        until=5 * DAY,
    )
    assert "Escalated" in [type(e).__name__ for e in events]
    assert events[-1].on_time is True


def test_an_extension_moves_a_running_promise_but_never_mends_a_broken_one() -> None:
    demand = collected()
    extend = c.Extend(by="op", extra=DAY, reason="parts on order")
    demand.apply(extend, T0 + HOUR, LIMITS)
    assert demand.status().promise == LIMITS.extended(LIMITS.promise(Priority.GENERAL, T0), DAY)
    demand.apply(c.MarkOverdue(), T0 + 2 * DAY, LIMITS)  # the extended claim deadline: escalated
    assert not demand.status().late
    demand.apply(c.MarkOverdue(), T0 + 3 * DAY, LIMITS)  # the extended promise passed
    assert demand.status().late
    demand.apply(extend, T0 + 3 * DAY + HOUR, LIMITS)
    after = demand.status()
    assert after.late
    assert after.promise is not None
    assert after.promise.due_at == T0 + 3 * DAY  # the promise it broke, as it was


def test_a_reopen_gives_a_fresh_promise_unless_the_demand_is_late_already() -> None:
    kept = collected()
    for offset, command in [(HOUR, CLAIM), (2 * HOUR, HANDLE), (DAY, c.FollowUp(worker="z", resolved=False))]:
        kept.apply(command, T0 + offset, LIMITS)
    assert kept.status().promise == LIMITS.promise(Priority.GENERAL, T0 + DAY)
    assert not kept.status().late

    late = collected()
    late.apply(CLAIM, T0 + HOUR, LIMITS)
    late.apply(c.MarkOverdue(), T0 + 2 * DAY, LIMITS)
    for offset, command in [(3 * DAY, HANDLE), (3 * DAY + HOUR, c.FollowUp(worker="z", resolved=False))]:
        late.apply(command, T0 + offset, LIMITS)
    reopened = late.status()
    assert (reopened.state, reopened.late) == ("claimed", True)
    assert reopened.clock is not None
    assert reopened.clock.due_at == T0 + 3 * DAY + HOUR + DAY  # its rung's window, from the reopen


def test_events_stored_before_promises_load_and_their_demand_keeps_the_old_rule() -> None:
    events: Any = collected().collect_events()
    stored = events[0].model_dump(mode="json")
    stored.pop("promise")  # as Collected was stored before the promise existed
    warned = {key: stored[key] for key in ("originator_id", "timestamp")}
    warned |= {"originator_version": 2, "stage": "claim", "due_at": stored["clock"]["due_at"]}
    old: Any = MicroDemand.Collected.model_validate(stored).mutate(None)
    MicroDemand.Warned.model_validate(warned).mutate(old)  # a warning stored without `promise`
    assert (old.promise, old.warned) == (None, True)
    old.apply(CLAIM, T0 + HOUR, LIMITS)
    assert old.clock.due_at == T0 + 2 * DAY  # the handling clock from collection, as then
    assert old.status().next_alarm() == Alarm(at=T0 + 2 * DAY * 0.8, step="warn")


def test_a_status_recorded_before_promises_alarms_as_it_did_then() -> None:
    recorded = collected().status().model_dump(mode="json", exclude={"promise", "promise_warned", "late"})
    old = DemandStatus.model_validate(recorded)
    assert old.promise is None
    assert old.next_alarm() == Alarm(at=T0 + DAY * 0.8, step="warn")
