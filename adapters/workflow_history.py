"""A demand's two histories side by side: the domain events in the store and the Temporal workflow's.

The store says what happened to the demand ("claimed by li"); Temporal's history says how the
process got there (the update that asked, the activity that recorded it, the timer that fired).
Analysts read both in one timeline, each line marked with where it comes from. Temporal's
lines carry names only (updates, signals, activities, timers), never payloads: a submission's
payload holds the resident's personal data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

Source = Literal["store", "temporal"]

_NOISE = frozenset({"WORKFLOW_TASK_SCHEDULED", "WORKFLOW_TASK_STARTED", "WORKFLOW_TASK_COMPLETED"})
"""Workflow-task bookkeeping: the worker picking up work, on every step. Failures are kept."""


class TimelineLine(BaseModel):
    """One line of a demand's combined history: a stored event or a workflow history event."""

    model_config = ConfigDict(frozen=True)

    source: Source
    at: datetime
    number: int
    """The event's version in the store, or its event id in the workflow run."""
    run: str = ""
    """The workflow run (its first 8 characters): continue-as-new starts a new one."""
    what: str
    details: str = ""


async def workflow_timeline(client: Client, demand_id: str) -> list[TimelineLine]:
    """Every run of the demand's workflow, oldest first (following continue-as-new back); [] if none."""
    runs: list[list[TimelineLine]] = []
    run_id: str | None = None
    while True:
        handle = client.get_workflow_handle(demand_id, run_id=run_id)
        lines: list[TimelineLine] = []
        previous: str | None = None
        updates: dict[str, str] = {}
        try:
            async for event in handle.fetch_history_events():
                attributes_of = event.WhichOneof("attributes")
                attributes = getattr(event, attributes_of) if attributes_of else None
                if event.event_id == 1 and attributes is not None:
                    run_id = attributes.original_execution_run_id or run_id
                    previous = attributes.continued_execution_run_id or None
                name = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
                if name in _NOISE:
                    continue
                details = _details(name, event, attributes, updates)
                lines.append(
                    TimelineLine(
                        source="temporal", at=event.event_time.ToDatetime(tzinfo=UTC), number=event.event_id,
                        run=(run_id or "")[:8], what=name.lower(), details=details,
                    )
                )  # fmt: skip
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                break
            raise
        runs.append(lines)
        if previous is None:
            break
        run_id = previous
    return [line for lines in reversed(runs) for line in lines]


def _details(name: str, event: Any, a: Any, updates: dict[str, str]) -> str:
    """What a workflow event was about, by name only."""
    if a is None:
        return ""
    match name:
        case "WORKFLOW_EXECUTION_SIGNALED":
            return f"signal {a.signal_name}"
        case "WORKFLOW_EXECUTION_UPDATE_ACCEPTED":
            updates[a.protocol_instance_id] = a.accepted_request.input.name
            return f"update {a.accepted_request.input.name}"
        case "WORKFLOW_EXECUTION_UPDATE_ADMITTED":
            return f"update {a.request.input.name}"
        case "WORKFLOW_EXECUTION_UPDATE_REJECTED":
            return f"update {a.rejected_request.input.name}: {a.failure.message}"
        case "WORKFLOW_EXECUTION_UPDATE_COMPLETED":
            outcome = "failed: " + a.outcome.failure.message if a.outcome.HasField("failure") else "done"
            return f"update {updates.get(a.meta.update_id, '')} {outcome}".replace("  ", " ")
        case "ACTIVITY_TASK_SCHEDULED":
            return f"activity {a.activity_type.name}"
        case "ACTIVITY_TASK_FAILED":
            return f"activity failed: {a.failure.message}"
        case "MARKER_RECORDED" if a.marker_name == "core_local_activity":
            return f"activity {_local_activity(a)} (local)"
        case "TIMER_STARTED":
            summary = _summary(event)
            return f"timer {a.timer_id} for {a.start_to_fire_timeout.ToTimedelta()}" + (
                f" ({summary})" if summary else ""
            )
        case "TIMER_FIRED" | "TIMER_CANCELED":
            return f"timer {a.timer_id}"
        case "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED":
            return f"signal {a.signal_name} to {a.workflow_execution.workflow_id}"
        case "WORKFLOW_EXECUTION_FAILED" | "WORKFLOW_TASK_FAILED":
            return str(a.failure.message)
        case "WORKFLOW_EXECUTION_TERMINATED":
            return str(a.reason)
    return ""


def _local_activity(attributes: Any) -> str:
    """The type of a local activity, from its marker's details (SDK core writes them as JSON)."""
    try:
        return str(json.loads(attributes.details["data"].payloads[0].data)["activity_type"])
    except (KeyError, IndexError, ValueError, TypeError):
        return "?"


def _summary(event: Any) -> str:
    """A timer's summary (`warn`, `mark_overdue`), as the workflow named it."""
    payload = event.user_metadata.summary
    try:
        return str(json.loads(payload.data)) if payload.data else ""
    except ValueError:
        return ""


def combined(store: Iterable[TimelineLine], temporal: Iterable[TimelineLine]) -> list[TimelineLine]:
    """Both histories in one timeline, by time; at the same moment the store's line comes last."""
    order = {"temporal": 0, "store": 1}
    return sorted([*store, *temporal], key=lambda line: (line.at, order[line.source], line.number))
