"""Late complaints on the time-skipping server: a closed demand's workflow is kept for the complaint
window; a complaint reopens it, anything else is refused with its state; after the window the
workflow completes and the store still answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from workflow_harness import LIFECYCLE, Stack, eventually, open_stack, rejections, stored_events

from adapters.demands_client import CommandRefusedError, DemandsClient, LoopEndedError
from adapters.settings import Settings
from engine.commands import Claim, Complain, Evaluate, FollowUp, Handle
from engine.lifecycle import State
from engine.status import DemandStatus
from workflows.demand import MicroDemandWorkflow

pytestmark = pytest.mark.integration

LOOP = [
    ("claim", Claim(member="wang", unit="Party branch 1")),
    ("handle", Handle(member="wang", hours=1.5)),
    ("follow_up", FollowUp(worker="zhao", resolved=True)),
    ("evaluate", Evaluate(rating="satisfied")),
]
COMPLAINT = Complain(reason="the light went out again after a week")


@pytest.fixture
async def stack(time_skipping_env: WorkflowEnvironment, sqlite_settings: Settings) -> AsyncIterator[Stack]:
    """A worker on a fresh SQLite store, on its own task queue."""
    async with open_stack(time_skipping_env.client, sqlite_settings) as stack:
        yield stack


async def closed(stack: Stack) -> WorkflowHandle[Any, DemandStatus]:
    """A demand taken round the whole loop."""
    handle = await stack.start()
    for update, command in LOOP:
        status = await handle.execute_update(update, command, result_type=DemandStatus)
    assert status.state is State.CLOSED
    return handle


async def test_a_late_complaint_in_the_window_reopens_the_demand_with_a_fresh_promise_and_it_closes_again(
    stack: Stack, time_skipping_env: WorkflowEnvironment
) -> None:
    handle = await closed(stack)
    client = DemandsClient(stack.client, stack.settings.task_queue)
    await time_skipping_env.sleep(timedelta(days=20))  # within the 30-day complaint window
    with pytest.raises(CommandRefusedError, match=r"is closed: cannot claim, only when collected"):
        await client.command(handle.id, Claim(member="li", unit="Branch 2"))  # refused, with its state
    now = await time_skipping_env.get_current_time()
    reopened = await client.command(handle.id, COMPLAINT)
    assert (reopened.state, reopened.reopened, reopened.late) == (State.CLAIMED, 1, False)
    assert reopened.claimant is not None
    assert reopened.claimant.member == "wang"  # back with whoever handled it
    assert reopened.promise is not None
    assert reopened.promise.due_at - reopened.promise.started_at == timedelta(days=2)
    assert reopened.promise.started_at >= now
    with pytest.raises(CommandRefusedError, match=r"is claimed: cannot reopen, only when closed"):
        await client.command(handle.id, COMPLAINT)  # only a closed demand takes a complaint
    for update, command in LOOP[1:]:
        again = await handle.execute_update(update, command, result_type=DemandStatus)
    assert again.state is State.CLOSED
    assert await stored_events(stack.app, handle.id) == [*LIFECYCLE, "Reopened", *LIFECYCLE[2:]]
    reopened_event: Any = (await asyncio.to_thread(stack.app.history, handle.id))[len(LIFECYCLE)]
    assert (reopened_event.by, reopened_event.reason) == ("resident", COMPLAINT.reason)


async def test_a_complaint_sent_as_a_signal_reopens_it_and_one_it_cannot_take_is_kept_as_rejected(
    stack: Stack, time_skipping_env: WorkflowEnvironment
) -> None:
    handle = await closed(stack)
    await time_skipping_env.sleep(timedelta(days=3))
    await handle.signal("complaint", COMPLAINT)

    async def reopened() -> bool:
        return (await handle.query(MicroDemandWorkflow.status)).state is State.CLAIMED

    await eventually(reopened)
    await handle.signal("complaint", COMPLAINT)  # it is open now: nothing to complain about
    [why] = await rejections(stack.app, handle.id)
    assert why == f"demand {handle.id} is claimed: cannot reopen, only when closed"


async def test_after_the_window_the_workflow_completes_and_the_store_still_answers(stack: Stack) -> None:
    handle = await closed(stack)
    final = await handle.result()  # the time-skipping server skips the 30 days of the window
    assert final.state is State.CLOSED
    client = DemandsClient(stack.client, stack.settings.task_queue)
    with pytest.raises(
        LoopEndedError, match=rf"demand {handle.id} is closed: cannot complain, its loop has ended"
    ):
        await client.command(handle.id, COMPLAINT)
    stored = await asyncio.to_thread(stack.app.status, handle.id)
    assert stored.state is State.CLOSED
    assert await stored_events(stack.app, handle.id) == LIFECYCLE
