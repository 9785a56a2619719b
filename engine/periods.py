"""Spans of local days (a period such as 2026-10 or 2026-Q3) and calendar buckets (per month)."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from engine.masking import echoed

PERIOD_HELP = "a year (2026), a quarter (2026-Q3), a month (2026-10), a day (2026-10-05) or a range (A..B)"

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Period(BaseModel):
    """A span of local calendar days, both ends included: a year, a quarter, a month, a day or a range."""

    model_config = ConfigDict(frozen=True)

    first: date
    last: date
    label: str

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read `2026`, `2026-Q3`, `2026-10`, `2026-10-05` or a range `2026-01..2026-06`."""
        cleaned = text.strip()
        if ".." in cleaned:
            start, _, end = cleaned.partition("..")
            first, last = _bounds(start)[0], _bounds(end)[1]
            if first > last:
                raise ValueError(f"period {echoed(text)} ends before it starts")
            return cls(first=first, last=last, label=cleaned)
        first, last = _bounds(cleaned)
        return cls(first=first, last=last, label=cleaned.upper() if "q" in cleaned.lower() else cleaned)

    @classmethod
    def due(cls, text: str, today: date) -> Period:
        """The days an operator asks what is due in: `today`, `tomorrow`, `week` (this Monday to
        Sunday, as ISO weeks count), or any period `parse` reads."""
        word = text.strip().lower()
        if word == "today":
            return cls(first=today, last=today, label="today")
        if word == "tomorrow":
            tomorrow = today + timedelta(days=1)
            return cls(first=tomorrow, last=tomorrow, label="tomorrow")
        if word == "week":
            monday = today - timedelta(days=today.weekday())
            return cls(first=monday, last=monday + timedelta(days=6), label="this week")
        try:
            return cls.parse(text)
        except ValueError:
            raise ValueError(
                f"not a span to be due in: {echoed(text)} (use today, tomorrow, week or {PERIOD_HELP})"
            ) from None

    def window(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """The period as [since, until) instants in the time zone its days are counted in."""
        since = datetime.combine(self.first, time(0), zone)
        until = datetime.combine(self.last + timedelta(days=1), time(0), zone)
        return since, until

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


def _bounds(text: str) -> tuple[date, date]:
    text = text.strip()
    try:
        if _YEAR.match(text):
            return date(int(text), 1, 1), date(int(text), 12, 31)
        if quarter := _QUARTER.match(text):
            year, q = int(quarter[1]), int(quarter[2])
            first_month, last_month = 3 * q - 2, 3 * q
            return date(year, first_month, 1), date(
                year, last_month, calendar.monthrange(year, last_month)[1]
            )
        if month := _MONTH.match(text):
            year, number = int(month[1]), int(month[2])
            return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])
        if _DAY.match(text):
            day = date.fromisoformat(text)
            return day, day
    except ValueError:
        pass
    raise ValueError(f"not a period: {echoed(text)} (use {PERIOD_HELP})")


class Bucket(StrEnum):
    """Calendar buckets figures are broken down by: per day, week, month or year (local time)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"

    def start(self, day: date) -> date:
        """The first day of the bucket holding `day` (weeks start on Monday, as ISO weeks do)."""
        if self is Bucket.DAY:
            return day
        if self is Bucket.WEEK:
            return day - timedelta(days=day.weekday())
        return day.replace(day=1) if self is Bucket.MONTH else day.replace(month=1, day=1)

    def label(self, start: date) -> str:
        """How a bucket starting on `start` is written: 2026-11-02, 2026-W45, 2026-11, 2026."""
        if self is Bucket.DAY:
            return start.isoformat()
        if self is Bucket.WEEK:
            year, week, _ = start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{start.year:04d}-{start.month:02d}" if self is Bucket.MONTH else str(start.year)
