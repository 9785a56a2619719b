"""Histories for the replay and read benchmarks, generated through the real aggregates and store.

Each demand is built by `MicroDemand.collect` and `apply` (the same rules and clocks the workflow's
`record` activity runs), and a batch of demands is saved in one `Demands.save`, so a million events
take minutes rather than the hours one append per command would.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from engine import commands as c
from engine.application import Demands
from engine.demand import MicroDemand
from engine.values import Location, Resident
from engine.vocabulary import Channel, Kind, Priority, Rating

START = datetime(2025, 1, 1, 1, 0, tzinfo=UTC)
"""The first demand's collection; demands follow over a year and more, so months fill."""

COMMUNITIES = [f"C{n:03d}" for n in range(60)]
STREETS = [f"S{n:02d}" for n in range(12)]
MEMBERS = [f"member{n:04d}" for n in range(2_000)]
UNITS = [f"Unit {n:03d}" for n in range(150)]
POSTS = ["environment", "care and assistance", "convenience services", "mediation and public security"]


def _location(n: int) -> Location:
    community = COMMUNITIES[n % len(COMMUNITIES)]
    street = STREETS[(n % len(COMMUNITIES)) % len(STREETS)]
    return Location(
        city="Karamay",
        district=f"D{street[-1]}",
        street=street,
        community=community,
        grid=f"{community}-G{n % 4}",
    )


def _demand_commands(rng: random.Random, n: int) -> tuple[c.Submission, list[tuple[timedelta, c.Command]]]:
    """The n-th demand's submission and the commands that follow it, each with its delay."""
    kind = Kind.WISH if n % 3 else Kind.APPEAL
    sub = c.Submission(
        source="bench", external_id=str(n), kind=kind, title="Fix the stairwell light",
        channel=list(Channel)[n % len(Channel)], priority=rng.choices(list(Priority), weights=(8, 3, 1))[0],
        post=POSTS[n % len(POSTS)], location=_location(n), resident=Resident(name=f"Resident {n}"),
    )  # fmt: skip
    member, unit = MEMBERS[rng.randrange(len(MEMBERS))], UNITS[rng.randrange(len(UNITS))]
    hour = timedelta(hours=1)
    roll = rng.random()
    steps: list[tuple[timedelta, c.Command]] = []
    if roll < 0.08:  # left waiting: overdue, escalated by the timer
        steps = [(timedelta(days=1), c.MarkOverdue())]
    elif roll < 0.12:
        steps = [(2 * hour, c.Withdraw(reason="solved it myself"))]
    else:
        steps = [
            (2 * hour, c.Claim(member=member, unit=unit)),
            (5 * hour, c.Handle(member=member, hours=round(rng.uniform(0.5, 4), 1))),
            (9 * hour, c.FollowUp(worker="community", resolved=True)),
        ]
        if roll < 0.85:
            rating = rng.choices(list(Rating), weights=(12, 3, 1))[0]
            steps.append((20 * hour, c.Evaluate(rating=rating)))
    return sub, steps


def grow(
    app: Demands,
    events: int,
    *,
    in_flight: int = 400,
    seed: int = 2026,
    on_saved: Callable[[int], Any] | None = None,
) -> int:
    """Append demands until the store holds at least `events` notifications; returns how many it holds.

    `in_flight` demands move together, one command each per saved batch, so a demand's events lie
    hundreds of notifications apart, as they do when workflows record them over days. Numbering
    continues after the demands already stored, so 100k, then 300k, then 1M reuse what is there.
    """
    held = app.recorder.max_notification_id() or 0
    next_n = _demands_held(app)
    slots: list[tuple[MicroDemand, Iterator[tuple[datetime, c.Command]]] | None] = [None] * in_flight
    while held < events:
        batch: list[MicroDemand] = []
        for i, slot in enumerate(slots):
            if slot is None:
                sub, steps = _demand_commands(random.Random(seed * 1_000_003 + next_n), next_n)
                at = START + timedelta(minutes=3 * next_n)
                demand = MicroDemand.collect(sub, at, app.limits)
                slots[i] = (demand, iter([(at + delay, command) for delay, command in steps]))
                next_n += 1
            else:
                demand, rest = slot
                step = next(rest, None)
                if step is None:
                    slots[i] = None
                    continue
                demand.apply(step[1], step[0], app.limits)
            batch.append(demand)
        app.save(*batch)
        now = app.recorder.max_notification_id() or 0
        if on_saved is not None:
            on_saved(now - held)
        held = now
    return held


def _demands_held(app: Demands) -> int:
    """How many bench demands the store holds: one more than the highest number collected."""
    last = app.recorder.max_notification_id() or 0
    collected = [t for t in app.recorder.select_notifications(start=max(1, last - 2_000), limit=2_001)]
    numbers = [
        int(app.mapper.to_domain_event(n).external_id)  # type: ignore[attr-defined]
        for n in collected
        if n.topic.endswith("Collected")
    ]
    return max(numbers) + 1 if numbers else 0
