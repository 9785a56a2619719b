"""Residents' personal data at the edge: who may see it, and how it is hidden from everyone else.

Residents' names, phones and addresses live only in the `resident` of `Collected` and `Amended`
and the `reporter` of `DuplicateAbsorbed` events (sealed in the store, `engine.sealing`). Phone
and ID-card numbers people type into free text (titles, notes, reasons, comments) are masked with
them (`engine.masking`). Whatever leaves the process for an analyst (a history, an export) passes
through here; the application layer (`adapters/services.py`) decides who may reveal.
"""

from __future__ import annotations

from typing import Any

from engine.masking import mask_free_text

PERSONAL_FIELDS = ("resident", "reporter")
"""The event fields that hold a resident's personal data."""


def may_reveal(asked: bool) -> bool:
    """Whether residents' personal data may be shown: only when asked for explicitly (`--reveal`).

    Who may ask is not decided here: the callers ask the application layer first
    (`Services.reveal` for one demand, `reveal_many` for an export), which checks the role's right
    (`Act.REVEAL`), raises `Forbidden` if it has none, and records the reveal.
    """
    return asked


def mask_resident(resident: dict[str, Any]) -> dict[str, Any]:
    """Keep a resident's initial; hide the phone number and the address (for reading on screen)."""
    name = str(resident.get("name", ""))
    return {"name": (name[:1] + "*") if name else "", "phone": "[hidden]", "address": "[hidden]"}


def masked(data: dict[str, Any], reveal: bool) -> dict[str, Any]:
    """An event's data with residents and the numbers in its free text masked, unless revealing is allowed."""
    if may_reveal(reveal):
        return data
    return {
        k: mask_resident(v) if k in PERSONAL_FIELDS and isinstance(v, dict) else v
        for k, v in mask_free_text(data).items()
    }


def without_personal_data(data: dict[str, Any], reveal: bool) -> dict[str, Any]:
    """An event's data with the residents' fields left out entirely and the numbers in its free text
    masked, unless revealing is allowed (exports)."""
    if may_reveal(reveal):
        return data
    return {k: v for k, v in mask_free_text(data).items() if k not in PERSONAL_FIELDS}
