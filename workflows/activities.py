"""The activities: record a command the workflow accepted, exactly once; look another demand up.

Synchronous on purpose: eventsourcing is synchronous, so the worker runs this on its thread pool
(`activity_executor`) and the event loop never blocks on the database. Retries are safe because
the store is idempotent by expected version: an attempt that wrote and then lost its answer is
answered from the store the next time, and never writes a second copy.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import Field
from temporalio import activity
from temporalio.exceptions import ApplicationError

from engine.application import DemandNotFoundError, Demands, StaleCommandError, VersionGapError
from engine.commands import AnyCommand
from engine.lifecycle import Refused
from engine.logs import get_logger
from engine.status import DemandStatus
from engine.values import AwareDatetime, Value
from workflows.messages import REFUSED, STALE, VERSION_GAP


class RecordRequest(Value):
    """What the workflow asks the store to record: a command, its time, the version it follows."""

    demand_id: str
    expected_version: int = Field(ge=0)
    at: AwareDatetime
    command: AnyCommand
    command_id: UUID | None = None
    """Chosen by the workflow (deterministically): a retry of the same command has the same id."""


class RejectRequest(Value):
    """A message the workflow could not take: which, why, when; its id makes a retry a no-op."""

    rejection_id: UUID
    demand_id: str
    message: str
    reason: str
    at: AwareDatetime


class Recorder:
    """The recording activity, bound to one event-store application."""

    def __init__(self, app: Demands) -> None:
        self.app = app

    @activity.defn(name="record")
    def record(self, request: RecordRequest) -> DemandStatus:
        """Append the command's events at the expected version and return the stored status."""
        step = request.command.step.value
        log = get_logger(__name__, demand_id=request.demand_id, step=step, version=request.expected_version)
        try:
            status = self.app.record(
                request.demand_id, request.command, request.at, request.expected_version, request.command_id
            )
        except StaleCommandError as stale:
            log.warning("store has moved past the command", why=stale.why)
            raise ApplicationError(str(stale), stale.status, type=STALE, non_retryable=True) from None
        except Refused as refusal:
            log.warning("store refused the command", why=refusal.why)
            raise ApplicationError(str(refusal), type=REFUSED, non_retryable=True) from None
        except VersionGapError as gap:
            log.error("event store is missing events the workflow has seen", error=str(gap))
            raise ApplicationError(str(gap), type=VERSION_GAP, non_retryable=True) from None
        log.info("recorded", stored_version=status.version, state=status.state.value)
        return status

    @activity.defn(name="lookup")
    def lookup(self, demand_id: str) -> DemandStatus | None:
        """Another demand's stored status (a merge's original), or None if it was never collected."""
        try:
            return self.app.status(demand_id)
        except DemandNotFoundError:
            return None

    @activity.defn(name="reject")
    def reject(self, request: RejectRequest) -> None:
        """Keep a message the workflow refused or could not read (the reason, never the payload)."""
        get_logger(__name__, demand_id=request.demand_id).warning(
            "message rejected", message=request.message, reason=request.reason
        )
        self.app.reject(request.rejection_id, request.demand_id, request.message, request.reason, request.at)
