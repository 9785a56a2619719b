"""Views rebuilt from event zero beside the live ones: verified row by row, then swapped in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from demand_stories import HOUR, T0, Story, finish_open_demands, mixed_history, story_on

from adapters.bootstrap import System
from adapters.replay import make_live, rebuild, specs_named, verify
from adapters.settings import Settings
from projections.database import WriterBusyError
from projections.index.view import DemandIndexView
from projections.points.projection import PointsProjection
from projections.points.view import PointsView
from projections.rebuild import REBUILD_SUFFIX

pytestmark = pytest.mark.integration
NOW = T0 + 90 * 24 * HOUR


@pytest.fixture
def story(settings: Settings) -> Iterator[Story]:
    """A store with every common path, and live views caught up with it (their writer stopped)."""
    with story_on(settings) as story:
        ids = mixed_history(story, range(24), T0)
        finish_open_demands(story, ids[:8], T0 + 20 * 24 * HOUR)
        with System(settings).projections() as running:
            running.wait_until_caught_up(timeout=60)
        yield story


def tamper(settings: Settings, sql: str) -> None:
    """Change a live view's row by hand, as no one ever should."""
    db = System(settings).views_database()
    try:
        db.run([sql.format(schema=f'"{settings.postgres_schema}".' if settings.store == "postgres" else "")])
    finally:
        db.close()


def test_a_clean_rebuild_verifies_equal_to_the_live_views(settings: Settings, story: Story) -> None:
    system = System(settings)
    for spec in specs_named(system, None):
        verified = verify(system, spec)
        assert verified.differences == [], [str(d) for d in verified.differences]
        assert verified.position == story.app.recorder.max_notification_id()
    db = system.views_database()
    try:
        live, rebuilt = DemandIndexView(db), DemandIndexView(db, REBUILD_SUFFIX)
        assert rebuilt.rates(by="community", now=NOW) == live.rates(by="community", now=NOW)
        assert rebuilt.count_demands() == live.count_demands() == 24
    finally:
        db.close()


def test_verify_names_each_row_altered_by_hand(settings: Settings, story: Story) -> None:
    tamper(settings, "UPDATE {schema}demand_index SET state = 'claimed' WHERE demand_id = 'demand-wechat-m0'")
    tamper(settings, "DELETE FROM {schema}demand_index WHERE demand_id = 'demand-wechat-m4'")
    tamper(
        settings,
        "UPDATE {schema}points_ledger SET tenths = tenths + 10 "
        "WHERE id = (SELECT MIN(id) FROM {schema}points_ledger)",
    )
    system = System(settings)
    [index, points] = [verify(system, spec) for spec in specs_named(system, ["demand_index", "points"])]
    said = [str(d) for d in index.differences]
    assert len(said) == 2
    assert any(
        "demand_index: row demand-wechat-m0" in s and "state is 'claimed' live but 'closed' rebuilt" in s
        for s in said
    ), said
    assert any("demand-wechat-m4" in s and "missing from the live view" in s for s in said), said
    [ledger] = points.differences
    assert ledger.table == "points_ledger"
    assert ledger.columns == ["tenths"]
    assert "demand-wechat-m" in str(ledger)


def test_swap_makes_the_rebuild_live_and_the_live_writer_carries_on_from_it(
    settings: Settings, story: Story
) -> None:
    tamper(
        settings,
        "UPDATE {schema}demand_index SET title = 'patched by hand' WHERE demand_id = 'demand-wechat-m1'",
    )
    system = System(settings)
    [spec] = specs_named(system, ["demand_index"])
    rebuild(system, spec)
    with system.projections(specs=[spec]) as running:
        running.wait_ready()
        with pytest.raises(WriterBusyError, match="stop it to swap"):
            make_live(system, spec)
    swapped = make_live(system, spec)
    assert swapped.position == story.app.recorder.max_notification_id()
    assert verify(system, spec).differences == []
    with system.index_view() as index:
        assert index.demand("demand-wechat-m1").title == "Fix the stairwell light"  # type: ignore[union-attr]
    mixed_history(story, range(24, 30), T0 + 40 * 24 * HOUR)  # the live writer follows on from the swap
    with system.projections(specs=[spec]) as running:
        running.wait_until_caught_up(timeout=60)
    with system.index_view() as index:
        assert index.count_demands() == 30
    db = system.views_database()
    try:
        sql, params = db.dialect.indexes_statement("demand_index")
        names = {row["name"] for row in db.select(sql, params)}
    finally:
        db.close()
    assert "demand_index_collected" in names
    assert not any(REBUILD_SUFFIX in name for name in names)


def test_a_rebuild_of_the_points_ledger_is_fresh_each_time(settings: Settings, story: Story) -> None:
    system = System(settings)
    [spec] = specs_named(system, ["points"])
    first = rebuild(system, spec)
    second = rebuild(system, spec)
    last = story.app.recorder.max_notification_id()
    every = story.app.recorder.select_notifications(start=0, limit=10_000, inclusive_of_start=False)
    ours = sum(n.topic in PointsProjection.topics for n in every)  # the events the ledger reads
    assert (first.events, first.position) == (second.events, second.position) == (ours, last)
    db = system.views_database()
    try:
        assert PointsView(db, REBUILD_SUFFIX).ledger() == PointsView(db).ledger()
    finally:
        db.close()
    with pytest.raises(ValueError, match="no view named colours"):
        specs_named(system, ["colours"])
