"""The time bank (志愿服务时间银行): members redeem the points they earned; no balance goes negative.

Earned points come from the points ledger (a read view, passed in as `EarnedPoints`); what was
redeemed is recorded on an event-sourced `Account` per member. A redemption is checked against
the account as loaded and saved at the next version, so two concurrent redemptions collide on
the version: the loser reloads, sees the winner's redemption and checks again. See
docs/decisions/0004-points-and-time-bank.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import event
from eventsourcing.persistence import IntegrityError

from engine.eventmodel import Aggregate, PydanticApplication
from engine.masking import mask_text
from engine.policies.points import from_tenths, to_tenths
from engine.values import Value


class InsufficientPointsError(ValueError):
    """A redemption larger than the member's balance; names the member, balance and amount."""

    def __init__(self, member: str, balance: Decimal, amount: Decimal) -> None:
        self.member, self.balance, self.amount = member, balance, amount
        super().__init__(f"{member} has a balance of {balance} points and cannot redeem {amount}")


class InvalidAmountError(ValueError):
    """An amount that is not a positive number of points in tenths."""


class TimeBankBusyError(RuntimeError):
    """Too many redemptions for one member collided at once; nothing was redeemed, try again."""


class EarnedPoints(Protocol):
    """Where earned points come from: the points ledger view."""

    def earned(self, member: str) -> Decimal:
        """A member's points earned so far (credits minus reversals)."""
        ...


def account_id(member: str) -> UUID:
    """The member's account id, the same on every machine."""
    return uuid5(NAMESPACE_URL, f"microdemand:time-bank:{member}")


class Account(Aggregate):
    """A member's time-bank account: what they redeemed, and for what."""

    @staticmethod
    def create_id(member: str) -> UUID:
        """One account per member name."""
        return account_id(member)

    def redeem(self, tenths: int, for_what: str, earned: int, at: datetime) -> None:
        """Redeem `tenths` if the balance (earned minus redeemed) covers it."""
        self.check_covered(tenths, earned)
        self._redeemed(tenths=tenths, for_what=for_what, timestamp=at)

    def check_covered(self, tenths: int, earned: int) -> None:
        """Raise InsufficientPointsError unless the balance covers `tenths`."""
        balance = max(0, earned - self.redeemed)
        if tenths > balance:
            raise InsufficientPointsError(self.member, from_tenths(balance), from_tenths(tenths))

    @event("Opened")
    def __init__(self, member: str, timestamp: datetime) -> None:
        self.member = member
        self.redeemed = 0
        self.redemptions: list[Redemption] = []

    @event("Redeemed")
    def _redeemed(self, tenths: int, for_what: str, timestamp: datetime) -> None:
        self.redeemed += tenths
        # Shown wherever redemptions are listed: numbers typed into it are masked, as in every free text.
        shown = mask_text(for_what)
        self.redemptions.append(Redemption(points=from_tenths(tenths), for_what=shown, at=timestamp))


class Redemption(Value):
    """Points a member redeemed, for what, and when."""

    points: Decimal
    for_what: str
    at: datetime


class Balance(Value):
    """A member's standing in the time bank. `owed`: reversed points already redeemed."""

    member: str
    earned: Decimal
    redeemed: Decimal
    balance: Decimal
    owed: Decimal

    @classmethod
    def of(cls, member: str, earned: int, redeemed: int) -> Balance:
        """The standing from tenths earned and redeemed; the balance is never below zero."""
        return cls(
            member=member, earned=from_tenths(earned), redeemed=from_tenths(redeemed),
            balance=from_tenths(max(0, earned - redeemed)), owed=from_tenths(max(0, redeemed - earned)),
        )  # fmt: skip


def points_amount(points: Decimal | str | int) -> int:
    """Tenths of a positive points amount such as `12.5`; InvalidAmountError otherwise."""
    try:
        amount = Decimal(points)
    except InvalidOperation:
        raise InvalidAmountError(f"not a points amount: {points} (use a number like 12 or 12.5)") from None
    if not amount.is_finite():
        raise InvalidAmountError(f"not a points amount: {points} (use a number like 12 or 12.5)")
    try:
        tenths = to_tenths(amount)
    except ValueError as error:
        raise InvalidAmountError(str(error)) from None
    if tenths <= 0:
        raise InvalidAmountError(f"a redemption must be more than zero points, not {points}")
    return tenths


class TimeBank(PydanticApplication):
    """Redeem earned points for services or goods ("deposit little by little, withdraw as a whole")."""

    name = "TimeBank"
    attempts = 50

    def __init__(self, env: Mapping[str, str] | None = None, *, ledger: EarnedPoints) -> None:
        super().__init__(env)
        self.ledger = ledger

    def redeem(self, member: str, points: Decimal | str | int, for_what: str, at: datetime) -> Balance:
        """Redeem `points` for `for_what`; InsufficientPointsError if the balance would go negative."""
        tenths = points_amount(points)
        for _ in range(self.attempts):
            account = self._find(member) or Account(member=member, timestamp=at)
            earned = to_tenths(self.ledger.earned(member))
            account.redeem(tenths, for_what, earned, at)
            try:
                self.save(account)
            except IntegrityError:
                continue  # another redemption saved this version first: reload and check again
            return Balance.of(member, earned, account.redeemed)
        raise TimeBankBusyError(f"redemptions for {member} kept colliding; nothing was redeemed")

    def balance(self, member: str) -> Balance:
        """A member's earned, redeemed, balance and owed points."""
        account = self._find(member)
        redeemed = account.redeemed if account is not None else 0
        return Balance.of(member, to_tenths(self.ledger.earned(member)), redeemed)

    def redemptions(self, member: str) -> list[Redemption]:
        """A member's redemptions, oldest first."""
        account = self._find(member)
        return list(account.redemptions) if account is not None else []

    def _find(self, member: str) -> Account | None:
        try:
            account: Account = self.repository.get(account_id(member))
        except AggregateNotFoundError:
            return None
        return account
