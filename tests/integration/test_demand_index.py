"""The demand index on SQLite and PostgreSQL: one row per demand, kept from the real events alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from demand_stories import HOUR, T0, projected_index, story_on, submission

from adapters.bootstrap import System
from adapters.settings import Settings
from engine import commands as c
from engine.lifecycle import State, Step
from engine.scope import Scope
from engine.status import DemandStatus
from engine.vocabulary import Level, Priority, Rating
from projections.index.models import DemandRecord

pytestmark = pytest.mark.integration


def assert_row_agrees_with_aggregate(row: DemandRecord | None, status: DemandStatus) -> None:
    """Everything the aggregate says about where the demand stands, the row says too."""
    assert row is not None
    claimant = (status.claimant.member, status.claimant.unit) if status.claimant else (None, None)
    clock = status.clock
    assert (row.state, row.level, row.responsible_unit) == (
        status.state,
        status.level,
        status.responsible_unit,
    )
    assert (row.claimant_member, row.claimant_unit) == claimant
    assert (row.clock_stage, row.due_at, row.warn_at) == (
        (clock.stage, clock.due_at, clock.warn_at) if clock else (None, None, None)
    )
    assert (row.warned, row.overdue) == (status.warned, status.overdue)
    promise = status.promise
    assert (row.promise_started_at, row.promised_by, row.promise_warn_at) == (
        (promise.started_at, promise.due_at, promise.warn_at) if promise else (None, None, None)
    )
    assert (row.promise_warned, row.late) == (status.promise_warned, status.late)
    assert row.status().next_alarm() == status.next_alarm()  # the row tells the same timers
    alarm = status.next_alarm()
    deadline = alarm.at if alarm is not None and alarm.step is Step.MARK_OVERDUE else None
    if alarm is None or alarm.step is Step.MARK_OVERDUE:
        assert row.next_due_at == deadline
    assert (row.escalations, row.reopened) == (status.escalations, status.reopened)
    assert (row.outcome, row.closed_at, row.version) == (status.outcome, status.closed_at, status.version)


def test_a_row_follows_the_closed_loop_from_collection_to_close(settings: Settings) -> None:
    with story_on(settings) as story:
        demand = story.collect(submission("1", community="Kunlun", priority=Priority.IMPORTANT), T0)
        story.close_loop(demand, T0 + HOUR, Rating.BASICALLY_SATISFIED)
        status = story.app.status(demand)
        with projected_index(settings) as index:
            row = index.demand(demand)
    assert_row_agrees_with_aggregate(row, status)
    assert row is not None
    assert (row.city, row.district, row.street, row.community, row.grid) == (
        "Karamay", "Karamay District", "Yingbin", "Kunlun", "K1"
    )  # fmt: skip
    assert (row.source, row.external_id, row.priority) == ("wechat", "1", Priority.IMPORTANT)
    assert row.state is State.CLOSED
    assert (row.claimant_member, row.claimant_unit) == ("wang", "Party branch 1")
    assert (row.collected_at, row.claimed_at, row.closed_at) == (T0, T0 + HOUR, T0 + 4 * HOUR)
    assert (row.rating, row.outcome, row.on_time) == (Rating.BASICALLY_SATISFIED, "basically_satisfied", True)
    assert (row.clock_stage, row.due_at) == (None, None)


def test_every_step_moves_the_row_exactly_as_it_moves_the_aggregate(settings: Settings) -> None:
    system = System(settings)
    with story_on(settings) as story, system.projections() as running, system.index_view() as index:
        demand = story.collect(submission("2"), T0)
        due = story.app.status(demand).clock
        assert due is not None
        steps: list[tuple[c.Command, timedelta]] = [
            (c.Claim(member="wang", unit="Party branch 1"), HOUR),
            (c.Release(member="wang", reason="away this week"), 2 * HOUR),
            (c.Dispatch(by="operator", to="convenience services"), 3 * HOUR),
            (c.Claim(member="li", unit="Party branch 2", co_claimants=("chen",)), 4 * HOUR),
            (c.Warn(), 40 * HOUR),
            (c.Extend(by="operator", extra=timedelta(days=1), reason="parts on order"), 41 * HOUR),
            (c.Handle(member="chen", hours=2, note="fixed"), 42 * HOUR),
            (c.FollowUp(worker="zhao", resolved=True), 43 * HOUR),
            (c.Evaluate(rating=Rating.UNSATISFIED, comment="flickers again"), 44 * HOUR),
            (c.MarkOverdue(), 200 * HOUR),
            (c.Transfer(by="operator", to_unit="Yingbin civil affairs", reason="needs wiring"), 201 * HOUR),
            (c.Escalate(by="operator", reason="still dark"), 202 * HOUR),
            (c.Reassign(by="operator", member="sun", unit="Electricians", reason="skills"), 203 * HOUR),
            (c.Handle(member="sun", hours=3), 204 * HOUR),
            (c.FollowUp(worker="zhao", resolved=True), 205 * HOUR),
            (c.Evaluate(rating=Rating.SATISFIED), 206 * HOUR),
            (c.Commend(by="resident", note="thank you"), 207 * HOUR),
        ]
        for command, after in steps:
            status = story.do(demand, command, T0 + after)
            running.wait_until_caught_up(timeout=30)
            assert_row_agrees_with_aggregate(index.demand(demand), status)
        row = index.demand(demand)
    assert row is not None
    assert (row.state, row.level, row.escalations) == (State.CLOSED, Level.DISTRICT, 2)
    assert row.claimed_at == T0 + HOUR  # the first claim, not the last
    assert (row.reopened, row.on_time, row.commendations) == (1, False, 1)
    assert row.rating is Rating.SATISFIED


def test_an_unsatisfied_rating_stays_on_the_row_after_the_reopen(settings: Settings) -> None:
    with story_on(settings) as story:
        demand = story.collect(submission("3"), T0)
        story.close_loop(demand, T0 + HOUR, Rating.UNSATISFIED)
        with projected_index(settings) as index:
            row = index.demand(demand)
    assert row is not None
    assert (row.state, row.rating, row.reopened, row.closed_at) == (
        State.CLAIMED,
        Rating.UNSATISFIED,
        1,
        None,
    )
    assert row.clock_stage is None  # back on a promise: a fresh one from the reopen
    assert row.promised_by == T0 + 4 * HOUR + 2 * timedelta(days=1)
    assert row.next_due_at == row.promised_by


def test_withdrawn_and_merged_demands_leave_the_open_list(settings: Settings) -> None:
    with story_on(settings) as story:
        original = story.collect(submission("4"), T0)
        duplicate = story.collect(submission("5"), T0 + HOUR)
        withdrawn = story.collect(submission("6"), T0 + 2 * HOUR)
        story.do(duplicate, c.Merge(by="operator", into=original), T0 + 3 * HOUR)
        story.do(original, c.Absorb(by="operator", duplicate_id=duplicate), T0 + 3 * HOUR)
        story.withdraw(withdrawn, T0 + 4 * HOUR)
        with projected_index(settings) as index:
            rows = {r.demand_id: r for r in index.list_demands()}
            open_ids = [r.demand_id for r in index.list_demands(open_only=True)]
    assert open_ids == [original]
    assert rows[original].duplicates == 1
    assert (rows[duplicate].state, rows[duplicate].merged_into, rows[duplicate].due_at) == (
        State.MERGED, original, None
    )  # fmt: skip
    assert (rows[withdrawn].state, rows[withdrawn].withdrawn_at) == (State.WITHDRAWN, T0 + 4 * HOUR)


def test_the_ticket_index_filters_by_place_state_and_priority_newest_first(settings: Settings) -> None:
    with story_on(settings) as story:
        ids = [
            story.collect(submission("7", community="Xinhua", grid="X2", priority=Priority.MAJOR), T0),
            story.collect(submission("8", community="Xinhua"), T0 + HOUR),
            story.collect(submission("9", community="Baijiantan"), T0 + 2 * HOUR),
        ]
        story.claim(ids[1], T0 + 3 * HOUR, unit="Party branch 9")
        with projected_index(settings) as index:
            newest_first = [r.demand_id for r in index.list_demands()]
            in_xinhua = [r.demand_id for r in index.list_demands(scope=Scope.parse("community:Xinhua"))]
            in_grid = [r.demand_id for r in index.list_demands(scope=Scope.parse("grid:X2"))]
            major = [r.demand_id for r in index.list_demands(priority=Priority.MAJOR)]
            claimed = [r.demand_id for r in index.list_demands(state=State.CLAIMED)]
            by_unit = [r.demand_id for r in index.list_demands(claimant_unit="Party branch 9")]
            page = [r.demand_id for r in index.list_demands(limit=1, offset=1)]
            count = index.count_demands()
    assert (newest_first, count) == (ids[::-1], 3)
    assert (in_xinhua, in_grid) == ([ids[1], ids[0]], [ids[0]])
    assert (major, claimed, by_unit) == ([ids[0]], [ids[1]], [ids[1]])
    assert page == [ids[1]]


def test_no_residents_personal_data_reaches_the_index(settings: Settings) -> None:
    with story_on(settings) as story:
        demand = story.collect(submission("10"), T0)
        story.close_loop(demand, T0 + HOUR)
        with projected_index(settings) as index:
            rows = [r.model_dump_json() for r in index.list_demands()]
    assert rows
    for text in rows:
        for personal in ("Li Mei", "13800138000", "Room 402"):
            assert personal not in text


def test_an_unknown_demand_reads_as_none(settings: Settings) -> None:
    with projected_index(settings) as index:
        assert index.demand("demand-wechat-missing") is None
        assert index.list_demands() == []


def test_a_repeated_submission_leaves_one_row_at_version_one(settings: Settings) -> None:
    with story_on(settings) as story:
        demand = story.collect(submission("11"), T0)
        assert story.app.record(demand, submission("11"), T0, 0).version == 1  # a retried activity
        with projected_index(settings) as index:
            rows = index.list_demands()
    assert [(r.demand_id, r.version) for r in rows] == [(demand, 1)]
