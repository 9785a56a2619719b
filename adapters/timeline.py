"""A demand's stored events as timeline rows: the one shape the CLI's `history` and the HTTP API show."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapters.privacy import masked

if TYPE_CHECKING:
    from engine.eventmodel import DomainEvent

_WHO = ("by", "member", "worker")
_NOTE = ("note", "reason", "comment")
_HIDDEN = {"originator_id", "originator_version", "timestamp", "originator_topic", *_WHO, *_NOTE}


def event_record(event: DomainEvent, reveal: bool) -> dict[str, Any]:
    """One event as a plain dict: version, time, name, who, note and its other fields (residents masked)."""
    data = masked(event.model_dump(mode="json"), reveal)
    claimant = data.get("claimant") or {}
    return {
        "version": event.originator_version,
        "at": data["timestamp"],
        "event": type(event).__name__,
        "who": next((data[k] for k in _WHO if data.get(k)), claimant.get("member", "")),
        "note": next((data[k] for k in _NOTE if data.get(k)), ""),
        "details": {k: v for k, v in data.items() if k not in _HIDDEN},
    }
