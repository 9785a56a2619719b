"""Sample demands for a demo or a trial run, pushed and driven through the real workflows."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from adapters.demands_client import CommandRefusedError, DemandsClient
from engine import commands as c
from engine.past import PastDemand, PastStep
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
KARAMAY_TIME = timezone(timedelta(hours=8))
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


KARAMAY_YEAR = (6185, 6079)
"""Karamay district's year in the seeds: 6,185 micro-wishes collected, all claimed, 6,079 completed."""


def sample_year(
    year: int, collected: int = KARAMAY_YEAR[0], completed: int = KARAMAY_YEAR[1], seed: int = 2026
) -> Iterator[PastDemand]:
    """A realistic sample year as past demands (marked as sample data): collected evenly through the
    local year, all claimed within hours, `completed` of them closed (a few late, reopened or left
    unrated), the last ones collected still in hand at the year's end."""
    rng = random.Random(seed)
    start = datetime(year, 1, 1, tzinfo=KARAMAY_TIME)
    step = (datetime(year + 1, 1, 1, tzinfo=KARAMAY_TIME) - start) / collected
    plan = SeedPlan(count=collected, source=f"sample-{year}", seed=seed)
    for n in range(collected):
        at = start + n * step + timedelta(minutes=rng.uniform(0, 30))
        submission = sample_submission(rng, plan, n).model_copy(
            update={"title": f"[sample] {rng.choice(WISHES + APPEALS)}"}
        )
        yield PastDemand(
            submission=submission, collected_at=at, sample=True,
            steps=tuple(_past_steps(rng, at, closes=n < completed)),
        )  # fmt: skip


def _past_steps(rng: random.Random, at: datetime, closes: bool) -> Iterator[PastStep]:
    member, unit = rng.choice(MEMBERS)
    co = (rng.choice([m for m, _ in MEMBERS if m != member]),) if rng.random() < 0.1 else ()
    at += timedelta(hours=rng.choice([0.5, 1, 2, 4, 8]) if rng.random() < 0.97 else rng.uniform(25, 30))
    yield PastStep(at=at, command=c.Claim(member=member, unit=unit, co_claimants=co))
    if not closes:
        return
    rounds = 2 if rng.random() < 0.04 else 1  # found unresolved, or rated unsatisfied: a second round
    for round_ in range(rounds):
        late = rng.random() < 0.05
        at += timedelta(hours=rng.uniform(50, 70) if late else rng.uniform(2, 30))
        yield PastStep(at=at, command=c.Handle(member=member, hours=round(rng.uniform(0.5, 4), 1)))
        at += timedelta(hours=rng.uniform(1, 24))
        last = round_ == rounds - 1
        unresolved = not last and rng.random() < 0.5
        yield PastStep(at=at, command=c.FollowUp(worker="community", resolved=not unresolved))
        if unresolved:
            continue
        if last and rng.random() < 0.03:
            return  # never rated: it closes unrated when the evaluation window passes
        at += timedelta(hours=rng.uniform(1, 48))
        rating = Rating.UNSATISFIED if not last else rng.choices(list(Rating)[:2], weights=(88, 12))[0]
        yield PastStep(at=at, command=c.Evaluate(rating=rating))


def write_sample_year(path: Path, year: int, collected: int = KARAMAY_YEAR[0], seed: int = 2026) -> int:
    """Write a sample year (the Karamay mix scaled to `collected`) as JSON Lines; how many lines."""
    completed = round(collected * KARAMAY_YEAR[1] / KARAMAY_YEAR[0])
    with path.open("w", encoding="utf-8") as file:
        for past in sample_year(year, collected, completed, seed):
            file.write(past.model_dump_json(exclude_defaults=False) + "\n")
    return collected
