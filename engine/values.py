"""Immutable pydantic values of the domain: names, places, people, claimants, clocks."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from engine.lifecycle import Step
from engine.vocabulary import Level, Stage


class Value(BaseModel):
    """Base of every immutable value and payload: unknown fields are refused.

    Errors never echo the input (`hide_input_in_errors`): a refused payload may hold a resident's
    phone number, and error messages end up in logs and in Temporal's history.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, hide_input_in_errors=True
    )


def field_errors(error: ValidationError, env_prefix: str | None = None) -> str:
    """A pydantic error as one line naming each bad field: `handle.major: Input should be ...`.

    With `env_prefix`, fields are named as environment settings: `MICRODEMAND_STORE: ...`.
    """

    def name(loc: tuple[int | str, ...]) -> str:
        # A field's name may be the sender's own (an unknown key): printable and bounded.
        parts = [clean_line(str(p), 40) for p in loc]
        if env_prefix is not None:
            return env_prefix + "_".join(parts).upper()
        return ".".join(parts) or "input"

    def one(e: Any) -> str:
        if not e["loc"]:  # a rule of the whole (fields that go together): its own words say which
            return clean_line(str(e["msg"]).removeprefix("Value error, "), 200)
        return f"{name(e['loc'])}: {clean_line(e['msg'], 200)}"

    errors = error.errors()
    said = "; ".join(one(e) for e in errors[:FIELD_ERRORS_SAID])
    if len(errors) > FIELD_ERRORS_SAID:
        said += f"; and {len(errors) - FIELD_ERRORS_SAID} more"
    return said


FIELD_ERRORS_SAID = 10
"""How many of a payload's errors a message names (a hostile one may have thousands)."""


def clean_line(text: str, limit: int) -> str:
    """`text` as one clean line of at most `limit` characters (cut with "…"): what a message quoting
    something a sender chose (a field's name, a signal's name) may hold in a terminal, a page, a log
    or a PostgreSQL column (which refuses NUL). Control characters go, as in every `Name`."""
    text = str(_one_line(text)).strip()
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


# Control characters (NUL, ESC and the rest of C0 and C1, DEL) and the bidirectional overrides
# that can make a terminal or a page show something other than what is stored.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile("[\t\n\r\u2028\u2029]+")


def _one_line(value: object) -> object:
    """Single-line text: line breaks and tabs become a space, other control characters go."""
    if isinstance(value, str):
        if value.isprintable():  # none of them (they are all unprintable): most text, and quicker
            return value
        return _CONTROL.sub("", _LINE_BREAKS.sub(" ", value))
    return value


def _multi_line(value: object) -> object:
    """Multi-line text: keeps line breaks (as \\n) and tabs, drops every other control character."""
    if isinstance(value, str):
        if value.isprintable():
            return value
        return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return value


def line(max_length: int, min_length: int = 0) -> object:
    """The constraints of a single line of text of at most `max_length` characters."""
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


Name = Annotated[str, line(120, 1), BeforeValidator(_one_line)]
"""A person's, unit's, post's or place's name: one line, 1 to 120 characters."""
Title = Annotated[str, line(200, 1), BeforeValidator(_one_line)]
"""A demand's title: one line, 1 to 200 characters."""
Slug = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$"),
]
Text = Annotated[str, StringConstraints(max_length=4000), BeforeValidator(_multi_line)]
"""A description: up to 4,000 characters, line breaks kept."""
Note = Annotated[str, StringConstraints(max_length=2000), BeforeValidator(_multi_line)]
"""A note or comment: up to 2,000 characters, line breaks kept."""
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), BeforeValidator(_multi_line)
]
"""Why someone acted: 1 to 1,000 characters."""
Reference = Annotated[str, line(500, 1), BeforeValidator(_one_line)]
"""A reference to a photo or document held elsewhere (a URL or a file id)."""

_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_PHONE = re.compile(r"^\+?\d{5,15}$")


def _phone(value: str) -> str:
    digits = _PHONE_SEPARATORS.sub("", value)
    if digits and not _PHONE.match(digits):
        raise ValueError(
            "not a phone number (digits, an optional leading +, spaces or dashes; 5 to 15 digits)"
        )
    return digits


Phone = Annotated[str, StringConstraints(max_length=32), BeforeValidator(_one_line), AfterValidator(_phone)]
"""A phone number, kept as its digits (and a leading +), or empty."""


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


FORGOTTEN_NAME = "[forgotten]"
"""What a resident whose key was destroyed reads as (`microdemand forget-resident`)."""


class Resident(Value):
    """The person who raised a demand. Personal data: never logged, masked in analysts' views."""

    # Sealed with a key of their own in the store and in Temporal (engine.sealing).

    name: Name
    phone: Phone = ""
    address: Annotated[str, line(300), BeforeValidator(_one_line)] = ""

    @property
    def forgotten(self) -> bool:
        """Whether this is a forgotten resident: their key is gone, and their data with it."""
        return self.name == FORGOTTEN_NAME and not self.phone and not self.address


FORGOTTEN = Resident(name=FORGOTTEN_NAME)
"""A forgotten resident, as every event that held them reads once their key is destroyed."""


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
