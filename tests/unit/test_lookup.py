"""Finding demands by a resident without holding their data: normalised, keyed hashes; due days."""

from __future__ import annotations

from datetime import date

import pytest

from engine.lookup import ResidentLookup, normal_name, normal_phone
from engine.periods import Period
from engine.values import Resident

KEY = bytes(range(32))


@pytest.mark.parametrize("typed", ["13800138000", "+86 138 0013 8000", "0086-138-0013-8000", "138-0013-8000"])
def test_a_phone_number_is_found_however_it_was_written(typed: str) -> None:
    assert normal_phone(typed) == "13800138000"
    assert ResidentLookup(KEY).phone(typed) == ResidentLookup(KEY).phone("13800138000")


def test_names_compare_folded_and_keys_never_hold_the_data() -> None:
    assert normal_name("  Wang   Fang ") == normal_name("wang fang") == "wang fang"
    assert normal_name("\uff37\uff21\uff2e\uff27") == "wang"  # full-width letters, as some keyboards type
    keys = ResidentLookup(KEY).keys(Resident(name="Wang Fang", phone="13800138000"))
    assert {k.split(":")[0] for k in keys} == {"phone", "name"}
    assert not any("13800138000" in k or "wang" in k.lower().split(":")[1] for k in keys)
    assert ResidentLookup(bytes(32)).keys(Resident(name="Wang Fang", phone="13800138000")).isdisjoint(keys)
    assert ResidentLookup(KEY).keys(Resident(name="Li")) == {ResidentLookup(KEY).name("li")}  # no phone given


def test_what_is_due_today_tomorrow_and_this_week() -> None:
    wednesday = date(2026, 3, 4)
    assert (Period.due("today", wednesday).first, Period.due("today", wednesday).last) == (
        wednesday,
        wednesday,
    )
    assert Period.due("tomorrow", wednesday).first == date(2026, 3, 5)
    week = Period.due("week", wednesday)
    assert (week.first, week.last) == (date(2026, 3, 2), date(2026, 3, 8))  # Monday to Sunday
    assert Period.due("2026-03", wednesday).last == date(2026, 3, 31)
    with pytest.raises(ValueError, match="use today, tomorrow, week"):
        Period.due("fortnight", wednesday)
