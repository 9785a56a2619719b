"""As of a moment: a demand, the rates, the board and the points as they stood, from the events up to it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from demand_stories import HOUR, T0, finish_open_demands, mixed_history, story_on, submission

from adapters.bootstrap import System
from adapters.settings import Settings
from adapters.timetravel import (
    NotYetCollectedError,
    balance_as_of,
    demand_as_of,
    index_as_of,
    moment,
    points_as_of,
)
from engine import commands as c
from engine.application import DemandNotFoundError
from engine.lifecycle import State
from engine.periods import Period
from engine.scope import Scope
from engine.vocabulary import AccountKind, Level, Rating, Stage

pytestmark = pytest.mark.integration
DAY = timedelta(days=1)
KARAMAY = timedelta(hours=8)


def test_a_demand_escalated_reopened_and_closed_stands_as_it_did_at_each_moment(settings: Settings) -> None:
    with story_on(settings) as story:
        demand = story.collect(submission("ladder"), T0)
        story.mark_overdue(demand, T0 + DAY)  # the claim deadline passed: escalated to the street
        story.claim(demand, T0 + DAY + 2 * HOUR)
        story.handle_and_follow_up(demand, T0 + DAY + 3 * HOUR)
        story.evaluate(demand, T0 + DAY + 6 * HOUR, Rating.UNSATISFIED)  # reopened
        story.handle_and_follow_up(demand, T0 + 2 * DAY)
        story.evaluate(demand, T0 + 2 * DAY + 2 * HOUR)  # closed
        recorded = len(story.app.history(demand))
    system = System(settings)

    with pytest.raises(NotYetCollectedError, match="collected at"):
        demand_as_of(system, demand, T0 - HOUR)
    with pytest.raises(DemandNotFoundError):
        demand_as_of(system, "demand-wechat-nobody", T0)

    escalated = demand_as_of(system, demand, T0 + DAY + HOUR)
    s = escalated.status
    assert (s.state, s.level, s.responsible_unit, s.escalations, s.claimant) == (
        State.COLLECTED, Level.STREET, "Yingbin", 1, None,
    )  # fmt: skip
    assert s.clock is not None
    assert s.clock.stage is Stage.CLAIM
    assert s.clock.due_at == T0 + 2 * DAY  # the street's escalation window, from the escalation
    assert s.overdue is False
    assert escalated.late_by is None
    assert escalated.entries == []

    reopened = demand_as_of(system, demand, T0 + DAY + 7 * HOUR)
    s = reopened.status
    assert (s.state, s.reopened, s.level, s.rating) == (State.CLAIMED, 1, Level.STREET, None)
    assert s.claimant is not None
    assert s.claimant.member == "wang"
    assert s.clock is None  # back on a promise: a fresh one from the reopen
    assert s.promise is not None
    assert s.promise.due_at == T0 + DAY + 6 * HOUR + 2 * DAY
    assert reopened.entries == []
    assert [type(e).__name__ for e in reopened.events][-2:] == ["Evaluated", "Reopened"]

    closed = demand_as_of(system, demand, T0 + 3 * DAY)
    assert (closed.status.state, closed.status.outcome) == (State.CLOSED, Rating.SATISFIED.outcome)
    assert closed.status.clock is None
    earned = {(e.kind, e.account): e.tenths for e in closed.entries}
    assert earned[(AccountKind.MEMBER, "wang")] > 0
    assert (AccountKind.UNIT, "Party branch 1") in earned
    assert len(closed.events) == recorded


def test_as_of_figures_equal_what_the_live_views_said_at_that_moment(settings: Settings) -> None:
    system = System(settings)
    moment_ = T0 + 7 * DAY + 30 * 60 * timedelta(seconds=1)
    year = Period.parse("2026")
    xinhua = Scope.parse("community:Xinhua")
    with story_on(settings) as story:
        first = mixed_history(story, range(18), T0)  # the last event at T0 + 150h, before the moment
        with system.projections() as running:
            running.wait_until_caught_up(timeout=60)
        with system.time_bank() as bank:
            bank.redeem("wang", "1.5", "a haircut", moment_ - HOUR)
        with system.index_view() as index, system.points_view() as ledger:
            said_then = (
                index.rates(now=moment_),
                index.rates(by="community", per="day", utc_offset=KARAMAY, now=moment_),
                index.rates(scope=xinhua, now=moment_),
                index.overdue(now=moment_, due_within=DAY),
                index.list_demands(limit=1000),
                ledger.ranking(AccountKind.MEMBER, year),
                ledger.ranking(AccountKind.UNIT, year, xinhua),
            )
            with system.time_bank(ledger) as bank:
                balance_then = bank.balance("wang")
        # Later: more demands, and later events on the earlier ones (closing, reopening).
        finish_open_demands(story, first, moment_ + DAY)
        story.do(first[0], c.Commend(by="community", note="thanks"), moment_ + 2 * DAY)
        mixed_history(story, range(18, 30), moment_ + HOUR)
        with system.projections() as running:
            running.wait_until_caught_up(timeout=60)
        with system.time_bank() as bank:
            bank.redeem("wang", "2", "tea", moment_ + 3 * DAY)
        with system.index_view() as index:
            assert index.rates(now=moment_) != said_then[0]  # the live view has moved on

    with index_as_of(system, moment_) as index, points_as_of(system, moment_) as ledger:
        as_of = (
            index.rates(now=moment_),
            index.rates(by="community", per="day", utc_offset=KARAMAY, now=moment_),
            index.rates(scope=xinhua, now=moment_),
            index.overdue(now=moment_, due_within=DAY),
            index.list_demands(limit=1000),
            ledger.ranking(AccountKind.MEMBER, year),
            ledger.ranking(AccountKind.UNIT, year, xinhua),
        )
        balance = balance_as_of(system, ledger, "wang", moment_)
    assert as_of == said_then
    assert balance == balance_then
    assert said_then[3], "the board had demands on it at that moment"


def test_a_moment_reads_local_time_offsets_and_whole_days() -> None:
    from datetime import UTC, datetime, timezone

    beijing = timezone(KARAMAY)
    assert moment("2026-03-01T09:00", beijing) == datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
    assert moment("2026-03-01T09:00+00:00", beijing) == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    end_of_day = moment("2026-03-01", beijing)
    assert end_of_day < datetime(2026, 3, 1, 16, 0, tzinfo=UTC) < end_of_day + timedelta(milliseconds=1)
    with pytest.raises(ValueError, match="not a moment"):
        moment("last tuesday", beijing)
