"""The time-limit policy: the 2310 rule, warnings, escalation windows, policy files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.durations import format_duration, parse_duration
from engine.lifecycle import Step
from engine.policies.files import PolicyError
from engine.policies.timelimits import load_time_limits
from engine.vocabulary import Priority, Stage

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def test_defaults_follow_the_2310_rule() -> None:
    limits = load_time_limits()
    assert limits.limit(Stage.HANDLE, Priority.GENERAL) == timedelta(days=2)
    assert limits.limit(Stage.HANDLE, Priority.IMPORTANT) == timedelta(days=3)
    assert limits.limit(Stage.HANDLE, Priority.MAJOR) == timedelta(days=10)


def test_clock_warns_at_eighty_percent_and_evaluation_closes_unrated() -> None:
    limits = load_time_limits()
    clock = limits.clock(Stage.CLAIM, Priority.GENERAL, T0)
    assert clock.due_at == T0 + timedelta(days=1)
    assert clock.warn_at == T0 + timedelta(hours=19, minutes=12)
    evaluation = limits.clock(Stage.EVALUATE, Priority.GENERAL, T0)
    assert evaluation.warn_at is None
    assert evaluation.on_due is Step.CLOSE


def test_extension_moves_deadline_and_warning_together() -> None:
    limits = load_time_limits()
    clock = limits.extended(limits.clock(Stage.HANDLE, Priority.GENERAL, T0), timedelta(days=1))
    assert clock.due_at == T0 + timedelta(days=3)
    assert clock.warn_at == T0 + timedelta(days=3) * 0.8


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("12h", timedelta(hours=12)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1w", timedelta(weeks=1)),
    ],
)
def test_durations_read_as_people_write_them(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "soon", "2x", "12", "h", "999999999999d", "1e9w", "99999999999999999999s", "36526d", "5300w"]
)
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@given(st.integers(min_value=0, max_value=10_000_000))
def test_format_then_parse_round_trips_to_the_minute(seconds: int) -> None:
    value = timedelta(seconds=seconds - seconds % 60)
    assert parse_duration(format_duration(value)) == value


def test_a_policy_file_with_a_bad_field_is_refused_naming_it(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "engine/policies/timelimits.toml").read_text()
    bad = tmp_path / "limits.toml"
    bad.write_text(text.replace('important = "3d"', 'important = "three days"'))
    with pytest.raises(PolicyError, match=r"handle\.important"):
        load_time_limits(bad)
    bad.write_text(text.replace("warn_fraction = 0.8", "warn_fraction = 1.5"))
    with pytest.raises(PolicyError, match="warn_fraction"):
        load_time_limits(bad)


def test_a_deployment_can_change_limits_without_code(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "engine/policies/timelimits.toml").read_text()
    custom = tmp_path / "limits.toml"
    custom.write_text(text.replace('major = "10d"', 'major = "5d"'))
    assert load_time_limits(custom).limit(Stage.HANDLE, Priority.MAJOR) == timedelta(days=5)
