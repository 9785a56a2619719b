"""The operators' daily questions, from the demand index on SQLite and PostgreSQL: what is due when,
whose demand this is (by the resident's phone or name, never held in the views), what a member holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from demand_stories import HOUR, T0, projected_index, story_on, submission

from adapters.bootstrap import System
from adapters.settings import Settings
from engine import commands as c
from engine.values import Resident

pytestmark = pytest.mark.integration
DAY = timedelta(days=1)


def test_a_demand_is_found_by_its_residents_phone_or_name_and_the_views_hold_neither(
    settings: Settings,
) -> None:
    with story_on(settings) as story:
        original = story.collect(submission("water-1", title="The water keeps being cut off"), T0)
        duplicate = submission("water-2").model_copy(
            update={"resident": Resident(name="Zhou Min", phone="+86 139 0013 9000", address="Block 5")}
        )
        story.collect(duplicate, T0 + HOUR)
        story.do(duplicate.demand_id, c.Merge(by="operator", into=original), T0 + 2 * HOUR)
        other = story.collect(
            submission("noise").model_copy(
                update={"resident": Resident(name="Zhou Min", phone="13700137000")}
            ),
            T0 + 3 * HOUR,
        )
        lookup = System(settings).resident_lookup
        with projected_index(settings) as index:
            by_phone = index.list_demands(keys=(str(lookup.phone("13800138000")),))  # Li Mei's number
            by_duplicate_phone = index.list_demands(keys=(str(lookup.phone("13900139000")),))
            by_name = index.list_demands(keys=(str(lookup.name("zhou min")),))
            both = index.list_demands(keys=(str(lookup.name("Zhou Min")), str(lookup.phone("13700137000"))))
            nobody = index.list_demands(keys=(str(lookup.phone("10000000000")),))
            stored = index.db.select(f"SELECT * FROM {index.qualified('keys')}")
            rows = index.db.select(f"SELECT * FROM {index.qualified('')}")
    assert [r.demand_id for r in by_phone] == [original]
    # The original absorbed the merged duplicate's reporter: both residents find it.
    assert {r.demand_id for r in by_duplicate_phone} == {original, duplicate.demand_id}
    assert {r.demand_id for r in by_name} == {original, duplicate.demand_id, other}
    assert [r.demand_id for r in both] == [other]
    assert nobody == []
    text = repr(stored) + repr(rows)
    for personal in ("13800138000", "13900139000", "Li Mei", "Zhou Min", "Block 5", "Building 3"):
        assert personal not in text


def test_a_members_demands_include_those_they_hold_as_a_co_claimant_and_only_while_they_hold_them(
    settings: Settings,
) -> None:
    with story_on(settings) as story:
        group = story.collect(submission("group"), T0)
        story.do(group, c.Claim(member="wang", unit="Branch 1", co_claimants=("li", "chen")), T0 + HOUR)
        alone = story.collect(submission("alone"), T0)
        story.do(alone, c.Claim(member="li", unit="Branch 1"), T0 + HOUR)
        handed = story.collect(submission("handed"), T0)
        story.do(handed, c.Claim(member="li", unit="Branch 1", co_claimants=("zhao",)), T0 + HOUR)
        story.do(handed, c.Reassign(by="op", member="sun", unit="Branch 2", reason="skills"), T0 + 2 * HOUR)
        released = story.collect(submission("released"), T0)
        story.do(released, c.Claim(member="wang", unit="Branch 1", co_claimants=("li",)), T0 + HOUR)
        story.do(released, c.Release(member="wang", reason="away"), T0 + 2 * HOUR)
        with projected_index(settings) as index:
            li = {r.demand_id for r in index.list_demands(holder="li", open_only=True)}
            wang = {r.demand_id for r in index.list_demands(holder="wang")}
            sun = {r.demand_id for r in index.list_demands(holder="sun")}
            zhao = index.list_demands(holder="zhao")
            holders = (index.holders(group), index.holders(handed), index.holders(released))
    assert holders == (("wang", "chen", "li"), ("sun",), ())  # what the role matrix asks of a demand
    assert li == {group, alone}
    assert wang == {group}
    assert sun == {handed}
    assert zhao == []


def test_what_is_due_in_a_window_is_the_next_deadline_of_each_open_demand_soonest_first(
    settings: Settings,
) -> None:
    with story_on(settings) as story:
        unclaimed = story.collect(submission("unclaimed"), T0)  # claim deadline +1d, promise +2d
        claimed = story.collect(submission("claimed"), T0)
        story.claim(claimed, T0 + HOUR)  # its next deadline: the promise, +2d
        handled = story.collect(submission("handled"), T0)
        story.claim(handled, T0 + HOUR)
        story.do(handled, c.Handle(member="wang", hours=1), T0 + 2 * HOUR)  # follow-up due +2h+2d
        done = story.collect(submission("done"), T0)
        story.close_loop(done, T0 + HOUR)
        with projected_index(settings) as index:
            first_day = index.list_demands(due=(T0, T0 + DAY + HOUR))
            second_day = index.list_demands(due=(T0 + DAY + HOUR, T0 + 3 * DAY))
            rows = {r.demand_id: r for r in index.list_demands()}
    assert [r.demand_id for r in first_day] == [unclaimed]
    assert [r.demand_id for r in second_day] == [claimed, handled]
    assert rows[unclaimed].next_due_at == T0 + DAY
    assert rows[claimed].next_due_at == T0 + 2 * DAY
    assert rows[handled].next_due_at == T0 + 2 * HOUR + 2 * DAY
    assert rows[done].next_due_at is None
