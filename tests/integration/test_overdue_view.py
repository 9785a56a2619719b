"""The overdue board from the demand index: open demands past (or near) their deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from demand_stories import HOUR, T0, Story, projected_index, story_on, submission

from adapters.settings import Settings
from engine.lifecycle import State
from engine.scope import Scope
from engine.vocabulary import Level, Priority, Stage

pytestmark = pytest.mark.integration
NOW = T0 + 30 * HOUR


def board(story: Story) -> dict[str, str]:
    """Demands in every situation the board must tell apart; names by what happens to them."""
    ids = {
        "major_late": story.collect(submission("major", priority=Priority.MAJOR), T0),  # due +6h
        "general_late": story.collect(submission("general"), T0),  # claim due +24h
        "kunlun_late": story.collect(submission("kunlun", community="Kunlun"), T0 + HOUR),  # due +25h
        "due_soon": story.collect(submission("soon"), T0 + 20 * HOUR),  # due +44h
        "escalated": story.collect(submission("escalated"), T0),
        "closed": story.collect(submission("closed"), T0),
        "withdrawn": story.collect(submission("withdrawn"), T0),
        "awaiting_rating": story.collect(submission("rating"), T0),
    }
    story.mark_overdue(ids["escalated"], T0 + 25 * HOUR)  # to the street, with a fresh 1-day window
    story.close_loop(ids["closed"], T0 + HOUR)
    story.withdraw(ids["withdrawn"], T0 + HOUR)
    story.claim(ids["awaiting_rating"], T0 + HOUR)
    story.handle_and_follow_up(ids["awaiting_rating"], T0 + 2 * HOUR)
    return ids


def test_the_board_lists_open_demands_past_their_deadline_most_overdue_first(settings: Settings) -> None:
    with story_on(settings) as story:
        ids = board(story)
        with projected_index(settings) as index:
            rows = index.overdue(now=NOW)
    assert [r.demand_id for r in rows] == [ids["major_late"], ids["general_late"], ids["kunlun_late"]]
    assert [r.overdue_by for r in rows] == [24 * HOUR, 6 * HOUR, 5 * HOUR]
    first = rows[0]
    assert (first.priority, first.state, first.stage, first.level) == (
        Priority.MAJOR, State.COLLECTED, Stage.CLAIM, Level.COMMUNITY
    )  # fmt: skip
    assert (first.responsible_unit, first.community, first.grid, first.escalations) == (
        "Xinhua",
        "Xinhua",
        "X1",
        0,
    )
    assert first.due_at == T0 + 6 * HOUR


def test_due_within_adds_demands_near_their_deadline_with_the_time_left(settings: Settings) -> None:
    with story_on(settings) as story:
        ids = board(story)
        with projected_index(settings) as index:
            rows = {r.demand_id: r for r in index.overdue(now=NOW, due_within=timedelta(hours=20))}
    assert rows[ids["due_soon"]].overdue_by == -14 * HOUR
    assert rows[ids["escalated"]].overdue_by == -19 * HOUR
    assert (rows[ids["escalated"]].level, rows[ids["escalated"]].responsible_unit) == (
        Level.STREET,
        "Yingbin",
    )
    assert rows[ids["escalated"]].escalations == 1
    assert list(rows)[-2:] == [ids["due_soon"], ids["escalated"]]


def test_the_board_filters_by_place_priority_and_level(settings: Settings) -> None:
    with story_on(settings) as story:
        ids = board(story)
        with projected_index(settings) as index:
            kunlun = index.overdue(now=NOW, scope=Scope.parse("community:Kunlun"))
            street = index.overdue(now=NOW, scope=Scope.parse("street:Yingbin"))
            major = index.overdue(now=NOW, priority=Priority.MAJOR)
            general_xinhua = index.overdue(now=NOW, scope=Scope.parse("grid:X1"), priority="general")
            at_street = index.overdue(now=NOW, due_within=timedelta(days=1), level=Level.STREET)
            elsewhere = index.overdue(now=NOW, scope=Scope.parse("district:Baijiantan District"))
    assert [r.demand_id for r in kunlun] == [ids["kunlun_late"]]
    assert len(street) == 3
    assert [r.demand_id for r in major] == [ids["major_late"]]
    assert [r.demand_id for r in general_xinhua] == [ids["general_late"]]
    assert [r.demand_id for r in at_street] == [ids["escalated"]]
    assert elsewhere == []


def test_closed_withdrawn_and_awaiting_rating_demands_never_reach_the_board(settings: Settings) -> None:
    with story_on(settings) as story:
        ids = board(story)
        with projected_index(settings) as index:
            listed = {r.demand_id for r in index.overdue(now=T0 + 60 * 24 * HOUR)}
    # The evaluation window closes the demand unrated when it runs out: nobody is late for it.
    assert {ids["closed"], ids["withdrawn"], ids["awaiting_rating"]}.isdisjoint(listed)
    assert len(listed) == 5


def test_before_any_deadline_the_board_is_empty(settings: Settings) -> None:
    with story_on(settings) as story:
        board(story)
        with projected_index(settings) as index:
            assert index.overdue(now=T0 + HOUR) == []
            assert len(index.overdue(now=T0 + HOUR, limit=1, due_within=timedelta(days=3))) == 1
