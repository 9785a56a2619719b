"""The MicroDemand workflow: one per demand; it decides, waits and times out, the store records.

Deterministic orchestration only. Every accepted command goes through the `record` activity,
whose answer (the stored status) becomes the workflow's state, so the two cannot disagree.

Nothing a caller sends is trusted. The workflow is registered dynamically so that its start
input, like every signal and update payload, reaches it raw (`RawValue`): Temporal never decodes
a payload before our code does, so no payload can fail a workflow task. Updates are validated
(payload, then the rules) before they are accepted; signals are queued and taken in order by the
main loop, and one that cannot be taken is kept as a rejection in the store, with its reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, ClassVar, TypeVar

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from engine import rules
    from engine.commands import (
        SIGNALS,
        TIMER_COMMANDS,
        UPDATES,
        Absorb,
        Command,
        Merge,
        Submission,
    )
    from engine.lifecycle import Refused, State, Step
    from engine.status import DemandStatus
    from engine.values import clean_line
    from workflows import search
    from workflows.activities import Recorder, RecordRequest, RejectRequest
    from workflows.messages import (
        REFUSED,
        STALE,
        VERSION_GAP,
        InvalidPayload,
        invalid,
        parse,
        parse_one,
        refusal,
    )

A = TypeVar("A")
R = TypeVar("R")

WORKFLOW_TYPE = "MicroDemand"
CONTRACT_V2 = "contract-v2"
"""Patch id of the hardened contract: histories recorded before it replay the old behaviour."""
OVERDUE_BY_PROMISE = "overdue-by-promise"
"""Patch id of `DemandOverdue` meaning past the promise (the board's meaning), not the step clock's mark."""

RECORD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=0,  # a store that is down is waited for, not given up on
    non_retryable_error_types=[REFUSED, VERSION_GAP, STALE],
)
RECORD_TIMEOUT = timedelta(seconds=15)  # one append; above the SQLite lock timeout of 10s
COLLECTION_GRACE = timedelta(minutes=1)
"""How long an update that arrives before the submission waits for it."""
SUBMISSION_GRACE = timedelta(minutes=5)
"""How long a workflow waits for a valid submission before it ends as rejected."""
MAX_REJECTIONS = 50
"""Rejections kept in the store per run; beyond that a flood is only logged."""
MESSAGE_IDS = uuid.UUID("6f1d3c2e-5b8a-4e0f-9a6d-2c7b1e4f8a90")
"""Namespace of the ids the workflow gives the commands and rejections it records."""


def _store_error(error: BaseException) -> ApplicationError | None:
    """The store's typed error behind an activity's failure (a local activity's may come unwrapped)."""
    cause = error.cause if isinstance(error, ActivityError) else error
    return cause if isinstance(cause, ApplicationError) else None


def _spoken(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    return f"{seconds // 60} minutes" if seconds >= 120 else f"{seconds} seconds"


@workflow.defn(dynamic=True)
class MicroDemandWorkflow:
    """A demand's closed loop: collect, serve commands and timers until it ends, then stay for
    complaints while the demand is kept."""

    records_per_run: ClassVar[int] = 200
    """Continue-as-new after this many recorded commands, even if the server does not suggest it."""

    submission_grace: ClassVar[timedelta] = SUBMISSION_GRACE
    """How long to wait for a valid submission before ending as rejected."""

    @workflow.init
    def __init__(self, args: Sequence[RawValue]) -> None:
        self._status = DemandStatus(demand_id=workflow.info().workflow_id)
        self._inbox: list[tuple[str, Command | str]] = []  # (message, command or rejection reason)
        self._lock = asyncio.Lock()
        self._records = 0
        self._rejections = 0
        self._broken: str | None = None
        self._v2 = True
        self._searchable: dict[str, object] = {}
        self._last_rejection: str | None = None

    @workflow.run
    async def run(self, args: Sequence[RawValue]) -> DemandStatus:
        """Collect a valid submission (or end rejected), then loop until the demand is no longer kept."""
        self._v2 = workflow.patched(CONTRACT_V2)
        if workflow.info().workflow_type != WORKFLOW_TYPE:
            return self._ended_unknown_type()
        self._take_start_input(args)
        if self._status.state is State.NEW and not await self._collect():
            return await self._end_rejected()
        while True:
            await self._drain()
            self._fail_if_broken()
            if self._continue_due():
                await workflow.wait_condition(workflow.all_handlers_finished)
                await self._drain()
                self._log("continuing as new", version=self._status.version)
                workflow.continue_as_new(args=[self._status])
            if self._status.state.is_open:
                await self._wait_or_act()
            elif self._v2 and await self._kept():
                continue
            else:
                break
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._fail_if_broken()
        self._log("settled", state=self._status.state.value)
        return self._status

    # ---- the start ------------------------------------------------------------------------

    def _take_start_input(self, args: Sequence[RawValue]) -> None:
        """A run continued as new carries its status; from outside, start input is a submission."""
        if workflow.info().continued_run_id is not None and args:
            try:
                carried = parse_one(DemandStatus, "continue-as-new", args[0])  # type: ignore[type-var]
            except InvalidPayload as error:
                self._log("ignored a carried status it cannot read", why=str(error), level="warning")
                return
            if carried.demand_id == self._status.demand_id:
                self._status = carried
                self._log("resumed from carried status", version=carried.version)
            return
        if self._v2 and args:  # a platform that passes the demand as start input as well
            self._receive("start input", args)

    async def _collect(self) -> bool:
        """Record the first valid submission; False if none came within the grace period."""
        if not self._v2:
            await workflow.wait_condition(lambda: any(m == "submit" for m, _ in self._inbox))
            await self._drain()
            return True
        deadline = workflow.now() + self.submission_grace
        while self._status.state is State.NEW:
            await self._drain()
            left = deadline - workflow.now()
            if self._status.state is not State.NEW:
                break
            if left <= timedelta(0):
                return False
            try:
                await workflow.wait_condition(
                    lambda: bool(self._inbox), timeout=left, timeout_summary="submission"
                )
            except TimeoutError:
                return False
        self._log("collected", state=self._status.state.value)
        return True

    async def _end_rejected(self) -> DemandStatus:
        why = f"no valid submission within {_spoken(self.submission_grace)}" + (
            f" (the last one: {self._last_rejection})" if self._last_rejection else ""
        )
        async with self._lock:
            await self._reject("submit", why)
        self._status = self._status.model_copy(update={"state": State.REJECTED, "rejection": why})
        self._search()
        self._log("rejected", why=why)
        return self._status

    def _ended_unknown_type(self) -> DemandStatus:
        why = f"this task queue runs {WORKFLOW_TYPE} workflows, not {workflow.info().workflow_type}"
        self._log("ended a workflow of an unknown type", why=why, level="warning")
        self._status = self._status.model_copy(update={"state": State.REJECTED, "rejection": why})
        return self._status

    # ---- the loop -------------------------------------------------------------------------

    async def _wait_or_act(self) -> None:
        """Wait until the status moves, a message arrives or the next alarm is due; on the alarm, act."""
        version = self._status.version
        alarm = self._status.next_alarm()

        def moved() -> bool:
            return (
                self._status.version != version
                or self._broken is not None
                or self._continue_due()
                or (self._v2 and bool(self._inbox))
            )

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
                await self._record(TIMER_COMMANDS[alarm.step]())

    async def _kept(self) -> bool:
        """While an ended demand is kept: wait for a message or the end of the window. False once over."""
        until = self._status.kept_until
        if until is None or until <= workflow.now():
            return False
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: bool(self._inbox) or self._status.state.is_open or self._continue_due(),
                timeout=until - workflow.now(),
                timeout_summary="kept for complaints",
            )
        return True

    def _continue_due(self) -> bool:
        return self._records >= self.records_per_run or workflow.info().is_continue_as_new_suggested()

    # ---- signals: queued, then taken in order ---------------------------------------------

    @workflow.signal(dynamic=True)
    async def _signal(self, name: str, args: Sequence[RawValue]) -> None:
        """Every signal arrives raw; it is read here and taken (or rejected) by the main loop."""
        if name == "absorb":
            await self._absorb(args)
            return
        self._receive(name, args)

    def _receive(self, name: str, args: Sequence[RawValue]) -> None:
        model = Submission if name == "start input" else SIGNALS.get(name)
        if model is None:
            self._log("ignored an unknown signal", signal=clean_line(name, 100), level="warning")
            return
        try:
            command = parse(model, name, args)
        except InvalidPayload as error:
            if self._v2:
                self._inbox.append((name, str(error)))
            else:
                self._log("ignored a signal it cannot read", why=str(error), level="warning")
            return
        if isinstance(command, Submission) and command.demand_id != self._status.demand_id:
            why = f"{name}: the payload is for {command.demand_id}, not this demand"
            if self._v2:
                self._inbox.append((name, why))
            else:
                self._log("ignored a submission for another demand", why=why, level="warning")
            return
        if not self._v2 and (self._status.state is not State.NEW or self._inbox):
            self._log("ignored a repeated submission", state=self._status.state.value)
            return  # as histories recorded before the hardened contract did
        self._inbox.append((name, command))

    async def _absorb(self, args: Sequence[RawValue]) -> None:
        """The original of a merge hears of its duplicate: the store has given it the reporter already."""
        if self._v2:
            async with self._lock:
                stored = await self._activity(Recorder.lookup, self._status.demand_id)
                if stored is not None and stored.version > self._status.version:
                    self._adopt(stored)
            return
        try:  # as histories recorded before the hardened contract did it
            absorb = parse(Absorb, "absorb", args)
        except InvalidPayload as error:
            self._log("ignored an absorb it cannot read", why=str(error), level="warning")
            return
        async with self._lock:
            if absorb.duplicate_id in self._status.duplicates:
                self._log("ignored a repeated absorb", duplicate=absorb.duplicate_id)
                return
            try:
                rules.check(self._status, absorb)
            except Refused as refused:
                self._log("cannot absorb a duplicate", why=refused.why, level="warning")
                return
            await self._record(absorb)

    async def _drain(self) -> None:
        """Take every queued message in order, under the lock."""
        while self._inbox:
            async with self._lock:
                name, item = self._inbox.pop(0)
                if isinstance(item, str):
                    await self._reject(name, item)
                else:
                    await self._take(name, item)

    async def _take(self, name: str, command: Command) -> None:
        if isinstance(command, Submission) and self._status.state is not State.NEW:
            if not self._v2 or not self._status.state.is_open:
                self._log("ignored a repeated submission", state=self._status.state.value)
                return
        elif self._status.state is State.NEW and not isinstance(command, Submission):
            await self._reject(name, f"demand {self._status.demand_id} has not been collected yet")
            return
        elif not isinstance(command, Submission):
            try:
                rules.check(self._status, command)
            except Refused as refused:
                await self._reject(name, str(refused))
                return
        try:
            await self._record(command)
        except (ActivityError, ApplicationError) as error:
            cause = _store_error(error)
            if cause is None or cause.type not in (REFUSED, STALE):
                raise
            await self._reject(name, cause.message)

    async def _reject(self, name: str, reason: str) -> None:
        """Keep a message that cannot be taken as a rejection (the reason only), or log it past the cap."""
        self._log("rejected a message", signal=name, why=reason, level="warning")
        self._last_rejection = reason
        if not self._v2 or self._rejections >= MAX_REJECTIONS:
            return
        self._rejections += 1
        rejection_id = self._message_id("reject", str(self._rejections), name, reason)
        request = RejectRequest(
            rejection_id=rejection_id, demand_id=self._status.demand_id, message=name, reason=reason,
            at=workflow.now(),
        )  # fmt: skip
        await self._activity(Recorder.reject, request)

    # ---- updates ----------------------------------------------------------------------------

    @workflow.update(dynamic=True)
    async def _update(self, name: str, args: Sequence[RawValue]) -> DemandStatus:
        """Every command an operator, member or the platform sends: checked, serialised, recorded."""
        command = self._read_update(name, args)
        if isinstance(command, Merge) and not self._v2:
            return await self._merge_v1(command)
        status = await self._apply(command)
        if isinstance(command, Merge):
            await self._notify_original(command)
        return status

    @_update.validator
    def _validate(self, name: str, args: Sequence[RawValue]) -> None:
        self._check(self._read_update(name, args))

    def _read_update(self, name: str, args: Sequence[RawValue]) -> Command:
        model = UPDATES.get(name)
        if model is None:
            known = ", ".join(sorted(UPDATES))
            raise ApplicationError(f"no such command: {name} (the commands are {known})", type="Invalid")
        try:
            return parse(model, name, args)
        except InvalidPayload as error:
            raise invalid(error) from None

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
            self._check(command, collected=self._v2)
            try:
                await self._record(command)
            except (ActivityError, ApplicationError) as error:
                cause = _store_error(error)
                if cause is not None and cause.type in (REFUSED, STALE):
                    raise refusal(cause.message) from None
                raise
        return self._status

    def _check(self, command: Command, *, collected: bool = False) -> None:
        if self._broken is not None:
            raise refusal(f"demand {self._status.demand_id} is halted: {self._broken}")
        if self._status.state is State.NEW and not collected:
            return  # the submission may be on its way: the handler checks once it is recorded
        try:
            rules.check(self._status, command)
        except Refused as refused:
            raise refusal(refused) from None

    async def _notify_original(self, command: Merge) -> None:
        """Tell the original's workflow that the store gave it this duplicate's reporter."""
        original = workflow.get_external_workflow_handle(command.into)
        try:
            await original.signal("absorb", Absorb(by=command.by, duplicate_id=self._status.demand_id))
        except FailureError as error:  # its loop ended meanwhile: the store still names it
            self._log(
                "could not reach the original", original=command.into, error=error.message, level="warning"
            )

    async def _merge_v1(self, command: Merge) -> DemandStatus:
        """A merge as histories recorded before the hardened contract did it (kept for replay)."""
        stored = await self._activity(Recorder.lookup, command.into)
        if stored is None or not stored.state.is_open:
            why = "no such demand" if stored is None else f"it is {stored.state.value}"
            raise refusal(
                Refused(self._status.demand_id, self._status.state, Step.MERGE, f"{command.into}: {why}")
            )
        status = await self._apply(command)
        await self._notify_original(command)
        return status

    # ---- recording --------------------------------------------------------------------------

    async def _record(self, command: Command) -> None:
        """Record `command` through the activity (caller holds the lock) and adopt the stored status."""
        if isinstance(command, Absorb) and self._v2:
            return  # the store records absorbs with the merge itself
        command_id = self._message_id("record", command.model_dump_json()) if self._v2 else None
        request = RecordRequest(
            demand_id=self._status.demand_id, expected_version=self._status.version, at=workflow.now(),
            command=command, command_id=command_id,
        )  # fmt: skip
        try:
            status = await self._activity(Recorder.record, request)
        except (ActivityError, ApplicationError) as error:
            cause = _store_error(error)
            if cause is not None and cause.type == VERSION_GAP:
                self._broken = cause.message  # fails the workflow: a lost event is never papered over
                self._log("event store is missing events", level="error")
            if cause is not None and cause.type == STALE and cause.details:
                self._adopt(DemandStatus.model_validate(cause.details[0]))
            raise
        self._adopt(status)
        self._records += 1

    def _message_id(self, kind: str, *parts: str) -> uuid.UUID:
        """A stable id for what this run records next: the same when a workflow task is retried on
        another worker. (`workflow.uuid4()` is not: a timed-out or failed task reseeds the workflow's
        randomness, so a worker killed after the store wrote would make the retry look like a new
        command, and the store would refuse it as stale.) The version the store is expected to be
        at, the run and the content (hashed: residents' data never leaves in an id) name it."""
        info = workflow.info()
        digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
        name = f"{info.workflow_id}/{info.run_id}/{kind}/{self._status.version}/{digest}"
        return uuid.uuid5(MESSAGE_IDS, name)

    async def _activity(
        self, activity: Callable[[Recorder, A], Awaitable[R]] | Callable[[Recorder, A], R], arg: A
    ) -> R:
        """Run one of the store's activities: a local activity (no round trip to the server) for runs
        under the hardened contract, an ordinary one for histories recorded before it. Either way
        a store that is down is waited for, and the store's idempotency makes a retry harmless."""
        if self._v2:
            return await workflow.execute_local_activity_method(
                activity,
                arg,
                start_to_close_timeout=RECORD_TIMEOUT,
                retry_policy=RECORD_RETRY,
            )
        return await workflow.execute_activity_method(
            activity,
            arg,
            start_to_close_timeout=RECORD_TIMEOUT,
            retry_policy=RECORD_RETRY,
        )

    def _adopt(self, status: DemandStatus) -> None:
        self._status = status
        self._search()

    def _search(self) -> None:
        if not self._v2:
            return
        current = search.values(self._status, overdue_by_promise=workflow.patched(OVERDUE_BY_PROMISE))
        changed = {k: v for k, v in current.items() if self._searchable.get(k) != v}
        if changed:
            workflow.upsert_search_attributes(search.updates(changed))
            self._searchable = current

    def _fail_if_broken(self) -> None:
        if self._broken is not None:
            raise ApplicationError(self._broken, type=VERSION_GAP, non_retryable=True)

    def _log(self, message: str, level: str = "info", **fields: Any) -> None:
        # Only ids, states, steps and reasons: never a payload, which may carry a resident's data.
        extra = {"demand_id": self._status.demand_id, **fields}
        getattr(workflow.logger, level)(f"{self._status.demand_id}: {message}", extra=extra)

    # ---- the query ---------------------------------------------------------------------------

    @workflow.query
    def status(self) -> DemandStatus:
        """The demand's current standing (no personal data)."""
        return self._status
