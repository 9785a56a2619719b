"""The activities: record a command the workflow accepted, exactly once; look another demand up.

Synchronous on purpose: eventsourcing is synchronous, so the worker runs this on its thread pool
(`activity_executor`) and the event loop never blocks on the database. Retries are safe because
the store is idempotent by expected version: an attempt that wrote and then lost its answer is
answered from the store the next time, and never writes a second copy.
"""

from __future__ import annotations

from pydantic import Field
from temporalio import activity
from temporalio.exceptions import ApplicationError

from engine.application import DemandNotFoundError, Demands, VersionGapError
from engine.commands import AnyCommand
from engine.lifecycle import Refused
from engine.logs import get_logger
from engine.status import DemandStatus
from engine.values import AwareDatetime, Value

REFUSED = "Refused"
"""Error type of a command the demand cannot take; never retried."""

VERSION_GAP = "VersionGap"
"""Error type of a store that lacks events the workflow has seen; never retried, never papered over."""


class RecordRequest(Value):
    """What the workflow asks the store to record: a command, its time, the version it follows."""

    demand_id: str
    expected_version: int = Field(ge=0)
    at: AwareDatetime
    command: AnyCommand


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
            status = self.app.record(request.demand_id, request.command, request.at, request.expected_version)
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
