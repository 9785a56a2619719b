"""The projection runner: it follows the store by polling, pages events, and outlives a database outage."""

from __future__ import annotations

import time

import psycopg
import pytest
from demand_stories import HOUR, T0, mixed_history, story_on
from postgres_harness import PG_DB, PG_HOST, PG_PORT

from adapters.bootstrap import System
from adapters.settings import Settings

pytestmark = pytest.mark.integration


def test_a_runner_follows_events_written_after_it_started_and_counts_each_once(settings: Settings) -> None:
    system = System(settings)
    with story_on(settings) as story, system.projections(page_size=5, poll_interval=0.01) as running:
        running.wait_ready()
        ids = mixed_history(story, range(10), T0)
        running.wait_until_caught_up(timeout=30)
        last = story.app.recorder.max_notification_id()
        runner = running.runners["demand_index"]
        assert (runner.position, runner.events) == (last, last)
        assert running.lag() == {"demand_index": 0, "points": 0}
    with system.index_view() as index:
        assert {r.demand_id for r in index.list_demands(limit=100)} == set(ids)
        assert index.position() == last


def test_a_runner_that_only_catches_up_stops_at_the_end_of_the_store(sqlite_settings: Settings) -> None:
    system = System(sqlite_settings)
    with story_on(sqlite_settings) as story:
        mixed_history(story, range(6), T0)
        last = story.app.recorder.max_notification_id()
        with system.projections(follow=False) as running:
            for runner in running.runners.values():
                runner.wait(last or 0)
                deadline = time.monotonic() + 10
                while runner.alive and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert not runner.alive  # it returned by itself once there was nothing more


@pytest.mark.postgres
def test_projections_resume_after_postgresql_drops_every_connection(postgres_settings: Settings) -> None:
    settings = postgres_settings
    system = System(settings)
    with story_on(settings) as story, system.projections(max_backoff=0.5) as running:
        running.wait_ready()
        mixed_history(story, range(6), T0)
        running.wait_until_caught_up(timeout=30)
        with psycopg.connect(
            host=PG_HOST, port=PG_PORT, dbname=PG_DB, user="postgres", autocommit=True
        ) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (PG_DB,),
            )
        mixed_history(story, range(6, 12), T0 + 100 * HOUR)  # the store's own pool reconnects
        deadline = time.monotonic() + 60
        while True:
            try:
                running.wait_until_caught_up(timeout=5)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
        for runner in running.runners.values():
            assert runner.alive
    with system.index_view() as index:
        assert index.count_demands() == 12
