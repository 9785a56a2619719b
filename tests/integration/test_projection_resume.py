"""Projections resume exactly where they stopped, replay from zero, and surface their errors."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from demand_stories import HOUR, T0, finish_open_demands, mixed_history, projected_index, story_on
from eventsourcing.utils import get_topic

from adapters.bootstrap import System
from adapters.health import check_store_and_views
from adapters.settings import Settings
from engine.demand import MicroDemand
from projections.database import WriterBusyError
from projections.index.projection import DemandIndexProjection
from projections.index.view import DemandIndexView
from projections.runner import ProjectionSpec

pytestmark = pytest.mark.integration
NOW = T0 + 90 * 24 * HOUR
Events: Any = MicroDemand


def figures(index: DemandIndexView) -> tuple[object, ...]:
    """Everything the read side answers: every row, the rates two ways, the board."""
    return (
        index.list_demands(limit=10_000),
        index.rates(now=NOW),
        index.rates(by="community", per="month", now=NOW),
        index.overdue(now=NOW, due_within=timedelta(days=3)),
    )


def replayed_from_zero(settings: Settings) -> tuple[object, ...]:
    """Drop the view and its tracking, run the projection from position zero, read the figures."""
    with System(settings).index_view() as index:
        index.drop()
    with projected_index(settings) as index:
        return figures(index)


def test_a_projection_stopped_mid_stream_and_restarted_counts_every_event_once(settings: Settings) -> None:
    with story_on(settings) as story:
        first = mixed_history(story, range(24), T0)
        store_max = story.app.recorder.max_notification_id()
        assert store_max is not None
        system = System(settings)
        with system.projections(page_size=7) as running:
            # Stop as soon as the view is a third of the way: wherever it really stopped, it resumes there.
            running.runners["demand_index"].wait(store_max // 3, timeout=30)
        finish_open_demands(story, first, T0 + 20 * 24 * HOUR)  # later events on earlier demands
        with system.projections(page_size=7) as running:
            running.wait_until_caught_up(timeout=60)
        second = mixed_history(story, range(24, 48), T0 + 30 * 24 * HOUR)
        with projected_index(settings) as index:
            resumed = figures(index)
            tracked = index.position()
        assert tracked == story.app.recorder.max_notification_id()
    straight = replayed_from_zero(settings)
    assert resumed == straight
    [overall] = resumed[1]  # type: ignore[misc]
    assert overall.collected == len(first) + len(second)


def test_replay_from_zero_into_a_fresh_view_equals_the_live_view(settings: Settings) -> None:
    system = System(settings)
    with story_on(settings) as story, system.projections() as running:
        ids = mixed_history(story, range(30), T0)  # written while the projection follows live
        finish_open_demands(story, ids[:10], T0 + 30 * 24 * HOUR)
        running.wait_until_caught_up(timeout=60)
        with system.index_view() as index:
            live = figures(index)
    assert replayed_from_zero(settings) == live


def test_a_fresh_sqlite_views_file_replays_to_the_same_rows(sqlite_settings: Settings) -> None:
    with story_on(sqlite_settings) as story:
        mixed_history(story, range(18), T0)
        with projected_index(sqlite_settings) as index:
            live = figures(index)
    fresh = sqlite_settings.model_copy(update={"views_sqlite_path": sqlite_settings.var_dir / "fresh.db"})
    with projected_index(fresh) as index:
        assert figures(index) == live


class IndexThatFailsOnHandled(DemandIndexProjection):
    """The demand index with a fault: it breaks on the first Handled event."""

    def process_event(self, domain_event: Any, position: int) -> None:
        if isinstance(domain_event, Events.Handled):
            raise RuntimeError("the view's disk is full")
        super().process_event(domain_event, position)


def test_a_failing_projection_raises_its_error_and_resumes_at_the_failed_event(settings: Settings) -> None:
    broken = ProjectionSpec(DemandIndexView, IndexThatFailsOnHandled)
    system = System(settings)
    with story_on(settings) as story:
        mixed_history(story, range(12), T0)
        with system.projections(specs=(broken,)) as running:
            with pytest.raises(RuntimeError, match="disk is full"):
                running.wait_until_caught_up(timeout=30)
            runner = running.runners["demand_index"]
            assert runner.alive, "a failing projection is restarted, not left dead"
            stopped_at = runner.position
            first_handled = min(
                n.id for n in story.app.recorder.select_notifications(
                    start=1, limit=1000, topics=[get_topic(Events.Handled)]
                )
            )  # fmt: skip
            failing = {part.name: part for part in check_store_and_views(system)}["demand_index"]
        assert stopped_at == first_handled - 1  # everything before it, nothing after it
        assert not failing.well  # it holds its writer lock, retrying: alive, but not well
        assert "FAILING since" in failing.detail
        assert "RuntimeError: the view's disk is full" in failing.detail
        with projected_index(settings) as index:
            resumed = figures(index)
        with system.projections() as running:  # a runner that takes its events again says so
            running.wait_until_caught_up(timeout=30)
            deadline = time.monotonic() + 10
            while "FAILING" in (detail := index_detail(system)) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert "FAILING" not in detail
    assert resumed == replayed_from_zero(settings)


def index_detail(system: System) -> str:
    """What `microdemand health` says of the demand index."""
    return {part.name: part for part in check_store_and_views(system)}["demand_index"].detail


class CollectedOnly(DemandIndexProjection):
    """A projection that subscribes to one topic, as the points projection does."""

    topics = (get_topic(Events.Collected),)


def test_a_topic_filtered_projection_is_caught_up_when_none_of_its_topics_remain(settings: Settings) -> None:
    system = System(settings)
    with story_on(settings) as story:
        mixed_history(story, range(3), T0)  # the store ends with events this projection never sees
        with system.projections(specs=(ProjectionSpec(DemandIndexView, CollectedOnly),)) as running:
            running.wait_until_caught_up(timeout=30)
        with system.index_view() as index:
            assert index.count_demands() == 3


def test_waiting_on_an_empty_store_returns_at_once(settings: Settings) -> None:
    system = System(settings)
    with system.projections() as running:
        running.wait_until_caught_up(timeout=5)
    with system.index_view() as index:
        assert index.count_demands() == 0


def test_a_second_writer_of_the_same_views_is_refused_with_a_clear_message(settings: Settings) -> None:
    system = System(settings)
    with system.projections() as first:
        first.wait_ready()
        with system.projections() as second, pytest.raises(WriterBusyError, match="already written"):
            second.wait_ready()
        first.check()  # the first keeps running, untouched


def test_health_of_views_no_runner_ever_wrote_says_not_running_and_creates_nothing(
    settings: Settings,
) -> None:
    system = System(settings)
    detail = index_detail(system)
    assert detail.startswith("NOT RUNNING"), detail  # not "cannot read the view"
    from projections import status

    db = system.views_database()
    try:
        assert status.read(db, "demand_index") is None
        with pytest.raises(Exception, match="projection_status") as missing:  # health made no table
            db.select(f"SELECT view FROM {db.dialect.table(status.TABLE)}")
        assert status._no_table(missing.value)
    finally:
        db.close()
