"""Time travel: the views, a member's balance and a demand as they stood at a moment, from the events
up to it.

The live views only know now. The figures of a past moment are rebuilt by the live views' own
projections over the store's events up to that moment, into a throw-away database, and read
with the live views' own queries at that moment (`now=T`). So an as-of figure is the figure the
live view showed then, and a change to a figure's definition changes both at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from pydantic import BaseModel, ConfigDict

from adapters.bootstrap import System
from engine.demand import aggregate_id
from engine.eventmodel import DomainEvent
from engine.policies.points import to_tenths
from engine.status import DemandStatus
from engine.timebank import Balance
from engine.vocabulary import AccountKind
from projections.index.view import DemandIndexView
from projections.points.models import LedgerEntry
from projections.points.view import PointsView
from projections.scratch import Feed, events_until
from projections.view import View

Progress = Callable[[int, int], None]
"""Told (position reached, last position) while the events are read."""

MOMENT_HELP = (
    "a time such as 2026-03-01T09:00 (local time unless it names its offset, e.g. +08:00) "
    "or a day such as 2026-03-01 (its end)"
)


def moment(text: str, zone: tzinfo) -> datetime:
    """Read an instant: an ISO time (local if it has no offset), or a day meaning the end of that day."""
    cleaned = text.strip()
    try:
        if len(cleaned) == 10:
            day = date.fromisoformat(cleaned)
            return datetime.combine(day + timedelta(days=1), time(0), zone) - timedelta(microseconds=1)
        at = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(f"not a moment: {text!r} (use {MOMENT_HELP})") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=zone)


class NotYetCollectedError(LookupError):
    """The demand exists, but had not been collected at the moment asked about."""


class DemandAsOf(BaseModel):
    """A demand as it stood at a moment: its status, its points so far, and its events up to then."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    at: datetime
    status: DemandStatus
    entries: list[LedgerEntry]
    events: list[DomainEvent]

    @property
    def late_by(self) -> timedelta | None:
        """How far past its promise the demand was at that moment, if it was."""
        return self.status.late_by(self.at)


@contextmanager
def views_as_of(
    system: System, at: datetime, names: Sequence[str], on_progress: Progress | None = None
) -> Iterator[dict[str, View]]:
    """The named views built from the store's events up to `at`, in a throw-away database."""
    specs = [spec for spec in system.projection_specs() if spec.name in names]
    with system.store() as store, system.scratch_database() as db:
        last = store.recorder.max_notification_id() or 0
        feed = Feed(specs, db)
        for position, domain_event in events_until(store, at):
            feed.add(domain_event, position)
            if on_progress is not None and feed.events % 500 == 0:
                on_progress(position, last)
        feed.commit()
        if on_progress is not None:
            on_progress(last, last)
        yield feed.views


@contextmanager
def index_as_of(
    system: System, at: datetime, on_progress: Progress | None = None
) -> Iterator[DemandIndexView]:
    """The demand index as it stood at `at`: ask it with `now=at`."""
    with views_as_of(system, at, [DemandIndexView.name], on_progress) as views:
        view = views[DemandIndexView.name]
        assert isinstance(view, DemandIndexView)
        yield view


@contextmanager
def points_as_of(system: System, at: datetime, on_progress: Progress | None = None) -> Iterator[PointsView]:
    """The points ledger as it stood at `at`."""
    with views_as_of(system, at, [PointsView.name], on_progress) as views:
        view = views[PointsView.name]
        assert isinstance(view, PointsView)
        yield view


def balance_as_of(system: System, ledger: PointsView, member: str, at: datetime) -> Balance:
    """A member's time-bank standing at `at`: the ledger then, less what was redeemed by then."""
    with system.time_bank(ledger) as bank:
        redeemed = sum(to_tenths(r.points) for r in bank.redemptions(member) if r.at <= at)
    return Balance.of(member, ledger.total(AccountKind.MEMBER, member), redeemed)


def demand_as_of(system: System, demand_id: str, at: datetime) -> DemandAsOf:
    """The demand at `at` from its events up to then (DemandNotFoundError, NotYetCollectedError)."""
    with system.store() as store:
        history = store.history(demand_id)
        upto = []
        for domain_event in history:
            if domain_event.timestamp > at:
                break
            upto.append(domain_event)
        if not upto:
            collected = history[0].timestamp.isoformat()
            raise NotYetCollectedError(
                f"demand {demand_id} was collected at {collected}, after {at.isoformat()}"
            )
        demand: Any = store.repository.get(aggregate_id(demand_id), version=upto[-1].originator_version)
        status: DemandStatus = demand.status()
    points = [spec for spec in system.projection_specs() if spec.name == PointsView.name]
    with system.scratch_database() as db:
        feed = Feed(points, db)
        feed.add_all(upto)
        feed.commit()
        ledger = feed.views[PointsView.name]
        assert isinstance(ledger, PointsView)
        entries = ledger.ledger()
    return DemandAsOf(at=at, status=status, entries=entries, events=upto)
