"""Drive demands through the real store and run the real points projection over them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

from adapters.bootstrap import System
from adapters.settings import Settings
from engine.application import Demands
from engine.commands import Claim, CloseUnrated, Commend, Complain, Evaluate, FollowUp, Handle, Submission
from engine.status import DemandStatus
from engine.values import Location, Resident
from engine.vocabulary import Channel, Kind, Priority, Rating
from projections.points.projection import PointsProjection
from projections.points.view import PointsView

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 10, 5, 9, 0, tzinfo=CST)


def location(street: str = "Yingbin", community: str = "Xinhua") -> Location:
    """A place in Karamay."""
    return Location(
        city="Karamay", district="Karamay District", street=street, community=community, grid="G1"
    )


class Driver:
    """Records commands on demands through `Demands.record`, tracking each demand's version."""

    def __init__(self, app: Demands) -> None:
        self.app = app
        self.versions: dict[str, int] = {}

    def record(self, demand_id: str, command: Any, at: datetime) -> DemandStatus:
        """Record one command at the demand's current version."""
        status = self.app.record(demand_id, command, at, self.versions.get(demand_id, 0))
        self.versions[demand_id] = status.version
        return status

    def close(
        self,
        external_id: str,
        *,
        post: str | None = "environment",
        priority: Priority = Priority.GENERAL,
        member: str = "wang",
        unit: str = "Party branch 1",
        co_claimants: tuple[str, ...] = (),
        hours: float = 2.0,
        rating: Rating | None = Rating.SATISFIED,
        commendations: int = 0,
        closed_at: datetime = T0,
        street: str = "Yingbin",
    ) -> str:
        """Take a demand round the whole loop, closing it at `closed_at`; returns its id."""
        sub = Submission(
            source="wechat", external_id=external_id, kind=Kind.WISH, title="Fix the stairwell light",
            channel=Channel.WECHAT, priority=priority, post=post, location=location(street),
            resident=Resident(name="Li"),
        )  # fmt: skip
        demand = sub.demand_id
        start = closed_at - timedelta(hours=6)
        self.record(demand, sub, start)
        self.record(demand, Claim(member=member, unit=unit, co_claimants=co_claimants), start)
        self.finish(demand, hours=hours, rating=rating, commendations=commendations, closed_at=closed_at)
        return demand

    def finish(
        self,
        demand: str,
        *,
        hours: float = 2.0,
        rating: Rating | None = Rating.SATISFIED,
        commendations: int = 0,
        closed_at: datetime = T0,
    ) -> None:
        """Handle, commend, follow up and evaluate (or close unrated) a claimed demand."""
        claimant = self.app.status(demand).claimant
        assert claimant is not None, f"{demand} is not claimed"
        self.record(demand, Handle(member=claimant.member, hours=hours), closed_at - timedelta(hours=3))
        for _ in range(commendations):
            self.record(demand, Commend(by="community"), closed_at - timedelta(hours=2))
        self.record(demand, FollowUp(worker="zhao", resolved=True), closed_at - timedelta(hours=1))
        if rating is None:
            self.record(demand, CloseUnrated(), closed_at)
        else:
            self.record(demand, Evaluate(rating=rating), closed_at)

    def reopen(self, demand: str, at: datetime) -> None:
        """A late complaint reopens a closed demand (at the version the store holds it)."""
        self.versions[demand] = self.app.status(demand).version
        self.record(demand, Complain(reason="the light failed again"), at)


@contextmanager
def points_runner(settings: Settings, suffix: str = "") -> Iterator[PointsView]:
    """Run the points projection until it has caught up with the store, stop it, yield its view.

    `suffix` builds the view in tables of its own (`points_ledger<suffix>` ...), as a rebuild does.
    """
    system = System(settings)
    spec = next(s for s in system.projection_specs() if s.name == PointsView.name)
    with system.projections(specs=(spec,), suffix=suffix) as running:
        running.wait_until_caught_up(timeout=30)
    view = PointsView(system.views_database(), suffix)
    try:
        yield view
    finally:
        view.close()


def feed(app: Demands, projection: PointsProjection, upto: int) -> None:
    """Process the store's first `upto` notifications by hand, as a runner would, then stop."""
    for notification in app.recorder.select_notifications(start=1, limit=upto):
        projection.process_event(app.mapper.to_domain_event(notification), notification.id)
    projection.view.commit(upto)
