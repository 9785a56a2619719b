"""Query parameters read as the CLI reads its options: a scope, a period, a duration, a moment.

A value that cannot be read is a BadRequestError (400) naming the parameter.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Annotated

from fastapi import Query

from adapters.http.errors import BadRequestError
from engine.periods import Period
from engine.scope import Scope

MAX_OFFSET = 10_000_000
"""The deepest a page may start (rows before it): beyond any listing, and a number every database
takes (a larger one would overflow its integer and fail the query)."""

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows before the page.")]
"""Where a page starts, as every paged listing takes it."""


def scope(text: str | None) -> Scope:
    """`all` (or nothing), `community:Xinhua`, `street:Yingbin` ..."""
    try:
        return Scope.parse(text)
    except ValueError as error:
        raise BadRequestError(f"scope: {error}") from None


def period(text: str | None) -> Period | None:
    """`2026`, `2026-Q3`, `2026-10`, `2026-10-05` or a range `A..B` (None stays None)."""
    if not text:
        return None
    try:
        return Period.parse(text)
    except ValueError as error:
        raise BadRequestError(f"period: {error}") from None


def duration(name: str, text: str | None) -> timedelta | None:
    """`12h`, `1d`, `30m` ... (None stays None)."""
    from engine.durations import parse_duration

    if not text:
        return None
    try:
        return parse_duration(text)
    except ValueError as error:
        raise BadRequestError(f"{name}: {error}") from None


def window(text: str | None, zone: object) -> tuple[datetime | None, datetime | None]:
    """A period as [since, until) in the local zone, or (None, None)."""
    found = period(text)
    if found is None:
        return None, None
    return found.window(zone)  # type: ignore[arg-type]


def due(text: str | None, zone: tzinfo) -> tuple[datetime, datetime] | None:
    """`today`, `tomorrow`, `week` or a period as [from, until) in the local zone (None stays None)."""
    if not text:
        return None
    try:
        return Period.due(text, datetime.now(zone).date()).window(zone)
    except ValueError as error:
        raise BadRequestError(f"due: {error}") from None
