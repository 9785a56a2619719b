"""The search attributes each demand's workflow keeps, so `temporal workflow list --query` finds it."""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributeUpdate

from engine.status import DemandStatus

STATE = SearchAttributeKey.for_keyword("DemandState")
PRIORITY = SearchAttributeKey.for_keyword("DemandPriority")
LEVEL = SearchAttributeKey.for_keyword("DemandLevel")
COMMUNITY = SearchAttributeKey.for_keyword("DemandCommunity")
STREET = SearchAttributeKey.for_keyword("DemandStreet")
OVERDUE = SearchAttributeKey.for_bool("DemandOverdue")

KEYS: tuple[SearchAttributeKey[Any], ...] = (STATE, PRIORITY, LEVEL, COMMUNITY, STREET, OVERDUE)
"""Every search attribute of a demand: registered on the dev server at start, checked by workers."""


def values(status: DemandStatus, *, overdue_by_promise: bool = True) -> dict[str, object]:
    """Each attribute's value for a status (community and street once the demand is collected).

    `DemandOverdue` is the overdue board's meaning: past the promise until the demand ends, on any
    rung. Runs started before that (`overdue_by_promise=False`) keep the step clock's mark, which
    an escalation clears, so that their histories replay.
    """
    found: dict[str, object] = {
        STATE.name: status.state.value,
        PRIORITY.name: status.priority.value,
        LEVEL.name: status.level.value,
        OVERDUE.name: status.on_the_board if overdue_by_promise else status.overdue,
    }
    if status.location is not None:
        found[COMMUNITY.name] = status.location.community
        found[STREET.name] = status.location.street
    return found


def updates(changed: dict[str, object]) -> list[SearchAttributeUpdate[Any]]:
    """Upserts that set the changed attributes."""
    keys = {key.name: key for key in KEYS}
    return [keys[name].value_set(value) for name, value in changed.items()]
