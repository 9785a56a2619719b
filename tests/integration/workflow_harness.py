"""What the workflow tests share: a demand to submit, a worker on a real store, store reads."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError

from adapters.bootstrap import System
from adapters.settings import Settings
from adapters.temporal import ensure_search_attributes
from engine.application import DemandNotFoundError, Demands
from engine.commands import Claim, Evaluate, FollowUp, Handle, Submission
from engine.lifecycle import State
from engine.status import DemandStatus
from engine.values import Location, Resident
from engine.vocabulary import Channel, Kind, Priority
from workflows.demand import MicroDemandWorkflow

T = TypeVar("T")

LIFECYCLE = ["Collected", "Claimed", "Handled", "FollowedUp", "Evaluated", "Closed"]


def submission(external_id: str | None = None, priority: Priority = Priority.GENERAL) -> Submission:
    """A demand as the upstream platform pushes it, with a resident's personal data."""
    return Submission(
        source="wechat",
        external_id=external_id or uuid.uuid4().hex[:12],
        kind=Kind.WISH,
        title="Fix the stairwell light",
        channel=Channel.WECHAT,
        priority=priority,
        location=Location(
            city="Karamay", district="Karamay District", street="Yingbin", community="Xinhua", grid="G1"
        ),
        resident=Resident(name="Li", phone="13800138000", address="Building 3, flat 2"),
    )


def queue_settings(settings: Settings) -> Settings:
    """The same store on a task queue of its own, so tests on one server never share workers."""
    return settings.model_copy(update={"task_queue": f"md-test-{uuid.uuid4().hex[:8]}"})


@asynccontextmanager
async def running_worker(
    client: Client,
    settings: Settings,
    *,
    activities: Sequence[Callable[..., Any]] | None = None,
    workflows: Sequence[type] | None = None,
    **options: Any,
) -> AsyncIterator[Demands]:
    """A real worker recording into a fresh `Demands` app on `settings`' store; yields the app.

    Built by `System.worker`; `workflows`, `activities` and other Worker `options` replace its own
    (a shorter run, a faulty recorder, no workflow cache).
    """
    system = System(settings)
    await ensure_search_attributes(client)
    app = system.open_store()
    if workflows is not None:
        options["workflows"] = list(workflows)
    if activities is not None:
        options["activities"] = list(activities)
    worker = system.worker(client, app, **options)
    try:
        async with worker:
            yield app
    finally:
        app.close()


async def submit(client: Client, sub: Submission, task_queue: str) -> WorkflowHandle[Any, DemandStatus]:
    """Signal-with-start, as the upstream platform does."""
    return await client.start_workflow(
        "MicroDemand",
        id=sub.demand_id,
        task_queue=task_queue,
        start_signal="submit",
        start_signal_args=[sub],
        result_type=DemandStatus,
    )


async def collected(handle: WorkflowHandle[Any, DemandStatus]) -> DemandStatus:
    """Wait until the workflow has recorded the submission; its status then."""
    status: DemandStatus | None = None

    async def done() -> bool:
        nonlocal status
        status = await handle.query(MicroDemandWorkflow.status)
        return status.state is not State.NEW

    await eventually(done)
    assert status is not None
    return status


def event_names(app: Demands, demand_id: str) -> list[str]:
    """The names of the demand's stored events, oldest first ([] if never collected)."""
    try:
        return [type(e).__name__ for e in app.history(demand_id)]
    except DemandNotFoundError:
        return []


def rejection_reasons(app: Demands, demand_id: str) -> list[str]:
    """The reasons of the rejections the store keeps for a demand, oldest first."""
    reasons = []
    for notification in app.recorder.select_notifications(start=1, limit=100_000):
        if notification.topic.endswith("Rejection.Rejected"):
            event: Any = app.mapper.to_domain_event(notification)
            if event.demand_id == demand_id:
                reasons.append(str(event.reason))
    return reasons


async def rejections(app: Demands, demand_id: str, count: int = 1) -> list[str]:
    """Wait until the store keeps `count` rejections for the demand; their reasons."""
    found: list[str] = []

    async def kept() -> bool:
        nonlocal found
        found = await asyncio.to_thread(rejection_reasons, app, demand_id)
        return len(found) >= count

    await eventually(kept)
    return found


async def stored_events(app: Demands, demand_id: str) -> list[str]:
    """`event_names` off the event loop, which runs the worker too."""
    return await asyncio.to_thread(event_names, app, demand_id)


async def eventually(check: Callable[[], Any], timeout: float = 60.0) -> None:
    """Poll `check` (sync or async) until it returns true; fail after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.05)


async def terminate_quietly(handle: WorkflowHandle[Any, Any]) -> None:
    """End a workflow a test left running, so it never fires timers into a later test.

    An activity still running when its workflow is terminated completes into nothing, and the
    time-skipping test server then never skips time again: let running activities finish first.
    """
    with contextlib.suppress(RPCError):  # it already completed
        async with asyncio.timeout(10):
            while (await handle.describe()).raw_description.pending_activities:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        await handle.terminate("test finished")


async def ride_out(handle: WorkflowHandle[Any, DemandStatus], update: str, command: Any) -> DemandStatus:
    """Send one update until a worker answers it, riding out a dead worker or server.

    The same update id on every try: the server answers a repeat, never applies it twice. A
    refusal fails the test with its reason. Cancellation is honoured (the client reports a
    cancelled call as a timeout, which a bare retry loop would swallow for ever).
    """
    update_id = f"{handle.id}-{command.step}"
    while True:
        try:
            return await handle.execute_update(update, command, id=update_id, result_type=DemandStatus)
        except (WorkflowUpdateRPCTimeoutOrCancelledError, RPCError):
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError from None
            await asyncio.sleep(0.5)
        except WorkflowUpdateFailedError as failed:
            raise AssertionError(f"{handle.id} {update}: {failed.cause}") from failed


STEPS: list[tuple[str, Any]] = [
    ("claim", Claim(member="wang", unit="Party branch 1")),
    ("handle", Handle(member="wang", hours=2, note="fixed the tap")),
    ("follow_up", FollowUp(worker="zhao", resolved=True)),
    ("evaluate", Evaluate(rating="satisfied")),
]
"""The loop after collection, as operators and members take it: each update and its command."""


async def round_the_loop(client: Client, sub: Submission, task_queue: str) -> DemandStatus:
    """Push a demand and take it round the loop, riding out a dead worker; then end its workflow.

    A worker killed after the store recorded a command but before Temporal recorded its workflow
    task leaves the next worker to run the command again: it finds the command done in the store
    (the same command id) and answers with the stored status, so no update is refused.
    """
    handle = await submit(client, sub, task_queue)
    status = DemandStatus(demand_id=sub.demand_id)
    for update, command in STEPS:
        status = await ride_out(handle, update, command)
    await terminate_quietly(handle)  # closed and kept for complaints: this test is done with it
    return status


async def all_or_none(*coroutines: Awaitable[T]) -> list[T]:
    """Run coroutines together; if one fails, cancel the rest (no task outlives its test)."""
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(coroutine) for coroutine in coroutines]
    return [task.result() for task in tasks]


@asynccontextmanager
async def in_background(coroutine: Awaitable[T]) -> AsyncIterator[asyncio.Task[T]]:
    """Run a coroutine as a task for the block; cancelled and awaited on the way out."""
    task = asyncio.ensure_future(coroutine)
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


@dataclass
class Stack:
    """A client, a worker on a store, and the workflows a test started through it."""

    client: Client
    settings: Settings
    app: Demands
    handles: list[WorkflowHandle[Any, DemandStatus]] = field(default_factory=list)

    async def start(self, sub: Submission | None = None) -> WorkflowHandle[Any, DemandStatus]:
        """Push a demand and wait until it is collected."""
        handle = await submit(self.client, sub or submission(), self.settings.task_queue)
        self.handles.append(handle)
        await collected(handle)
        return handle


@asynccontextmanager
async def open_stack(client: Client, settings: Settings, **worker: Any) -> AsyncIterator[Stack]:
    """A worker on its own task queue; on the way out its workflows are ended while it still runs.

    Ending them before the worker goes matters on the time-skipping server: a task left behind
    with no worker to finish it holds the clock, and every later `env.sleep` would hang.
    """
    settings = queue_settings(settings)
    async with running_worker(client, settings, **worker) as app:
        stack = Stack(client, settings, app)
        try:
            yield stack
        finally:
            for handle in stack.handles:
                await terminate_quietly(handle)
