"""The points ledger from real events on SQLite and PostgreSQL: earned on close, reversed on reopen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from points_harness import CST, T0, Driver, feed, points_runner

from adapters.bootstrap import System
from adapters.settings import Settings
from engine.commands import Commend
from engine.periods import Period
from engine.scope import Scope
from engine.vocabulary import AccountKind, Priority, Rating
from projections.points.models import LedgerEntry
from projections.points.projection import PointsProjection
from projections.points.view import PointsView

pytestmark = pytest.mark.integration

SHIPPED = (Path(__file__).parents[2] / "engine" / "policies" / "points.toml").read_text("utf-8")
MID_YEAR = SHIPPED.replace('method = "equal"', 'method = "lead_share"') + (
    "\n[[versions]]\n"
    'version = "2026.2"\n'
    "effective_from = 2026-07-01\n"
    "points_per_hour = 2\n"
    "commendation = 2\n"
    "unlisted_post = 1\n"
    "unit_share_percent = 50\n"
    "posts = { party_building = 3, policy_explanation = 2, mediation_security = 4, "
    "civilisation_practice = 2, convenience_services = 2, environment = 2, care_assistance = 3, "
    "culture_sports = 2 }\n"
    "priority = { general = 1, important = 1.5, major = 2 }\n"
    "rating = { satisfied = 2, basically_satisfied = 1, unsatisfied = -2, not_rated = -1 }\n"
    'split = { method = "lead_share", lead_share_percent = 40 }\n'
)
"""Lead share 50% until 30 June; from 1 July two points an hour and a 40% lead share."""


@pytest.fixture
def mid_year(settings: Settings, tmp_path: Path) -> Settings:
    """Deploy the two-version policy the way an operator would: a policy file in the settings."""
    path = tmp_path / "points.toml"
    path.write_text(MID_YEAR, "utf-8")
    return settings.model_copy(update={"points_file": path})


@pytest.fixture
def driver(settings: Settings) -> Iterator[Driver]:
    """Demands recorded through the real aggregate and store."""
    with System(settings).store() as app:
        yield Driver(app)


def shares(entries: list[LedgerEntry], kind: AccountKind = AccountKind.MEMBER) -> dict[str, int]:
    """Tenths per account among entries of one kind."""
    totals: dict[str, int] = {}
    for e in entries:
        if e.kind is kind:
            totals[e.account] = totals.get(e.account, 0) + e.tenths
    return totals


def test_group_claim_points_are_split_as_the_policy_says(mid_year: Settings, driver: Driver) -> None:
    driver.close("1", co_claimants=("li", "zhou"), hours=3, priority=Priority.IMPORTANT)
    with points_runner(mid_year) as view:
        ledger = view.ledger()
    # October, so version 2026.2: (environment 2 + 3h x 2) x important 1.5 + satisfied 2 = 14.0;
    # the lead takes 40% = 5.6, the co-claimants share the rest: 4.2 each
    assert shares(ledger) == {"wang": 56, "li": 42, "zhou": 42}
    assert shares(ledger, AccountKind.UNIT) == {"Party branch 1": 70}  # dual points: half
    assert {e.reason for e in ledger} == {"closed"}


def test_a_mid_year_policy_change_applies_by_the_closing_day(mid_year: Settings, driver: Driver) -> None:
    june = driver.close("june", co_claimants=("li",), closed_at=datetime(2026, 6, 30, 22, tzinfo=CST))
    july = driver.close("july", co_claimants=("li",), closed_at=datetime(2026, 7, 1, 8, tzinfo=CST))
    with points_runner(mid_year) as view:
        ledger = view.ledger()
    by_demand = {d: [e for e in ledger if e.demand_id == d] for d in (june, july)}
    assert {e.version for e in by_demand[june]} == {"2026.1"}
    assert {e.version for e in by_demand[july]} == {"2026.2"}
    assert shares(by_demand[june]) == {"wang": 30, "li": 30}  # 2 + 2h x 1 + 2 = 6.0, lead 50%
    assert shares(by_demand[july]) == {"wang": 32, "li": 48}  # 2 + 2h x 2 + 2 = 8.0, lead 40%


def test_a_reopened_closed_demand_is_reversed_then_earned_again(settings: Settings, driver: Driver) -> None:
    demand = driver.close("1", hours=2)
    driver.reopen(demand, T0 + timedelta(days=1))
    driver.finish(demand, hours=1, rating=Rating.BASICALLY_SATISFIED, closed_at=T0 + timedelta(days=2))
    with points_runner(settings) as view:
        ledger = view.ledger()
        earned = view.earned("wang")
    member = [(e.reason, e.tenths) for e in ledger if e.kind is AccountKind.MEMBER]
    # 2 + 2h + 2 = 6.0; reversed; then 2 + 3h (hours add up) + 1 = 6.0 again
    assert member == [("closed", 60), ("reversed", -60), ("closed", 60)]
    unit = [(e.reason, e.tenths) for e in ledger if e.kind is AccountKind.UNIT]
    assert unit == [("closed", 30), ("reversed", -30), ("closed", 30)]
    assert earned == 6
    assert [e.day.isoformat() for e in ledger if e.kind is AccountKind.MEMBER] == [
        "2026-10-05", "2026-10-06", "2026-10-07",
    ]  # fmt: skip


def test_a_commendation_after_closing_adds_points_and_a_reopen_reverses_them_too(
    settings: Settings, driver: Driver
) -> None:
    demand = driver.close("1", rating=None)  # unrated: 2 + 2h - 1 = 3.0
    driver.record(demand, Commend(by="street office", note="kind and quick"), T0 + timedelta(hours=5))
    driver.reopen(demand, T0 + timedelta(days=1))
    with points_runner(settings) as view:
        member = [(e.reason, e.tenths) for e in view.ledger() if e.kind is AccountKind.MEMBER]
        assert view.total(AccountKind.MEMBER, "wang") == 0
    assert member == [("closed", 30), ("commended", 20), ("reversed", -50)]


def test_a_projection_restarted_mid_stream_gives_the_same_ledger_as_one_run_straight_through(
    mid_year: Settings, driver: Driver
) -> None:
    first = driver.close("1", co_claimants=("li",), commendations=1)
    driver.close("2", member="li", unit="Party branch 2", priority=Priority.MAJOR)
    driver.reopen(first, T0 + timedelta(days=1))
    driver.close("3", member="zhou", closed_at=T0 + timedelta(days=1))
    driver.finish(first, closed_at=T0 + timedelta(days=3))
    store = driver.app.recorder.max_notification_id()
    assert store is not None

    # Stop half way, as a crash would; then a fresh runner resumes from the tracked position.
    system = System(mid_year)
    with PointsView(system.views_database()) as halfway:
        feed(driver.app, PointsProjection(halfway, system.points_policy), upto=store // 2)
        assert halfway.position() == store // 2
    with points_runner(mid_year) as resumed:
        restarted = resumed.ledger()

    with points_runner(mid_year, suffix="_straight") as straight:
        assert straight.ledger() == restarted
    assert {e.demand_id for e in restarted} == {first, "demand-wechat-2", "demand-wechat-3"}


def test_rankings_by_member_and_unit_over_period_and_scope(settings: Settings, driver: Driver) -> None:
    driver.close("1", member="wang", unit="Branch A")  # 6.0
    driver.close("2", member="li", unit="Branch B", hours=4)  # 8.0
    driver.close("3", member="zhou", unit="Branch A", street="Minzhu")  # 6.0, another street
    driver.close("4", member="wang", unit="Branch A", closed_at=datetime(2026, 11, 2, 10, tzinfo=CST))
    with points_runner(settings) as view:
        october = Period.parse("2026-10")
        yingbin = view.ranking(AccountKind.MEMBER, october, Scope.parse("street:Yingbin"))
        everywhere = view.ranking(AccountKind.MEMBER, Period.parse("2026"), Scope())
        units = view.ranking(AccountKind.UNIT, october, Scope.parse("district:Karamay District"))
    assert [(s.rank, s.account, s.tenths) for s in yingbin] == [(1, "li", 80), (2, "wang", 60)]
    assert [(s.rank, s.account, s.tenths, s.demands) for s in everywhere] == [
        (1, "wang", 120, 2), (2, "li", 80, 1), (3, "zhou", 60, 1),
    ]  # fmt: skip
    assert [(s.rank, s.account, s.tenths) for s in units] == [(1, "Branch A", 60), (2, "Branch B", 40)]


def test_ties_share_a_rank(settings: Settings, driver: Driver) -> None:
    driver.close("1", member="wang")
    driver.close("2", member="li")
    with points_runner(settings) as view:
        standings = view.ranking(AccountKind.MEMBER, Period.parse("2026-10-01..2026-10-31"), Scope())
    assert [(s.rank, s.account) for s in standings] == [(1, "li"), (1, "wang")]


def test_the_shared_runner_runs_the_points_projection_and_replays_it_from_zero(
    settings: Settings, driver: Driver
) -> None:
    system = System(settings)
    driver.close("1", co_claimants=("li",))
    with system.projections() as running:
        running.wait_until_caught_up()
    with system.points_view() as view:
        before = view.ledger()
        view.drop()
    with system.projections() as running:
        running.wait_until_caught_up()
    with system.points_view() as view:
        assert view.ledger() == before
    assert shares(before) == {"wang": 30, "li": 30}
