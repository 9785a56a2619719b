"""The MicroDemand workflow: one per demand; it decides, waits and times out, the store records.

Deterministic orchestration only. Every accepted command goes through the `record` activity,
whose answer (the stored status) becomes the workflow's state, so the two cannot disagree.
Refusable commands are updates whose validators ask the same `engine.rules.check` as the
aggregate; handlers serialise on one lock and check again under it.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any, ClassVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from engine import rules
    from engine.commands import (
        Absorb,
        CloseUnrated,
        Command,
        MarkOverdue,
        Merge,
        Submission,
        Warn,
    )
    from engine.lifecycle import Refused, State, Step
    from engine.status import DemandStatus
    from workflows.activities import REFUSED, VERSION_GAP, Recorder, RecordRequest

from workflows.updates import DemandUpdates

RECORD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=0,  # a store that is down is waited for, not given up on
    non_retryable_error_types=[REFUSED, VERSION_GAP],
)
RECORD_TIMEOUT = timedelta(seconds=15)  # one append; above the SQLite lock timeout of 10s
COLLECTION_GRACE = timedelta(minutes=1)

_TIMER_COMMANDS: dict[Step, type[Warn | MarkOverdue | CloseUnrated]] = {
    Step.WARN: Warn,
    Step.MARK_OVERDUE: MarkOverdue,
    Step.CLOSE: CloseUnrated,
}


def _refusal(error: Refused | str) -> ApplicationError:
    return ApplicationError(str(error), type=REFUSED, non_retryable=True)


@workflow.defn(name="MicroDemand")
class MicroDemandWorkflow(DemandUpdates):
    """A demand's closed loop: collect, then serve updates and timers until it is no longer open."""

    records_per_run: ClassVar[int] = 200
    """Continue-as-new after this many recorded commands, even if the server does not suggest it."""

    @workflow.init
    def __init__(self, carry: DemandStatus | None = None) -> None:
        self._status = carry if carry is not None else DemandStatus(demand_id=workflow.info().workflow_id)
        self._submission: Submission | None = None
        self._lock = asyncio.Lock()
        self._records = 0
        self._broken: str | None = None

    @workflow.run
    async def run(self, carry: DemandStatus | None = None) -> DemandStatus:
        """Collect the submission (unless resuming a carried status), then loop until settled."""
        if carry is None:
            await workflow.wait_condition(lambda: self._submission is not None)
            async with self._lock:
                assert self._submission is not None
                await self._record(self._submission)
                self._submission = None  # updates that arrived meanwhile may now go ahead
            self._log("collected", state=self._status.state.value)
        else:
            self._log("resumed from carried status", version=self._status.version)
        while self._status.state.is_open:
            self._fail_if_broken()
            if self._continue_due():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if self._status.state.is_open:
                    self._log("continuing as new", version=self._status.version)
                    workflow.continue_as_new(self._status)
                break
            await self._wait_or_act()
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._fail_if_broken()
        self._log("settled", state=self._status.state.value, outcome=self._status.outcome)
        return self._status

    # ---- timers ---------------------------------------------------------------------------

    async def _wait_or_act(self) -> None:
        """Wait until the status moves or its next alarm is due; on the alarm, act if nothing moved."""
        version = self._status.version
        alarm = self._status.next_alarm()

        def moved() -> bool:
            return self._status.version != version or self._broken is not None or self._continue_due()

        if alarm is None:
            await workflow.wait_condition(moved)
            return
        delay = alarm.at - workflow.now()
        if delay > timedelta(0):  # a zero timeout would throw at once; a past alarm acts now
            try:
                await workflow.wait_condition(moved, timeout=delay, timeout_summary=alarm.step.value)
                return
            except TimeoutError:
                pass
        async with self._lock:
            if self._status.version == version:  # a command that slipped in first wins
                self._log("timer fired", step=alarm.step.value)
                await self._record(_TIMER_COMMANDS[alarm.step]())

    def _continue_due(self) -> bool:
        return self._records >= self.records_per_run or workflow.info().is_continue_as_new_suggested()

    # ---- recording ------------------------------------------------------------------------

    async def _record(self, command: Command) -> None:
        """Record `command` through the activity (caller holds the lock) and adopt the stored status."""
        request = RecordRequest(
            demand_id=self._status.demand_id,
            expected_version=self._status.version,
            at=workflow.now(),
            command=command,
        )
        try:
            self._status = await workflow.execute_activity_method(
                Recorder.record, request, start_to_close_timeout=RECORD_TIMEOUT, retry_policy=RECORD_RETRY
            )
        except ActivityError as error:
            cause = error.cause
            if isinstance(cause, ApplicationError) and cause.type == VERSION_GAP:
                self._broken = cause.message  # fails the workflow: a lost event is never papered over
                self._log("event store is missing events", level="error")
            raise
        self._records += 1

    def _fail_if_broken(self) -> None:
        if self._broken is not None:
            raise ApplicationError(self._broken, type=VERSION_GAP, non_retryable=True)

    async def _apply(self, command: Command) -> DemandStatus:
        """Serialise a command with every other one, check it again under the lock, record it."""
        if self._status.state is State.NEW:
            # The push and a quick update can reach the workflow in either order: give the
            # collection a moment, then let the check under the lock refuse if it never came.
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._status.state is not State.NEW, timeout=COLLECTION_GRACE
                )
        async with self._lock:
            self._check(command)
            try:
                await self._record(command)
            except ActivityError as error:
                cause = error.cause
                if isinstance(cause, ApplicationError) and cause.type == REFUSED:
                    raise _refusal(cause.message) from None
                raise
        return self._status

    def _check(self, command: Command) -> None:
        if self._broken is not None:
            raise _refusal(f"demand {self._status.demand_id} is halted: {self._broken}")
        if self._status.state is State.NEW:
            return  # the submission may be on its way: the handler checks once it is recorded
        try:
            rules.check(self._status, command)
        except Refused as refusal:
            raise _refusal(refusal) from None

    def _log(self, message: str, level: str = "info", **fields: Any) -> None:
        # Only ids, states and steps: never the submission, which carries the resident's data.
        extra = {"demand_id": self._status.demand_id, **fields}
        getattr(workflow.logger, level)(f"{self._status.demand_id}: {message}", extra=extra)

    # ---- signals and query ----------------------------------------------------------------

    @workflow.signal
    def submit(self, submission: Submission) -> None:
        """Take the upstream platform's submission once; repeats and strays change nothing."""
        if submission.demand_id != self._status.demand_id:
            self._log("ignored a submission for another demand", other=submission.demand_id, level="warning")
        elif self._submission is not None or self._status.state is not State.NEW:
            self._log("ignored a repeated submission", state=self._status.state.value)
        else:
            self._submission = submission

    @workflow.signal
    async def absorb(self, absorb: Absorb) -> None:
        """Take in a merged duplicate's reporter (sent by the duplicate's workflow)."""
        async with self._lock:
            if absorb.duplicate_id in self._status.duplicates:
                self._log("ignored a repeated absorb", duplicate=absorb.duplicate_id)
                return
            try:
                rules.check(self._status, absorb)
            except Refused as refusal:
                self._log("cannot absorb a duplicate", why=refusal.why, level="warning")
                return
            await self._record(absorb)

    @workflow.query
    def status(self) -> DemandStatus:
        """The demand's current standing (no personal data)."""
        return self._status

    # ---- updates (the others are in workflows/updates.py) ---------------------------------

    @workflow.update
    async def merge(self, cmd: Merge) -> DemandStatus:
        """An operator merges this duplicate into its original, which then absorbs its reporter."""
        stored = await workflow.execute_activity_method(
            Recorder.lookup, cmd.into, start_to_close_timeout=RECORD_TIMEOUT, retry_policy=RECORD_RETRY
        )
        if stored is None or not stored.state.is_open:
            why = "no such demand" if stored is None else f"it is {stored.state.value}"
            state = self._status.state
            raise _refusal(Refused(self._status.demand_id, state, Step.MERGE, f"{cmd.into}: {why}"))
        status = await self._apply(cmd)
        original = workflow.get_external_workflow_handle(cmd.into)
        try:
            await original.signal(
                MicroDemandWorkflow.absorb, Absorb(by=cmd.by, duplicate_id=status.demand_id)
            )
        except FailureError as error:  # its loop ended meanwhile: the Merged event still names it
            self._log("could not reach the original", original=cmd.into, error=error.message, level="warning")
        return status

    @merge.validator
    def _validate_merge(self, cmd: Merge) -> None:
        self._check(cmd)
