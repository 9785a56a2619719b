"""How the console says a span of time: the board's promised limit, how late, what is left."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.http.console.render import lateness


@pytest.mark.parametrize(
    ("span", "said"),
    [
        (timedelta(days=10), "10d"),
        (timedelta(days=2, hours=3, minutes=5), "2d 3h"),
        (timedelta(hours=5, minutes=7), "5h 7m"),
        (timedelta(minutes=45, seconds=30), "45m"),
        (timedelta(seconds=4), "4s"),
        (-timedelta(hours=1, minutes=2), "1h 2m"),  # the column says whether it is late or left
    ],
)
def test_a_span_is_said_as_people_say_it(span: timedelta, said: str) -> None:
    assert lateness(span) == said
