"""The points policy (积分): what a closed demand earns, for which members and which unit.

Points are exact: amounts are Decimals with at most one decimal place, and everything stored
or summed is an integer number of tenths. The policy is a list of versions, each effective from
a date; the version in force on the day a demand closes decides its points, so replaying the
events from zero gives every past demand the points it earned at the time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from engine.policies.files import load_policy
from engine.values import Name, Slug, Value
from engine.vocabulary import AccountKind, Outcome, Priority

TENTH = Decimal("0.1")
"""The smallest amount of points."""


def to_tenths(points: Decimal) -> int:
    """Exact tenths of a points amount; ValueError if it is finer than a tenth."""
    tenths = points / TENTH
    if tenths != tenths.to_integral_value():
        raise ValueError(f"points are counted in tenths: {points} has too many decimal places")
    return int(tenths)


def from_tenths(tenths: int) -> Decimal:
    """A points amount from its tenths, always shown with one decimal place."""
    return (Decimal(tenths) * TENTH).quantize(TENTH)


class BasePost(StrEnum):
    """The eight base posts of "8+X", by stable slug."""

    PARTY_BUILDING = "party_building"
    POLICY_EXPLANATION = "policy_explanation"
    MEDIATION_SECURITY = "mediation_security"
    CIVILISATION_PRACTICE = "civilisation_practice"
    CONVENIENCE_SERVICES = "convenience_services"
    ENVIRONMENT = "environment"
    CARE_ASSISTANCE = "care_assistance"
    CULTURE_SPORTS = "culture_sports"


_BASE_SLUGS = frozenset(p.value for p in BasePost)


Amount = Annotated[Decimal, Field(ge=0, le=10_000, decimal_places=1)]
Adjustment = Annotated[Decimal, Field(ge=-10_000, le=10_000, decimal_places=1)]
Factor = Annotated[Decimal, Field(gt=0, le=100, decimal_places=2)]
Percent = Annotated[int, Field(ge=0, le=100)]


class BasePosts(Value):
    """Points for each of the eight base posts."""

    party_building: Amount
    policy_explanation: Amount
    mediation_security: Amount
    civilisation_practice: Amount
    convenience_services: Amount
    environment: Amount
    care_assistance: Amount
    culture_sports: Amount


class PriorityFactors(Value):
    """How much weightier demands multiply their points by."""

    general: Factor
    important: Factor
    major: Factor


class RatingAdjustments(Value):
    """Points added (positive) or withheld (negative) by the resident's rating."""

    satisfied: Adjustment
    basically_satisfied: Adjustment
    unsatisfied: Adjustment
    not_rated: Adjustment


class Split(Value):
    """How a group claim's points are shared: equally, or a lead share and the rest equally."""

    method: Literal["equal", "lead_share"] = "equal"
    lead_share_percent: Percent = 50


class PolicyVersion(Value):
    """One version of the points standard, in force from `effective_from`."""

    version: Name
    effective_from: date
    points_per_hour: Amount
    commendation: Amount
    unlisted_post: Amount = Field(description="Points for a post in neither list, or no post.")
    unit_share_percent: Percent
    posts: BasePosts
    x_posts: dict[Slug, Amount] = {}
    priority: PriorityFactors
    rating: RatingAdjustments
    split: Split = Split()

    @field_validator("x_posts")
    @classmethod
    def _x_posts_are_not_base_posts(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        clashes = sorted(set(value) & _BASE_SLUGS)
        if clashes:
            raise ValueError(f"X posts must not repeat base posts: {', '.join(clashes)}")
        return value

    def post_points(self, post: str | None) -> Decimal:
        """Base points of a post slug; `unlisted_post` for an unknown post or none."""
        if post in _BASE_SLUGS:
            return Decimal(getattr(self.posts, str(post)))
        return self.x_posts.get(post or "", self.unlisted_post)

    def total(self, demand: ClosedDemand) -> int:
        """The demand's total points, in tenths, before it is shared out; never below zero."""
        earned = self.post_points(demand.post) + demand.hours * self.points_per_hour
        earned *= getattr(self.priority, demand.priority.value)
        earned += getattr(self.rating, demand.outcome.value)
        earned += demand.commendations * self.commendation
        return max(0, to_tenths(earned.quantize(TENTH, rounding=ROUND_HALF_UP)))

    def shares(self, total: int, members: Iterable[str]) -> dict[str, int]:
        """Split `total` tenths among members (lead first); the shares always sum to `total`."""
        people = list(dict.fromkeys(members))  # a lead repeated among co-claimants counts once
        lead, others = people[0], people[1:]
        if not others:
            return {lead: total}
        shares = dict.fromkeys(people, 0)
        pool = total
        if self.split.method == "lead_share":
            shares[lead] = total * self.split.lead_share_percent // 100
            pool -= shares[lead]
            people = others
        each, left = divmod(pool, len(people))
        for index, name in enumerate(people):
            shares[name] += each + (1 if index < left else 0)  # leftover tenths go lead-first
        return shares

    def unit_share(self, total: int) -> int:
        """The unit's "dual points" for a demand worth `total` tenths, rounded half up."""
        return int((Decimal(total * self.unit_share_percent) / 100).quantize(Decimal(1), ROUND_HALF_UP))


class ClosedDemand(Value):
    """The facts of a closed demand that decide its points."""

    demand_id: str
    post: str | None
    priority: Priority
    member: Name
    unit: Name
    co_claimants: tuple[Name, ...] = ()
    hours: Decimal = Field(default=Decimal(0), ge=0)
    commendations: int = Field(default=0, ge=0)
    outcome: Outcome
    closed_at: datetime

    @field_validator("outcome")
    @classmethod
    def _closing(cls, value: Outcome) -> Outcome:
        if not value.closes:
            raise ValueError(f"a closed demand cannot be {value.value}")
        return value


class Entry(Value):
    """Points (in tenths, negative for a reversal) for one member's or unit's account."""

    kind: AccountKind
    account: Name
    tenths: int


class Award(Value):
    """What a closed demand earns under the version in force when it closed."""

    version: str
    total: int
    entries: tuple[Entry, ...]


class PointsPolicy(Value):
    """Every version of the points standard, oldest first, and the time zone of its dates."""

    timezone: str = "Asia/Shanghai"
    versions: list[PolicyVersion] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use a name like Asia/Shanghai)") from None
        return value

    @model_validator(mode="after")
    def _versions_in_order(self) -> PointsPolicy:
        starts = [v.effective_from for v in self.versions]
        if starts != sorted(set(starts)):
            raise ValueError("versions must be listed oldest first, with distinct effective_from dates")
        names = [v.version for v in self.versions]
        if len(set(names)) != len(names):
            raise ValueError("version names must be distinct")
        return self

    def local_day(self, at: datetime) -> date:
        """The calendar day of `at` where the policy applies (effective dates, periods)."""
        return at.astimezone(ZoneInfo(self.timezone)).date()

    def in_force(self, at: datetime) -> PolicyVersion:
        """The version in force at `at`; the first version also covers anything earlier."""
        day = self.local_day(at)
        current = self.versions[0]
        for version in self.versions:
            if version.effective_from <= day:
                current = version
        return current

    def award(self, demand: ClosedDemand) -> Award:
        """The entries a closed demand earns: each member's share, and the unit's share."""
        version = self.in_force(demand.closed_at)
        total = version.total(demand)
        shares = version.shares(total, (demand.member, *demand.co_claimants))
        entries = [Entry(kind=AccountKind.MEMBER, account=m, tenths=t) for m, t in shares.items() if t]
        unit = version.unit_share(total)
        if unit:
            entries.append(Entry(kind=AccountKind.UNIT, account=demand.unit, tenths=unit))
        return Award(version=version.version, total=total, entries=tuple(entries))


def load_points_policy(path: Path | None = None) -> PointsPolicy:
    """Load the policy from `path`, or the default shipped with the project; PolicyError if invalid."""
    return load_policy(PointsPolicy, path, "points.toml", "points policy")
