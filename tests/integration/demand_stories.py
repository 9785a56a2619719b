"""Demands driven through the real store application, step by step, for the projection tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from adapters.bootstrap import System
from adapters.settings import Settings
from engine.application import Demands
from engine.commands import (
    Claim,
    Command,
    Escalate,
    Evaluate,
    FollowUp,
    Handle,
    MarkOverdue,
    Submission,
    Withdraw,
)
from engine.status import DemandStatus
from engine.values import Location, Resident
from engine.vocabulary import Channel, Kind, Priority, Rating
from projections.index.view import DemandIndexView

T0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Karamay
HOUR = timedelta(hours=1)

COMMUNITIES = {
    "Xinhua": ("Yingbin", "Karamay District", ("X1", "X2")),
    "Kunlun": ("Yingbin", "Karamay District", ("K1",)),
    "Baijiantan": ("Sanping", "Baijiantan District", ("B1",)),
}


def submission(
    external_id: str,
    *,
    community: str = "Xinhua",
    grid: str | None = None,
    priority: Priority = Priority.GENERAL,
    channel: Channel = Channel.WECHAT,
    category: str = "general",
    post: str | None = None,
    title: str = "Fix the stairwell light",
) -> Submission:
    """A demand as the upstream platform pushes it, with a resident whose data must stay private."""
    street, district, grids = COMMUNITIES[community]
    return Submission(
        source="wechat",
        external_id=external_id,
        kind=Kind.WISH,
        title=title,
        channel=channel,
        category=category,
        priority=priority,
        post=post,
        location=Location(
            city="Karamay", district=district, street=street, community=community, grid=grid or grids[0]
        ),
        resident=Resident(name="Li Mei", phone="13800138000", address="Building 3, Room 402"),
    )


class Story:
    """Records commands on demands through Demands.record, keeping each demand's expected version."""

    def __init__(self, app: Demands) -> None:
        self.app = app
        self.versions: dict[str, int] = {}

    def do(self, demand_id: str, command: Command, at: datetime) -> DemandStatus:
        """Record one command at `at`, as the workflow's activity would."""
        status = self.app.record(demand_id, command, at, self.versions.get(demand_id, 0))
        self.versions[demand_id] = status.version
        return status

    def collect(self, sub: Submission, at: datetime = T0) -> str:
        """Collect a demand; returns its id."""
        self.do(sub.demand_id, sub, at)
        return sub.demand_id

    def claim(self, demand_id: str, at: datetime, unit: str = "Party branch 1") -> None:
        """A member of `unit` claims it."""
        self.do(demand_id, Claim(member="wang", unit=unit), at)

    def handle_and_follow_up(self, demand_id: str, at: datetime) -> None:
        """Handled, then followed up as resolved, an hour apart."""
        self.do(demand_id, Handle(member="wang", hours=1.5, note="done"), at)
        self.do(demand_id, FollowUp(worker="zhao", resolved=True), at + HOUR)

    def evaluate(self, demand_id: str, at: datetime, rating: Rating = Rating.SATISFIED) -> None:
        """The resident rates it (a positive rating closes it, an unsatisfied one reopens it)."""
        self.do(demand_id, Evaluate(rating=rating), at)

    def close_loop(self, demand_id: str, at: datetime, rating: Rating = Rating.SATISFIED) -> None:
        """Claim, handle, follow up and evaluate, an hour apart from `at`."""
        self.claim(demand_id, at)
        self.handle_and_follow_up(demand_id, at + HOUR)
        self.evaluate(demand_id, at + 3 * HOUR, rating)

    def mark_overdue(self, demand_id: str, at: datetime) -> None:
        """The workflow's timer: the deadline passed (escalates one level unless at the top)."""
        self.do(demand_id, MarkOverdue(), at)

    def escalate(self, demand_id: str, at: datetime) -> None:
        """An operator escalates it by hand."""
        self.do(demand_id, Escalate(by="operator", reason="stuck"), at)

    def withdraw(self, demand_id: str, at: datetime) -> None:
        """The resident withdraws it."""
        self.do(demand_id, Withdraw(reason="solved it myself"), at)


@contextmanager
def story_on(settings: Settings) -> Iterator[Story]:
    """A Story on a fresh Demands application for `settings`, closed afterwards."""
    with System(settings).store() as app:
        yield Story(app)


@contextmanager
def projected_index(settings: Settings, timeout: float = 60.0) -> Iterator[DemandIndexView]:
    """Run the projections until they have caught up with the store; yield the demand index."""
    system = System(settings)
    with system.projections() as running:
        running.wait_until_caught_up(timeout)
    with system.index_view() as index:
        yield index


def mixed_history(story: Story, names: range, start: datetime) -> list[str]:
    """Demands taking every common path, a few hours apart: closed, late, reopened, withdrawn, open."""
    ids = []
    communities = list(COMMUNITIES)
    for n in names:
        at = start + n * 7 * HOUR
        demand = story.collect(submission(f"m{n}", community=communities[n % len(communities)]), at)
        ids.append(demand)
        match n % 6:
            case 0:
                story.close_loop(demand, at + HOUR)
            case 1:
                story.close_loop(demand, at + HOUR, Rating.BASICALLY_SATISFIED)
            case 2:
                story.mark_overdue(demand, at + 2 * timedelta(days=1))
                story.close_loop(demand, at + 2 * timedelta(days=1) + HOUR)
            case 3:
                story.close_loop(demand, at + HOUR, Rating.UNSATISFIED)
            case 4:
                story.withdraw(demand, at + HOUR)
            case _:
                pass  # still waiting for a claim
    return ids


def finish_open_demands(story: Story, ids: list[str], at: datetime) -> None:
    """Later events on earlier demands: claim and close what is still waiting, re-close the reopened."""
    for demand in ids:
        state = story.app.status(demand).state
        if state.value == "collected":
            story.close_loop(demand, at)
        elif state.value == "claimed":
            story.handle_and_follow_up(demand, at)
            story.evaluate(demand, at + 2 * HOUR)
