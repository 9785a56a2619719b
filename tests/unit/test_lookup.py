"""Finding demands by a resident without holding their data: normalised, keyed hashes; the key kept apart."""

from __future__ import annotations

import stat
from datetime import date
from pathlib import Path

import pytest
from pydantic import SecretStr

from adapters.keys import SecretKeyError, secret_key
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


def test_the_key_is_made_once_owner_only_and_a_setting_wins(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    made = secret_key("lookup", None, folder, "MICRODEMAND_LOOKUP_KEY")
    assert len(made) == 32
    assert secret_key("lookup", None, folder, "MICRODEMAND_LOOKUP_KEY") == made  # the same one after
    assert stat.S_IMODE((folder / "lookup.key").stat().st_mode) == 0o600
    given = secret_key("lookup", SecretStr(KEY.hex()), folder, "MICRODEMAND_LOOKUP_KEY")
    assert given == KEY
    with pytest.raises(SecretKeyError, match="MICRODEMAND_LOOKUP_KEY: a key needs at least 16 bytes"):
        secret_key("lookup", SecretStr("abcd"), folder, "MICRODEMAND_LOOKUP_KEY")


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
