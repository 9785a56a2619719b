"""Phone and ID-card numbers typed into free text are masked by one function, wherever residents are."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from temporalio.api.common.v1 import Payload

from adapters.codec import ResidentCodec
from adapters.privacy import masked, without_personal_data
from engine.masking import mask_free_text, mask_text


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("call my son on 138 0013 8000 after six", "call my son on [phone] after six"),
        ("电话13800138000 谢谢", "电话[phone] 谢谢"),
        ("+86-139-1234-5678 or 0990-6231234", "[phone] or [phone]"),
        ("ID 65020319800101123X, born 1980", "ID [ID card], born 1980"),
        ("old card 650203800101123", "old card [ID card]"),
        ("room 402, building 7, 3 hours, 2026-03-01", "room 402, building 7, 3 hours, 2026-03-01"),
        ("order 1380013800012345", "order 1380013800012345"),  # too long to be a phone
    ],
)
def test_numbers_people_type_are_masked_and_other_numbers_are_not(typed: str, shown: str) -> None:
    assert mask_text(typed) == shown


@given(st.text(alphabet=st.characters(blacklist_categories=("Nd",)), max_size=60))
def test_text_without_digits_is_left_exactly_as_it_is(text: str) -> None:
    assert mask_text(text) == text


def test_free_text_fields_are_masked_at_any_depth_and_ids_are_not() -> None:
    data = {
        "demand_id": "demand-hotline-13800138000",
        "title": "Wheelchair, call 13800138000",
        "command": {"note": "ID 65020319800101123X", "reason": ["0990-6231234"]},
    }
    assert mask_free_text(data) == {
        "demand_id": "demand-hotline-13800138000",
        "title": "Wheelchair, call [phone]",
        "command": {"note": "ID [ID card]", "reason": ["[phone]"]},
    }


def test_histories_and_exports_mask_free_text_with_residents_unless_revealed() -> None:
    event = {"title": "call 13800138000", "resident": {"name": "Li", "phone": "13800138000", "address": "B3"}}
    assert masked(event, reveal=False) == {
        "title": "call [phone]",
        "resident": {"name": "L*", "phone": "[hidden]", "address": "[hidden]"},
    }
    assert without_personal_data(event, reveal=False) == {"title": "call [phone]"}
    assert masked(event, reveal=True) == event == without_personal_data(event, reveal=True)


def test_the_codec_encrypts_typed_numbers_but_leaves_ids_that_look_like_numbers_plain() -> None:
    def payload(value: object) -> Payload:
        return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(value).encode())

    assert not ResidentCodec.personal(
        payload({"demand_id": "demand-platform-0342317296", "state": "collected"})
    )
    assert ResidentCodec.personal(payload({"command": {"note": "call 0990-6231234"}}))
    assert ResidentCodec.personal(payload([{"resident": {"name": "Li"}}]))
    assert not ResidentCodec.personal(Payload(metadata={"encoding": b"binary/null"}, data=b""))


def test_a_value_quoted_back_in_an_error_is_bounded_and_masked() -> None:
    from engine.masking import echoed
    from engine.periods import Period

    assert echoed("x" * 2000) == repr("x" * 40 + "…")
    assert echoed("call 13800138000") == repr("call [phone]")
    with pytest.raises(ValueError, match="not a period") as refused:
        Period.parse("13800138000" + "y" * 1_000_000)
    assert "13800138000" not in str(refused.value)
    assert len(str(refused.value)) < 300
