"""Projections resume exactly where they stopped, replay from zero, and surface their errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from demand_stories import HOUR, T0, finish_open_demands, mixed_history, projected_index, story_on
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from engine.demand import MicroDemand
from engine.settings import Settings
from projections.demand_index import DemandIndexProjection
from projections.postgres_views import PostgresDemandIndexView
from projections.runner import ProjectionSpec, reset_view, running_projections
from projections.sqlite_views import SQLiteDemandIndexView
from projections.views import DemandIndexView

pytestmark = pytest.mark.integration
NOW = T0 + 90 * 24 * HOUR
Events: Any = MicroDemand


def figures(index: DemandIndexView) -> tuple[object, ...]:
    """Everything the read side answers: every row, the rates two ways, the board."""
    return (
        index.list_demands(limit=10_000),
        index.rates(now=NOW),
        index.rates(by="community", period="month", now=NOW),
        index.overdue(now=NOW, due_within=timedelta(days=3)),
    )


def replayed_from_zero(settings: Settings) -> tuple[object, ...]:
    """Drop the view and its tracking, run the projection from position zero, read the figures."""
    reset_view(
        settings, ProjectionSpec(DemandIndexProjection, SQLiteDemandIndexView, PostgresDemandIndexView)
    )
    with projected_index(settings) as index:
        return figures(index)


def test_a_projection_stopped_mid_stream_and_restarted_counts_every_event_once(settings: Settings) -> None:
    with story_on(settings) as story:
        first = mixed_history(story, range(24), T0)
        store_max = story.app.recorder.max_notification_id()
        assert store_max is not None
        with running_projections(settings) as running:
            # Stop as soon as the view is a third of the way: wherever it really stopped, it resumes there.
            running.runners["demand_index"].wait(store_max // 3, timeout=30)
        finish_open_demands(story, first, T0 + 20 * 24 * HOUR)  # later events on earlier demands
        with running_projections(settings) as running:
            running.wait_until_caught_up(timeout=60)
        second = mixed_history(story, range(24, 48), T0 + 30 * 24 * HOUR)
        with projected_index(settings) as index:
            resumed = figures(index)
            tracked = index.max_tracking_id("Demands")
        assert tracked == story.app.recorder.max_notification_id()
    straight = replayed_from_zero(settings)
    assert resumed == straight
    [overall] = resumed[1]  # type: ignore[misc]
    assert overall.collected == len(first) + len(second)


def test_replay_from_zero_into_a_fresh_view_equals_the_live_view(settings: Settings) -> None:
    with story_on(settings) as story, running_projections(settings) as running:
        ids = mixed_history(story, range(30), T0)  # written while the projection follows live
        finish_open_demands(story, ids[:10], T0 + 30 * 24 * HOUR)
        running.wait_until_caught_up(timeout=60)
        live = figures(running.index)
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

    name = DemandIndexProjection.name

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        if isinstance(domain_event, Events.Handled):
            raise RuntimeError("the view's disk is full")
        super().process_event(domain_event, tracking)


def test_a_failing_projection_raises_its_error_and_resumes_at_the_failed_event(settings: Settings) -> None:
    broken = ProjectionSpec(IndexThatFailsOnHandled, SQLiteDemandIndexView, PostgresDemandIndexView)
    with story_on(settings) as story:
        mixed_history(story, range(12), T0)
        with running_projections(settings, specs=(broken,)) as running:
            with pytest.raises(RuntimeError, match="disk is full"):
                running.wait_until_caught_up(timeout=30)
            stopped_at = running.index.max_tracking_id("Demands")
            first_handled = min(
                n.id for n in story.app.recorder.select_notifications(
                    start=1, limit=1000, topics=[get_topic(Events.Handled)]
                )
            )  # fmt: skip
        assert stopped_at == first_handled - 1  # everything before it, nothing after it
        with projected_index(settings) as index:
            resumed = figures(index)
    assert resumed == replayed_from_zero(settings)


class CollectedOnly(DemandIndexProjection):
    """A projection that subscribes to one topic, as the points projection does."""

    name = DemandIndexProjection.name
    topics = (get_topic(Events.Collected),)


def test_a_topic_filtered_projection_is_caught_up_when_none_of_its_topics_remain(settings: Settings) -> None:
    spec = ProjectionSpec(CollectedOnly, SQLiteDemandIndexView, PostgresDemandIndexView)
    with story_on(settings) as story:
        mixed_history(story, range(3), T0)  # the store ends with events this projection never sees
        with running_projections(settings, specs=(spec,)) as running:
            running.wait_until_caught_up(timeout=30)
            assert running.index.count_demands() == 3


def test_waiting_on_an_empty_store_returns_at_once(settings: Settings) -> None:
    with running_projections(settings) as running:
        running.wait_until_caught_up(timeout=5)
        assert running.index.count_demands() == 0
