"""Immutable pydantic values of the domain: names, places, people, claimants, clocks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from engine.lifecycle import Step
from engine.vocabulary import Level, Stage


class Value(BaseModel):
    """Base of every immutable value and payload: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def field_errors(error: ValidationError, env_prefix: str | None = None) -> str:
    """A pydantic error as one line naming each bad field: `handle.major: Input should be ...`.

    With `env_prefix`, fields are named as environment settings: `MICRODEMAND_STORE: ...`.
    """

    def name(loc: tuple[int | str, ...]) -> str:
        if env_prefix is not None:
            return env_prefix + "_".join(str(p) for p in loc).upper()
        return ".".join(str(p) for p in loc) or "input"

    return "; ".join(f"{name(e['loc'])}: {e['msg']}" for e in error.errors())


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Slug = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$"),
]
Text = Annotated[str, StringConstraints(max_length=4000)]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a time must carry its time zone (for example 2026-11-23T09:00:00+08:00)")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
Hours = Annotated[float, Field(gt=0, le=1000)]


class Location(Value):
    """Where a demand belongs, from the grid up to the city."""

    city: Name
    district: Name
    street: Name
    community: Name
    grid: Name

    def unit_at(self, level: Level) -> str:
        """The name of the responsible unit at a level of the ladder."""
        return str(getattr(self, level.value))


class Resident(Value):
    """The person who raised a demand. Personal data: never logged, masked in analysts' views."""

    name: Name
    phone: Annotated[str, StringConstraints(max_length=32)] = ""
    address: Annotated[str, StringConstraints(max_length=300)] = ""


class Claimant(Value):
    """Who holds a claimed demand: a member, the unit they registered with, any co-claimants."""

    member: Name
    unit: Name
    co_claimants: tuple[Name, ...] = ()

    @property
    def members(self) -> tuple[str, ...]:
        """Everyone who shares the claim, the lead member first."""
        return (self.member, *self.co_claimants)


class Clock(Value):
    """The running time limit of a demand: when it started, when to warn, when it is due."""

    stage: Stage
    started_at: datetime
    warn_at: datetime | None
    due_at: datetime
    on_due: Step = Step.MARK_OVERDUE

    def warned_by(self, at: datetime) -> bool:
        """Whether the warning point has passed at `at` (an extension keeps a past warning)."""
        return self.warn_at is not None and self.warn_at <= at
