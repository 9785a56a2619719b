"""The Karamay figures from DESIGN.md, read from the projection: 6,185 collected, 6,079 completed.

Straight through the store application and the projection (no Temporal): every demand is
collected, claimed, handled, followed up and evaluated through Demands.record, then the
projection reads the store from position zero.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from demand_stories import COMMUNITIES, Story, submission

from adapters.bootstrap import System
from adapters.settings import Settings
from engine.application import Demands
from engine.vocabulary import Rating
from projections.index.view import DemandIndexView

pytestmark = pytest.mark.integration

COLLECTED, COMPLETED = 6185, 6079
YEAR_START = datetime(2024, 12, 31, 16, 0, tzinfo=UTC)  # 1 January 2025, 00:00 in Karamay
KARAMAY = timedelta(hours=8)
STEP = timedelta(days=365) / COLLECTED


@pytest.fixture
def karamay_settings(tmp_path: Path) -> Iterator[Settings]:
    """SQLite files in RAM where the machine offers it: the test is about counting, not fsync."""
    ram = Path("/dev/shm")
    with tempfile.TemporaryDirectory(
        dir=ram if ram.is_dir() and os.access(ram, os.W_OK) else tmp_path
    ) as var:
        yield Settings(_env_file=None, var_dir=Path(var), store="sqlite")  # type: ignore[call-arg]


def test_karamay_year_reads_a_100_percent_claim_rate_and_98_3_percent_completion(
    karamay_settings: Settings,
) -> None:
    # One writer: the aggregate cache saves re-reading each demand's history before each step.
    system = System(karamay_settings)
    env = {**system.store_env(), "AGGREGATE_CACHE_MAXSIZE": "1000", "AGGREGATE_CACHE_FASTFORWARD": "n"}
    app = Demands(env=env)
    story = Story(app)
    communities = list(COMMUNITIES)
    try:
        for n in range(COLLECTED):
            at = YEAR_START + n * STEP
            demand = story.collect(submission(f"k{n}", community=communities[n % len(communities)]), at)
            if n < COMPLETED:
                rating = Rating.BASICALLY_SATISFIED if n % 10 == 0 else Rating.SATISFIED
                story.close_loop(demand, at + timedelta(minutes=30), rating)
            else:
                story.claim(demand, at + timedelta(minutes=30))  # claimed, still being handled
        # The projection catches up after the writing, as after a rebuild: one thread at a time
        # keeps Python's GIL from making the writer and the projection wait on each other.
        index_only = tuple(spec for spec in system.projection_specs() if spec.view is DemandIndexView)
        with system.projections(specs=index_only) as running:
            running.wait_until_caught_up(timeout=120)
        with system.index_view() as index:
            end_of_year = YEAR_START + timedelta(days=365)
            [overall] = index.rates(now=end_of_year)
            by_month = index.rates(per="month", utc_offset=KARAMAY, now=end_of_year)
            by_community = index.rates(by="community", now=end_of_year)
    finally:
        app.close()

    assert (overall.collected, overall.claimed, overall.closed) == (COLLECTED, COLLECTED, COMPLETED)
    assert (f"{overall.claim_rate:.1%}", f"{overall.completion_rate:.1%}") == ("100.0%", "98.3%")
    # The 106 still in hand at the year's end: those collected more than two days before it are
    # past their promise, and an open demand past its promise counts as late.
    overdue = sum(
        1 for n in range(COMPLETED, COLLECTED) if YEAR_START + n * STEP + timedelta(days=2) <= end_of_year
    )
    assert (overall.open_overdue, overall.closed_on_time) == (overdue, COMPLETED)
    assert overall.satisfaction_rate == 1.0
    assert overall.on_time_rate == pytest.approx(COMPLETED / (COMPLETED + overdue))
    assert [r.period for r in by_month] == [f"2025-{m:02d}" for m in range(1, 13)]
    assert sum(r.collected for r in by_month) == COLLECTED
    assert sum(r.closed for r in by_community) == COMPLETED
    assert {r.key for r in by_community} == set(communities)
