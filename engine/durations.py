"""Lengths of time as people type and read them: 90m, 12h, 2d, 1d12h, 1w."""

from __future__ import annotations

import re
from datetime import timedelta

from engine.masking import echoed

LONGEST = timedelta(days=36_525)
"""The longest duration taken (a century): a time limit, an extension or a horizon longer than that
is a typo, and would carry a deadline past the calendar's end."""
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhms])")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(text: str) -> timedelta:
    """Parse "90m", "12h", "2d", "1d12h" or "1w" into a timedelta (at most `LONGEST`); raise
    ValueError otherwise."""
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned or _PART.sub("", cleaned):
        raise ValueError(f"not a duration: {echoed(text)} (use forms like 30m, 12h, 2d, 1d12h)")
    total = timedelta()
    try:
        for amount, unit in _PART.findall(cleaned):
            total += timedelta(**{_UNITS[unit]: float(amount)})
    except OverflowError:
        total = timedelta.max  # past what a timedelta holds: longer still
    if total > LONGEST:
        raise ValueError(f"not a duration: {echoed(text)} is longer than a hundred years")
    return total


def format_duration(value: timedelta) -> str:
    """Render a timedelta compactly, e.g. 1d4h or -3h20m."""
    sign = "-" if value < timedelta(0) else ""
    seconds = int(abs(value).total_seconds())
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes = seconds // 60
    parts = [f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    return sign + ("".join(parts) or "0m")
