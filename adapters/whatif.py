"""What-if: a period's demands lived again under another time-limit and points policy, beside the real.

Reads each demand of the period (cohort by collection, as the rates are) from the store,
re-simulates it under the other time limits (`engine.resimulation`, pure), and projects both
the real events and the re-simulated ones through the live views' own projections into two
sets of throw-away views: the points ledger of the other set priced by the other points policy.
The figures of both come from the live views' own queries, so the comparison is like for like
and the live views are never touched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from pydantic import BaseModel, ConfigDict

from adapters.bootstrap import System
from engine.application import Demands
from engine.demand import MicroDemand
from engine.masking import mask_text
from engine.periods import Period
from engine.policies.points import PointsPolicy
from engine.policies.timelimits import TimeLimits
from engine.resimulation import resimulate
from engine.scope import Places, inside, named
from projections.index.models import DemandRecord, RateRow
from projections.index.view import DemandIndexView
from projections.points.view import PointsView
from projections.scratch import Feed

Progress = Callable[[int, int], None]
"""Told (demands done, demands in the period)."""

_COLLECTED = get_topic(MicroDemand.Collected)


class Figures(BaseModel):
    """A period's figures under one policy: the rates row, overdue counts, escalations, points."""

    model_config = ConfigDict(frozen=True)

    rates: RateRow
    ever_overdue: int = 0
    """Demands marked overdue at least once."""
    overdue_marks: int = 0
    escalated_by_timer: int = 0
    escalated_by_hand: int = 0
    member_tenths: int = 0
    unit_tenths: int = 0


class DemandStanding(BaseModel):
    """How one demand ended (or stands) under one policy."""

    model_config = ConfigDict(frozen=True)

    state: str
    on_time: bool | None
    escalations: int
    overdue_marks: int
    member_tenths: int

    def score(self, other: DemandStanding) -> float:
        """How much the standing changes: a different end weighs most, then on time, escalations,
        overdue marks, then points (one per point)."""
        return (
            10 * (self.state != other.state)
            + 5 * (self.on_time != other.on_time)
            + 2 * abs(self.escalations - other.escalations)
            + abs(self.overdue_marks - other.overdue_marks)
            + abs(self.member_tenths - other.member_tenths) / 10
        )


class Change(BaseModel):
    """A demand whose standing the other policy changes, with both standings."""

    model_config = ConfigDict(frozen=True)

    demand_id: str
    title: str
    score: float
    real: DemandStanding
    whatif: DemandStanding
    refused: list[str]


class WhatIf(BaseModel):
    """The answer: both sets of figures over the same demands, and the demands that change most."""

    model_config = ConfigDict(frozen=True)

    period: str
    scope: str
    horizon: datetime
    demands: int
    real: Figures
    whatif: Figures
    changes: list[Change]
    refused: int
    """Facts the other policy's demands could no longer take (see each change's `refused`)."""


class _Tally:
    """Counts kept while demands are projected: overdue marks, escalations, points."""

    def __init__(self) -> None:
        self.ever_overdue = self.overdue_marks = self.by_timer = self.by_hand = 0
        self.member = self.unit = 0

    def standing(self, events: Sequence[Any], index: DemandIndexView, points: PointsView) -> DemandStanding:
        aggregate = events[0].originator_id
        marks = sum(type(e).__name__ == "Overdue" for e in events)
        escalations = [e for e in events if type(e).__name__ == "Escalated"]
        facts = points.facts(aggregate)
        holds = facts.holds if facts is not None else {}
        member = sum(t for k, t in holds.items() if k.startswith("member:"))
        self.ever_overdue += marks > 0
        self.overdue_marks += marks
        self.by_timer += sum(e.automatic for e in escalations)
        self.by_hand += sum(not e.automatic for e in escalations)
        self.member += member
        self.unit += sum(t for k, t in holds.items() if k.startswith("unit:"))
        record: DemandRecord | None = index.record(aggregate)
        assert record is not None
        return DemandStanding(
            state=record.state.value, on_time=record.on_time, escalations=record.escalations,
            overdue_marks=marks, member_tenths=member,
        )  # fmt: skip

    def figures(self, rates: RateRow) -> Figures:
        return Figures(
            rates=rates, ever_overdue=self.ever_overdue, overdue_marks=self.overdue_marks,
            escalated_by_timer=self.by_timer, escalated_by_hand=self.by_hand,
            member_tenths=self.member, unit_tenths=self.unit,
        )  # fmt: skip


def cohort(
    store: Demands, since: datetime, until: datetime, scope: Places, page_size: int = 1000
) -> list[UUID]:
    """The aggregate ids of the demands collected in [since, until) within `scope`, in store order."""
    found: list[UUID] = []
    position = 0
    while page := store.recorder.select_notifications(
        start=position, limit=page_size, topics=[_COLLECTED], inclusive_of_start=False
    ):
        for notification in page:
            collected: Any = store.mapper.to_domain_event(notification)
            if since <= collected.timestamp < until and inside(scope, collected.location):
                found.append(collected.originator_id)
        position = page[-1].id
    return found


def what_if(
    system: System,
    *,
    limits: TimeLimits,
    points: PointsPolicy,
    period: Period,
    scope: Places,
    horizon: datetime,
    top: int = 10,
    on_progress: Progress | None = None,
) -> WhatIf:
    """The period's real figures beside those `limits` and `points` would have given, as at `horizon`."""
    since, until = period.window(system.local_zone)
    with system.store() as store, system.scratch_database() as db:
        real = Feed(system.projection_specs(), db, suffix="_real")
        other = Feed(system.projection_specs(points), db, suffix="_whatif")
        real_index, other_index = _views(real), _views(other)
        tallies = (_Tally(), _Tally())
        changes: list[Change] = []
        refused = 0
        demands = cohort(store, since, until, scope)
        for done, aggregate in enumerate(demands, start=1):
            stored: list[Any] = list(store.events.get(aggregate))
            events = [e for e in stored if e.timestamp <= horizon]
            again = resimulate(events, limits, horizon)
            real.add_all(events)
            other.add_all(again.events)
            before = tallies[0].standing(events, *real_index)
            after = tallies[1].standing(again.events, *other_index)
            refused += len(again.refused)
            change = Change(
                demand_id=again.demand_id, title=mask_text(events[0].title), score=after.score(before),
                real=before, whatif=after, refused=again.refused,
            )  # fmt: skip
            if change.score > 0:
                changes.append(change)
                if len(changes) > 4 * top + 100:  # keep memory flat over a large period
                    changes = _most_changed(changes, top)
            if on_progress is not None and (done % 100 == 0 or done == len(demands)):
                on_progress(done, len(demands))
        real.commit()
        other.commit()
        figures = [
            tally.figures(_overall(index.rates(since=since, until=until, scope=scope, now=horizon)))
            for tally, (index, _) in zip(tallies, (real_index, other_index), strict=True)
        ]
    return WhatIf(
        period=period.label, scope=named(scope), horizon=horizon, demands=len(demands), real=figures[0],
        whatif=figures[1], changes=_most_changed(changes, top),
        refused=refused,
    )  # fmt: skip


def _views(feed: Feed) -> tuple[DemandIndexView, PointsView]:
    index, points = feed.views[DemandIndexView.name], feed.views[PointsView.name]
    assert isinstance(index, DemandIndexView)
    assert isinstance(points, PointsView)
    return index, points


def _overall(rows: list[RateRow]) -> RateRow:
    return rows[0] if rows else RateRow()


def _most_changed(changes: list[Change], top: int) -> list[Change]:
    """The `top` changes with the highest scores; ties in demand id order."""
    return sorted(changes, key=lambda c: (-c.score, c.demand_id))[:top]
