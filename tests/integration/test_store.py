"""The store application on both databases: a demand through its whole life, exactly once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adapters.bootstrap import System
from adapters.settings import Settings
from engine.application import StaleCommandError
from engine.commands import Claim, Evaluate, FollowUp, Handle, Submission
from engine.lifecycle import State
from engine.values import Location, Resident
from engine.vocabulary import Channel, Kind

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def submission(external_id: str = "1") -> Submission:
    return Submission(
        source="wechat",
        external_id=external_id,
        kind=Kind.WISH,
        title="A wheelchair for my mother",
        channel=Channel.WECHAT,
        location=Location(
            city="Karamay", district="Karamay District", street="Yingbin", community="Xinhua", grid="G1"
        ),
        resident=Resident(name="Li", phone="13800138000", address="Building 3"),
    )


@pytest.mark.integration
def test_full_lifecycle_is_recorded_once_even_when_every_command_is_repeated(settings: Settings) -> None:
    app = System(settings).open_store()
    sub = submission()
    demand = sub.demand_id
    steps = [
        sub,
        Claim(member="wang", unit="Party branch 1"),
        Handle(member="wang", hours=1.5, note="delivered"),
        FollowUp(worker="zhao", resolved=True),
        Evaluate(rating="satisfied"),
    ]
    version = 0
    for i, command in enumerate(steps):
        status = app.record(demand, command, T0 + timedelta(hours=i), version)
        again = app.record(demand, command, T0 + timedelta(hours=i), version)  # a retried activity
        assert again == status
        version = status.version
    assert status.state is State.CLOSED
    names = [type(e).__name__ for e in app.history(demand)]
    assert names == ["Collected", "Claimed", "Handled", "FollowedUp", "Evaluated", "Closed"]
    app.close()


@pytest.mark.integration
def test_a_command_retried_after_later_ones_answers_as_it_left_the_demand(settings: Settings) -> None:
    """A worker killed after the store wrote replays its task on another worker: each command
    arrives again, with the same id, after the store has moved on. Each is answered with the
    standing it left (not today's), so the workflow takes the next command as new again."""
    app = System(settings).open_store()
    sub = submission("retried")
    steps = [sub, Claim(member="wang", unit="Party branch 1"), Handle(member="wang", hours=1, note="done")]
    ids = [uuid.uuid4() for _ in steps]
    version, first = 0, []
    for i, (command, command_id) in enumerate(zip(steps, ids, strict=True)):
        status = app.record(sub.demand_id, command, T0 + timedelta(hours=i), version, command_id)
        first.append(status)
        version = status.version
    for i, (command, command_id) in enumerate(zip(steps, ids, strict=True)):  # the replayed task
        expected = first[i - 1].version if i else 0
        again = app.record(sub.demand_id, command, T0 + timedelta(hours=i, minutes=5), expected, command_id)
        assert (again.state, again.version) == (first[i].state, first[i].version)
    with pytest.raises(StaleCommandError, match="changed meanwhile"):  # another claim, not this one
        app.record(sub.demand_id, steps[1], T0, 1, uuid.uuid4())
    assert [type(e).__name__ for e in app.history(sub.demand_id)] == ["Collected", "Claimed", "Handled"]
    app.close()
