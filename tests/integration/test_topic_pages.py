"""A projection of some topics reads only those from the store, and still reaches its last position."""

from __future__ import annotations

from typing import Any

import pytest
from demand_stories import T0, mixed_history, story_on

from adapters.bootstrap import System
from adapters.settings import Settings
from projections.points.projection import PointsProjection
from projections.points.view import PointsView
from projections.rebuild import differences
from projections.runner import NotificationFeed, ProjectionRunner, ProjectionSpec

pytestmark = pytest.mark.integration

TOPICS = PointsProjection.topics


class EveryTopic(PointsProjection):
    """The points projection as it was run before it named its topics: it reads every event."""

    topics = ()


def test_pages_of_some_topics_hold_exactly_those_and_cover_the_store_to_its_end(settings: Settings) -> None:
    with story_on(settings) as story:
        mixed_history(story, range(5), T0)  # the last demand is withdrawn: not a topic of the points
        recorder = story.app.recorder
        last = recorder.max_notification_id()
        every = recorder.select_notifications(start=0, limit=10_000, inclusive_of_start=False)
        assert every[-1].topic not in TOPICS
        feed = NotificationFeed(story.app)
        position, read, ends = 0, [], []
        while (page := feed.page(position, 3, topics=TOPICS)).end > position:
            assert all(n.id > position for n in page.notifications)
            assert page.end >= max((n.id for n in page.notifications), default=position)
            read += page.notifications
            ends.append(page.end)
            position = page.end
        assert [n.id for n in read] == [n.id for n in every if n.topic in TOPICS]
        assert position == last  # past the events of other topics after the last of its own
        # With `until`, a page of some topics ends there, however far the store goes.
        middle = every[len(every) // 2].id
        assert feed.page(0, 10_000, stop=middle, topics=TOPICS).end == middle
        # Unfiltered pages are as they were: they end at their last notification.
        assert feed.page(0, 4).end == every[3].id


def test_a_runner_of_some_topics_reaches_the_last_position_with_the_view_of_every_topic(
    settings: Settings,
) -> None:
    system = System(settings)
    policy = system.points_policy
    with story_on(settings) as story:
        mixed_history(story, range(11), T0)  # the last demand is withdrawn: not a topic of the points
        last = story.app.recorder.max_notification_id()
        every = story.app.recorder.select_notifications(start=0, limit=10_000, inclusive_of_start=False)
        assert every[-1].topic not in TOPICS
        runs: dict[str, tuple[int, int]] = {}
        for suffix, projection in (("_topics", PointsProjection), ("_every", EveryTopic)):
            spec: ProjectionSpec[Any] = ProjectionSpec(PointsView, lambda v, p=projection: p(v, policy))
            runner = ProjectionRunner(
                spec, story.app, system.views_database, suffix=suffix, page_size=4, follow=False
            )
            runner.start().join(60)
            assert runner.error is None
            runs[suffix] = (runner.position, runner.events)
    ours = sum(n.topic in TOPICS for n in every)
    assert runs == {"_topics": (last, ours), "_every": (last, len(every))}
    db = system.views_database()
    try:
        assert list(differences(PointsView(db, "_every"), PointsView(db, "_topics"))) == []
        assert PointsView(db, "_topics").position() == last
        assert PointsView(db, "_topics").ledger()  # the comparison compared something
    finally:
        db.close()


def test_a_page_without_residents_reads_them_as_forgotten_and_asks_the_keyring_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.values import FORGOTTEN

    assert PointsProjection.residents is False  # the points never read who reported a demand
    with story_on(settings) as story:
        mixed_history(story, range(3), T0)
        keys = story.app.mapper.sealer.keys  # type: ignore[attr-defined]
        asked: list[str] = []
        for name in ("find", "find_many"):
            monkeypatch.setattr(keys, name, lambda *a, _name=name: asked.append(_name))
        page = NotificationFeed(story.app).page(0, 10_000, residents=False)
        events: list[Any] = [page.event(i) for i in range(len(page.notifications))]
        collected = [e for e in events if type(e).__name__ == "Collected"]
        assert collected
        assert all(e.resident == FORGOTTEN for e in collected)
        assert asked == []
