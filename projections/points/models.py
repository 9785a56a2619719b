"""What the points view remembers of each demand, the ledger's lines, and a ranking's places."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import Field

from engine.policies.points import ClosedDemand, from_tenths
from engine.values import Value
from engine.vocabulary import AccountKind, Outcome, Priority


class DemandFacts(Value):
    """What the points projection remembers of a demand until (and after) it closes."""

    aggregate_id: UUID
    demand_id: str
    post: str | None = None
    priority: Priority = Priority.GENERAL
    grid: str = ""
    community: str = ""
    street: str = ""
    district: str = ""
    city: str = ""
    member: str | None = None
    unit: str | None = None
    co_claimants: tuple[str, ...] = ()
    hours: Decimal = Decimal(0)
    commendations: int = 0
    outcome: Outcome | None = None
    closed_at: datetime | None = None
    holds: dict[str, int] = Field(
        default_factory=dict, description="What each account holds from this demand: `kind:account` → tenths."
    )

    def closed(self) -> ClosedDemand | None:
        """The facts that decide the points, if the demand is closed and was claimed."""
        if self.closed_at is None or self.outcome is None or self.member is None or self.unit is None:
            return None
        return ClosedDemand(
            demand_id=self.demand_id, post=self.post, priority=self.priority, member=self.member,
            unit=self.unit, co_claimants=self.co_claimants, hours=self.hours,
            commendations=self.commendations, outcome=self.outcome, closed_at=self.closed_at,
        )  # fmt: skip


Reason = Literal["closed", "reversed", "commended"]
"""Why a ledger entry was written: a close earns, a reopen reverses, a late commendation adds."""


class LedgerEntry(Value):
    """One line of the points ledger; never changed, a reversal is a line of its own."""

    demand_id: str
    kind: AccountKind
    account: str
    tenths: int
    reason: Reason
    version: str = Field(description="The policy version that priced it.")
    at: datetime
    day: date = Field(description="The local day of `at`, for periods.")
    grid: str = ""
    community: str = ""
    street: str = ""
    district: str = ""
    city: str = ""

    @property
    def points(self) -> Decimal:
        """The entry as points, one decimal place."""
        return from_tenths(self.tenths)


class Standing(Value):
    """A member's or unit's place in a ranking; ties share a rank."""

    rank: int
    account: str
    tenths: int
    demands: int

    @property
    def points(self) -> Decimal:
        """The points in the period, one decimal place."""
        return from_tenths(self.tenths)


def ranked(rows: Sequence[tuple[str, int, int]]) -> list[Standing]:
    """Standings from (account, tenths, demands) rows sorted highest first; ties share a rank."""
    standings: list[Standing] = []
    for position, (account, tenths, demands) in enumerate(rows, start=1):
        tied = standings and standings[-1].tenths == tenths
        rank = standings[-1].rank if tied else position
        standings.append(Standing(rank=rank, account=account, tenths=tenths, demands=demands))
    return standings
