"""The time bank on SQLite and PostgreSQL: redeem what was earned, never more, even all at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from points_harness import T0, Driver, points_runner

from adapters.bootstrap import System
from adapters.settings import Settings
from engine.timebank import Account, InsufficientPointsError, InvalidAmountError, TimeBank
from projections.points.view import PointsView

pytestmark = pytest.mark.integration


@pytest.fixture
def earned(settings: Settings) -> Iterator[PointsView]:
    """wang earned 6.0 points (one demand: 2 + 2h + 2) and 8.0 more (a second, 4 hours)."""
    app = System(settings).open_store()
    driver = Driver(app)
    driver.close("1")
    driver.close("2", hours=4)
    app.close()
    with points_runner(settings) as view:
        yield view


@pytest.fixture
def bank(settings: Settings, earned: PointsView) -> Iterator[TimeBank]:
    """The time bank, reading earned points from the ledger view."""
    app = TimeBank(System(settings).timebank_env(), ledger=earned)
    yield app
    app.close()


def test_redemption_within_the_balance_is_recorded_and_beyond_it_refused(bank: TimeBank) -> None:
    after = bank.redeem("wang", "10.5", "a haircut", T0)
    assert (after.earned, after.redeemed, after.balance, after.owed) == (
        Decimal("14.0"), Decimal("10.5"), Decimal("3.5"), Decimal("0.0"),
    )  # fmt: skip
    with pytest.raises(InsufficientPointsError) as refused:
        bank.redeem("wang", 4, "a bag of rice", T0 + timedelta(hours=1))
    assert str(refused.value) == "wang has a balance of 3.5 points and cannot redeem 4.0"
    assert [r.for_what for r in bank.redemptions("wang")] == ["a haircut"]
    assert bank.balance("wang").balance == Decimal("3.5")


def test_a_phone_number_typed_into_what_points_were_redeemed_for_is_masked_where_listed(
    bank: TimeBank,
) -> None:
    bank.redeem("wang", 1, "a haircut, ring 138 0013 8000", T0)
    assert [r.for_what for r in bank.redemptions("wang")] == ["a haircut, ring [phone]"]


def test_a_member_who_earned_nothing_is_refused_and_gets_no_account(bank: TimeBank) -> None:
    with pytest.raises(InsufficientPointsError, match=r"nobody has a balance of 0\.0 points"):
        bank.redeem("nobody", 1, "tea", T0)
    assert bank.redemptions("nobody") == []
    assert bank.balance("nobody").balance == 0


@pytest.mark.parametrize("amount", ["0", "-3", "1.25", "lots"])
def test_amounts_that_are_not_positive_tenths_are_refused(bank: TimeBank, amount: str) -> None:
    with pytest.raises(InvalidAmountError):
        bank.redeem("wang", amount, "tea", T0)


def test_concurrent_redemptions_never_overdraw(settings: Settings, earned: PointsView) -> None:
    # 14.0 points; eight terminals each try to redeem 3 at the same moment: only 4 may pass.
    env = {**System(settings).timebank_env(), "POSTGRES_POOL_SIZE": "1"}  # one connection each, as a process
    banks = [TimeBank(env, ledger=earned) for _ in range(8)]
    start = threading.Barrier(len(banks), timeout=30)
    outcomes: list[str] = []
    lock = threading.Lock()

    def redeem(n: int) -> None:
        start.wait()
        try:
            banks[n].redeem("wang", 3, f"voucher {n}", T0)
            outcome = "redeemed"
        except InsufficientPointsError:
            outcome = "refused"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=redeem, args=(n,)) for n in range(len(banks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["redeemed"] * 4 + ["refused"] * 4
    balance = banks[0].balance("wang")
    assert (balance.redeemed, balance.balance) == (Decimal("12.0"), Decimal("2.0"))
    assert len(banks[0].redemptions("wang")) == 4
    for bank in banks:
        bank.close()


def test_a_reversal_after_redemption_leaves_the_balance_at_zero_and_the_shortfall_owed(
    settings: Settings, bank: TimeBank
) -> None:
    bank.redeem("wang", 12, "a winter coat", T0)
    app = System(settings).open_store()
    Driver(app).reopen("demand-wechat-2", T0 + timedelta(days=1))  # takes back 8.0 points
    app.close()
    with points_runner(settings) as view:
        after = TimeBank(System(settings).timebank_env(), ledger=view)
        standing = after.balance("wang")
        assert (standing.earned, standing.balance, standing.owed) == (
            Decimal("6.0"), Decimal("0.0"), Decimal("6.0"),
        )  # fmt: skip
        with pytest.raises(InsufficientPointsError, match=r"balance of 0\.0 points"):
            after.redeem("wang", Decimal("0.1"), "a stamp", T0 + timedelta(days=2))
        after.close()


def test_accounts_have_one_deterministic_id_per_member() -> None:
    assert Account.create_id("wang") == Account.create_id("wang") != Account.create_id("li")
