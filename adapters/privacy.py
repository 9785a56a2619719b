"""Residents' personal data at the edge: who may see it, and how it is hidden from everyone else.

Residents' names, phones and addresses live only in the `resident` of `Collected` and the
`reporter` of `DuplicateAbsorbed` events. Whatever leaves the process for an analyst (a
history, an export) passes through here. `may_reveal` is the one place that decides whether it
may be shown; roles (who is asking, on which rung) will be wired in there.
"""

from __future__ import annotations

from typing import Any

PERSONAL_FIELDS = ("resident", "reporter")
"""The event fields that hold a resident's personal data."""


class RevealRefusedError(PermissionError):
    """Someone asked for residents' personal data who may not see it."""


def may_reveal(asked: bool) -> bool:
    """Whether residents' personal data may be shown: only when asked for explicitly (`--reveal`).

    The CLI has no roles yet; when it has, the role's right to see residents' data is checked
    here (raising RevealRefusedError), and every history and export follows.
    """
    return asked


def mask_resident(resident: dict[str, Any]) -> dict[str, Any]:
    """Keep a resident's initial; hide the phone number and the address (for reading on screen)."""
    name = str(resident.get("name", ""))
    return {"name": (name[:1] + "*") if name else "", "phone": "[hidden]", "address": "[hidden]"}


def masked(data: dict[str, Any], reveal: bool) -> dict[str, Any]:
    """An event's data with residents masked, unless revealing is allowed."""
    if may_reveal(reveal):
        return data
    return {
        k: mask_resident(v) if k in PERSONAL_FIELDS and isinstance(v, dict) else v for k, v in data.items()
    }


def without_personal_data(data: dict[str, Any], reveal: bool) -> dict[str, Any]:
    """An event's data with the residents' fields left out entirely, unless revealing is allowed (exports)."""
    if may_reveal(reveal):
        return data
    return {k: v for k, v in data.items() if k not in PERSONAL_FIELDS}
