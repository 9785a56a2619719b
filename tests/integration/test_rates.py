"""Rates from the demand index: claim, completion, on-time and satisfaction, by place and period."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from demand_stories import HOUR, T0, projected_index, story_on, submission

from adapters.settings import Settings
from engine import commands as c
from engine.scope import Scope
from engine.vocabulary import Channel, Priority, Rating
from projections.index.models import RateRow

pytestmark = pytest.mark.integration
DAY = timedelta(days=1)
KARAMAY = timedelta(hours=8)


def utc(text: str) -> datetime:
    """A UTC time from ISO text."""
    return datetime.fromisoformat(text)


def test_rates_are_none_not_zero_when_nothing_was_collected(settings: Settings) -> None:
    with projected_index(settings) as index:
        overall = index.rates(now=T0)
        grouped = index.rates(by="community", per="month", now=T0)
    assert overall == [RateRow()]
    rates = (
        overall[0].claim_rate,
        overall[0].completion_rate,
        overall[0].on_time_rate,
        overall[0].satisfaction_rate,
    )
    assert rates == (None, None, None, None)
    assert grouped == []


def test_rates_count_claims_closures_lateness_ratings_and_side_paths(settings: Settings) -> None:
    with story_on(settings) as story:
        ids = {name: story.collect(submission(name), T0 + i * HOUR) for i, name in enumerate("abcdefg")}
        story.close_loop(ids["a"], T0 + 10 * HOUR)
        story.close_loop(ids["b"], T0 + 10 * HOUR, Rating.BASICALLY_SATISFIED)
        story.mark_overdue(ids["c"], T0 + 2 * DAY)  # the claim deadline: escalated, not late
        story.mark_overdue(ids["c"], T0 + 3 * DAY)  # the promise (collected +2h, promised by +50h)
        story.close_loop(ids["c"], T0 + 3 * DAY + HOUR)  # closed, late
        story.close_loop(ids["d"], T0 + 10 * HOUR, Rating.UNSATISFIED)  # reopened +13h, still rated
        story.withdraw(ids["e"], T0 + 10 * HOUR)
        story.do(ids["g"], c.Merge(by="operator", into=ids["f"]), T0 + 10 * HOUR)  # f is still open
        with projected_index(settings) as index:
            [row] = index.rates(now=T0 + 50 * HOUR)
            [later] = index.rates(now=T0 + 30 * DAY)
    assert (row.collected, row.claimed, row.closed, row.closed_on_time) == (7, 4, 3, 2)
    assert (row.withdrawn, row.merged, row.rated, row.satisfied, row.escalations) == (1, 1, 4, 3, 2)
    assert row.claim_rate == pytest.approx(4 / 6)  # the merged duplicate is not a demand of its own
    assert row.completion_rate == pytest.approx(3 / 5)  # ... and nobody failed the withdrawn one
    assert row.satisfaction_rate == pytest.approx(3 / 4)
    # f (promised by +53h) and d (a fresh promise from its reopen, by +61h) are not late yet ...
    assert (row.open_overdue, row.on_time_rate) == (0, pytest.approx(2 / 3))
    # ... and later they are: an open demand past its promise counts as late.
    assert (later.open_overdue, later.on_time_rate) == (2, pytest.approx(2 / 5))


def test_an_open_demand_past_its_promise_counts_against_the_on_time_rate(settings: Settings) -> None:
    with story_on(settings) as story:
        done = story.collect(submission("done"), T0)
        story.close_loop(done, T0 + HOUR)
        waiting = story.collect(submission("waiting"), T0)
        for hours in (24, 48, 72):  # escalated by every timer: each rung gives it a fresh window
            story.mark_overdue(waiting, T0 + hours * HOUR)
        with projected_index(settings) as index:
            [before] = index.rates(now=T0 + 2 * HOUR)
            [after] = index.rates(now=T0 + 80 * HOUR)
    assert (before.on_time_rate, before.open_overdue) == (1.0, 0)
    assert (after.on_time_rate, after.open_overdue) == (0.5, 1)  # late since +48h, on any rung


def test_one_problem_is_one_demand_merged_duplicates_and_withdrawals_leave_the_denominators(
    settings: Settings,
) -> None:
    with story_on(settings) as story:
        other = story.collect(submission("stairwell"), T0)
        story.close_loop(other, T0 + HOUR)
        # Two residents report one water cut-off; the second report is merged into the first.
        first = story.collect(submission("water-1", title="The water keeps being cut off"), T0)
        second = story.collect(submission("water-2", title="No water in building 3"), T0 + HOUR)
        story.do(second, c.Merge(by="operator", into=first), T0 + 2 * HOUR)
        story.close_loop(first, T0 + 3 * HOUR)
        withdrawn = story.collect(submission("noise"), T0)
        story.withdraw(withdrawn, T0 + HOUR)
        with projected_index(settings) as index:
            [row] = index.rates(now=T0 + DAY)
    assert (row.collected, row.merged, row.withdrawn, row.claimed, row.closed) == (4, 1, 1, 2, 2)
    assert row.claim_rate == pytest.approx(2 / 3)  # withdrawn before anyone claimed it: unclaimed
    assert row.completion_rate == 1.0  # both problems that were not withdrawn were resolved
    assert row.on_time_rate == 1.0


def test_rates_by_community_and_by_month_cohort_the_local_collection_date(settings: Settings) -> None:
    with story_on(settings) as story:
        x1 = story.collect(submission("x1", community="Xinhua"), utc("2026-01-10T02:00:00+00:00"))
        x2 = story.collect(submission("x2", community="Xinhua"), utc("2026-01-31T20:00:00+00:00"))
        k1 = story.collect(submission("k1", community="Kunlun"), utc("2026-02-03T02:00:00+00:00"))
        story.close_loop(x1, utc("2026-01-10T03:00:00+00:00"))
        story.close_loop(k1, utc("2026-02-03T03:00:00+00:00"))
        story.claim(x2, utc("2026-02-01T01:00:00+00:00"))
        with projected_index(settings) as index:
            by_community = index.rates(by="community", now=T0)
            by_month = index.rates(per="month", utc_offset=KARAMAY, now=T0)
            by_month_utc = index.rates(per="month", now=T0)
            both = index.rates(by="community", per="month", utc_offset=KARAMAY, now=T0)
    assert [(r.key, r.collected, r.claimed, r.closed) for r in by_community] == [
        ("Kunlun", 1, 1, 1),
        ("Xinhua", 2, 2, 1),
    ]
    assert [r.completion_rate for r in by_community] == [1.0, 0.5]
    # 20:00 UTC on 31 January is 04:00 on 1 February in Karamay: it counts for February there.
    assert [(r.period, r.collected, r.closed) for r in by_month] == [("2026-01", 1, 1), ("2026-02", 2, 1)]
    assert [(r.period, r.collected) for r in by_month_utc] == [("2026-01", 2), ("2026-02", 1)]
    assert [(r.period, r.key, r.collected) for r in both] == [
        ("2026-01", "Xinhua", 1),
        ("2026-02", "Kunlun", 1),
        ("2026-02", "Xinhua", 1),
    ]


def test_days_weeks_and_years_are_labelled_by_their_calendar(settings: Settings) -> None:
    with story_on(settings) as story:
        for name, at in [("mon", "2026-01-05"), ("sun", "2026-01-11"), ("next", "2026-01-12")]:
            story.collect(submission(name), utc(f"{at}T04:00:00+00:00"))
        with projected_index(settings) as index:
            weeks = index.rates(per="week", now=T0)
            days = index.rates(per="day", now=T0)
            years = index.rates(per="year", now=T0)
    assert [
        (r.period, r.period_start.isoformat() if r.period_start else None, r.collected) for r in weeks
    ] == [
        ("2026-W02", "2026-01-05", 2),
        ("2026-W03", "2026-01-12", 1),
    ]
    assert [r.period for r in days] == ["2026-01-05", "2026-01-11", "2026-01-12"]
    assert [(r.period, r.collected) for r in years] == [("2026", 3)]


def test_rates_filter_by_collection_window_and_place(settings: Settings) -> None:
    with story_on(settings) as story:
        story.collect(submission("early", community="Xinhua"), T0)
        story.collect(submission("mid", community="Baijiantan"), T0 + DAY)
        story.collect(submission("late", community="Xinhua", grid="X2"), T0 + 2 * DAY)
        with projected_index(settings) as index:
            [window] = index.rates(since=T0 + DAY, until=T0 + 2 * DAY, now=T0)
            [open_ended] = index.rates(since=T0 + DAY, now=T0)
            [xinhua] = index.rates(scope=Scope.parse("community:Xinhua"), now=T0)
            [grid] = index.rates(scope=Scope.parse("grid:X2"), now=T0)
            [district] = index.rates(scope=Scope.parse("district:Baijiantan District"), now=T0)
    assert (window.collected, open_ended.collected) == (1, 2)
    assert (xinhua.collected, grid.collected, district.collected) == (2, 1, 1)


def test_rates_group_by_channel_priority_category_and_post(settings: Settings) -> None:
    with story_on(settings) as story:
        story.collect(
            submission("1", channel=Channel.HOTLINE_12345, priority=Priority.MAJOR, post="care"), T0
        )
        story.collect(submission("2", channel=Channel.WISH_WALL, category="elderly", post="care"), T0)
        story.collect(submission("3", channel=Channel.WISH_WALL, category="elderly"), T0)
        with projected_index(settings) as index:
            channels = {r.key: r.collected for r in index.rates(by="channel", now=T0)}
            priorities = {r.key: r.collected for r in index.rates(by="priority", now=T0)}
            categories = {r.key: r.collected for r in index.rates(by="category", now=T0)}
            posts = {r.key: r.collected for r in index.rates(by="post", now=T0)}
            with pytest.raises(ValueError, match="colour"):
                index.rates(by="colour")
            with pytest.raises(ValueError, match="fortnight"):
                index.rates(per="fortnight")
    assert channels == {"hotline_12345": 1, "wish_wall": 2}
    assert priorities == {"general": 2, "major": 1}
    assert categories == {"elderly": 2, "general": 1}
    assert posts == {"(none)": 1, "care": 2}
