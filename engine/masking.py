"""Residents' numbers typed into free text, masked: the one function logs, histories, exports and views use.

People type phone numbers and ID-card numbers into titles, descriptions, notes, reasons and
comments ("call my son on 138 0013 8000"). Wherever residents' data is masked, free text is masked
with `mask_text`: a Chinese mobile number (with or without +86, spaces or dashes), a landline with
its area code, and a resident ID-card number (18 characters, or the old 15 digits) become
`[phone]` and `[ID card]`. Pure: the standard library's regular expressions only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

PHONE_MARK = "[phone]"
ID_CARD_MARK = "[ID card]"

_SEP = r"[- ]?"
ID_CARD = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    r"[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"  # region, birth, check
    r"|[1-9]\d{14}"  # the old 15 digits
    r")(?![0-9A-Za-z])"
)
"""A resident ID card: 18 characters (region, birth date, sequence, check digit), or the old 15 digits."""
PHONE = re.compile(
    r"(?<!\d)(?:"
    rf"(?:\+?86{_SEP})?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}"  # mobile: 138 0013 8000, +86-138...
    rf"|(?:\(0\d{{2,3}}\)|0\d{{2,3}}){_SEP}\d{{7,8}}"  # landline with its area code: 0990-6231234
    r")(?!\d)"
)
"""A Chinese mobile number, or a landline with its area code."""

_DIGIT = re.compile(r"\d")

FREE_TEXT_FIELDS = frozenset({"title", "description", "note", "reason", "comment", "text", "why"})
"""The fields of events, commands and rows that hold text people typed."""


def mask_text(text: str) -> str:
    """`text` with every phone and ID-card number in it masked."""
    if _DIGIT.search(text) is None:
        return text  # the common case, at no cost (a replay masks every title it indexes)
    return PHONE.sub(PHONE_MARK, ID_CARD.sub(ID_CARD_MARK, text))


def echoed(text: str, limit: int = 40) -> str:
    """A value someone sent, as an error message may quote it: masked and at most `limit` characters."""
    shown = mask_text(text)
    return repr(shown if len(shown) <= limit else shown[:limit] + "…")


def holds_numbers(text: str) -> bool:
    """Whether `text` holds something `mask_text` would mask (a phone or ID-card number)."""
    return mask_text(text) != text


def free_text_holds_numbers(value: Any, fields: Iterable[str] = FREE_TEXT_FIELDS) -> bool:
    """Whether a free-text field anywhere in JSON data holds a phone or ID-card number (ids and
    other fields are not looked at: `demand-x-0342317296` is nobody's landline)."""
    return _walk(value, frozenset(fields)) != value


def mask_free_text(data: dict[str, Any], fields: Iterable[str] = FREE_TEXT_FIELDS) -> dict[str, Any]:
    """A copy of JSON data with the free-text fields masked, at any depth."""
    wanted = frozenset(fields)
    return {k: _masked(v, wanted) if k in wanted else _walk(v, wanted) for k, v in data.items()}


def _masked(value: Any, fields: frozenset[str]) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [_masked(v, fields) for v in value]
    return _walk(value, fields)


def _walk(value: Any, fields: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return mask_free_text(value, fields)
    if isinstance(value, list):
        return [_walk(v, fields) for v in value]
    return value
