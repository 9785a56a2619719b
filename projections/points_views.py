"""The points ledger view: what it stores, what it answers, and the words of its queries.

One interface, implemented for SQLite (`points_sqlite`) and PostgreSQL (`points_postgres`).
Every write records the tracking position in the same transaction as the rows it changes.
"""

from __future__ import annotations

import calendar
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from eventsourcing.persistence import Tracking, TrackingRecorder
from pydantic import Field

from engine.points import AccountKind, ClosedDemand, Outcome, from_tenths
from engine.vocabulary import Priority, Value

PROJECTION_NAME = "points"
"""Name of the projection: prefixes its tables, its tracking table and its environment settings."""


class DemandFacts(Value):
    """What the points projection remembers of a demand until (and after) it closes."""

    aggregate_id: UUID
    demand_id: str
    post: str | None = None
    priority: Priority = Priority.GENERAL
    community: str = ""
    street: str = ""
    district: str = ""
    member: str | None = None
    unit: str | None = None
    co_claimants: tuple[str, ...] = ()
    hours: Decimal = Decimal(0)
    commendations: int = 0
    outcome: Outcome | None = None
    closed_at: datetime | None = None

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
    community: str = ""
    street: str = ""
    district: str = ""

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


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Period(Value):
    """A span of local days, both ends included: a month, a year, or a range."""

    first: date
    last: date
    label: str

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read `2026-10`, `2026`, `2026-01..2026-06` or `2026-10-01..2026-10-15`."""
        cleaned = text.strip()
        if ".." in cleaned:
            start, _, end = cleaned.partition("..")
            first, last = cls._bounds(start)[0], cls._bounds(end)[1]
            if first > last:
                raise ValueError(f"period {text!r} ends before it starts")
            return cls(first=first, last=last, label=cleaned)
        first, last = cls._bounds(cleaned)
        return cls(first=first, last=last, label=cleaned)

    @staticmethod
    def _bounds(text: str) -> tuple[date, date]:
        text = text.strip()
        try:
            if month := _MONTH.match(text):
                year, number = int(month[1]), int(month[2])
                return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])
            if _YEAR.match(text):
                return date(int(text), 1, 1), date(int(text), 12, 31)
            if _DAY.match(text):
                day = date.fromisoformat(text)
                return day, day
        except ValueError:
            pass
        raise ValueError(f"not a period: {text!r} (use 2026-10, 2026, or 2026-01..2026-06)")


class Scope(Value):
    """Where a ranking looks: everywhere, or one community, street or district."""

    level: Literal["all", "community", "street", "district"] = "all"
    name: str = ""

    @classmethod
    def parse(cls, text: str) -> Scope:
        """Read `all`, `community:<name>`, `street:<name>` or `district:<name>`."""
        cleaned = text.strip()
        if cleaned in {"", "all"}:
            return cls()
        level, _, name = cleaned.partition(":")
        if level not in {"community", "street", "district"} or not name.strip():
            raise ValueError(f"not a scope: {text!r} (use all, community:X, street:X or district:X)")
        return cls.model_validate({"level": level, "name": name.strip()})


class PointsView(TrackingRecorder, ABC):
    """The points ledger and the per-demand facts it is priced from."""

    @abstractmethod
    def facts(self, aggregate_id: UUID) -> DemandFacts | None:
        """What is known of a demand (by its aggregate's id), or None if its collection was never seen."""

    @abstractmethod
    def net(self, demand_id: str) -> dict[tuple[AccountKind, str], int]:
        """What each account holds from one demand now (credits minus reversals), in tenths."""

    @abstractmethod
    def record(self, facts: DemandFacts, entries: Sequence[LedgerEntry], tracking: Tracking) -> None:
        """Store a demand's facts and append entries, with the tracking position, atomically."""

    @abstractmethod
    def total(self, kind: AccountKind, account: str) -> int:
        """An account's ledger total over all time, in tenths."""

    @abstractmethod
    def recent(self, kind: AccountKind, account: str, limit: int = 10) -> list[LedgerEntry]:
        """An account's latest entries, newest first."""

    @abstractmethod
    def ledger(self) -> list[LedgerEntry]:
        """Every entry, in the order written."""

    @abstractmethod
    def ranking(self, kind: AccountKind, period: Period, scope: Scope, limit: int = 20) -> list[Standing]:
        """Members or units by points earned in a period and scope, highest first."""

    @abstractmethod
    def drop(self) -> None:
        """Drop the view's tables and tracking, so the next run replays from position zero."""

    @abstractmethod
    def close(self) -> None:
        """Release the view's database connections."""

    def earned(self, member: str) -> Decimal:
        """A member's points from the ledger (what the time bank may pay out)."""
        return from_tenths(self.total(AccountKind.MEMBER, member))


def ranked(rows: Sequence[tuple[str, int, int]]) -> list[Standing]:
    """Standings from (account, tenths, demands) rows sorted highest first; ties share a rank."""
    standings: list[Standing] = []
    for position, (account, tenths, demands) in enumerate(rows, start=1):
        tied = standings and standings[-1].tenths == tenths
        rank = standings[-1].rank if tied else position
        standings.append(Standing(rank=rank, account=account, tenths=tenths, demands=demands))
    return standings
