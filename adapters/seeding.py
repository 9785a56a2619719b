"""Sample demands for a demo or a trial run, pushed and driven through the real workflows."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass

from adapters.demands_client import CommandRefusedError, DemandsClient
from engine import commands as c
from engine.values import Location, Resident
from engine.vocabulary import Channel, Kind, Priority, Rating

PLACES = [
    Location(city="Karamay", district="Karamay District", street="Yingbin", community=community, grid=grid)
    for community in ("Xinhua", "Youyi", "Tianrun")
    for grid in ("G1", "G2")
] + [
    Location(city="Karamay", district="Dushanzi District", street="Jinshan", community=community, grid="G1")
    for community in ("Hongqi", "Minsheng")
]
WISHES = [
    "A wheelchair for my mother",
    "Fix the stairwell light",
    "Help moving a sofa",
    "Tutoring for my son",
]
APPEALS = ["The water keeps being cut off", "Unpaid wages", "Noise from the night market", "Broken pavement"]
MEMBERS = [
    ("li", "Party branch 1"),
    ("wang", "Party branch 1"),
    ("zhou", "Power Co. branch"),
    ("chen", "School branch"),
]


@dataclass(frozen=True)
class SeedPlan:
    """How many demands to push and how far around the loop to take them."""

    count: int
    closed_share: float = 0.7
    claimed_share: float = 0.15
    source: str = "seed"
    seed: int = 2026


def sample_submission(rng: random.Random, plan: SeedPlan, n: int) -> c.Submission:
    """The n-th sample demand; its resident carries no real personal data."""
    kind = rng.choice(list(Kind))
    return c.Submission(
        source=plan.source,
        external_id=f"{plan.seed}-{n}",
        kind=kind,
        title=rng.choice(WISHES if kind is Kind.WISH else APPEALS),
        channel=rng.choice(list(Channel)),
        priority=rng.choices(list(Priority), weights=(8, 3, 1))[0],
        location=rng.choice(PLACES),
        resident=Resident(name=f"Sample resident {n}"),
    )


async def seed_demands(
    client: DemandsClient, plan: SeedPlan, on_done: Callable[[], None] | None = None
) -> dict[str, int]:
    """Push `plan.count` demands; close some, leave some claimed, the rest waiting. Counts by outcome."""
    rng = random.Random(plan.seed)
    limit = asyncio.Semaphore(16)
    outcomes: dict[str, int] = {}

    async def one(n: int) -> None:
        submission = sample_submission(rng, plan, n)
        roll = rng.random()
        member, unit = rng.choice(MEMBERS)
        rating = rng.choices(list(Rating), weights=(12, 3, 1))[0]
        async with limit:
            demand_id = await client.submit(submission)
            outcome = "collected"
            try:
                if roll < plan.closed_share + plan.claimed_share:
                    await client.command(demand_id, c.Claim(member=member, unit=unit))
                    outcome = "claimed"
                if roll < plan.closed_share:
                    hours = round(rng.uniform(0.5, 4), 1)
                    await client.command(demand_id, c.Handle(member=member, hours=hours))
                    await client.command(demand_id, c.FollowUp(worker="community", resolved=True))
                    status = await client.command(demand_id, c.Evaluate(rating=rating))
                    outcome = status.state.value
            except CommandRefusedError:  # already taken further by an earlier seed with the same ids
                outcome = "unchanged"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if on_done is not None:
            on_done()

    await asyncio.gather(*(one(n) for n in range(plan.count)))
    return outcomes
