"""The store application on both databases: a demand through its whole life, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.bootstrap import System
from adapters.settings import Settings
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
