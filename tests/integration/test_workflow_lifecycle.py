"""The MicroDemand workflow on the time-skipping server: the closed loop, refusals, duplicates."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from workflow_harness import (
    LIFECYCLE,
    Stack,
    collected,
    eventually,
    open_stack,
    queue_settings,
    rejections,
    running_worker,
    stored_events,
    submission,
    submit,
)

from adapters.settings import Settings
from engine.commands import (
    Claim,
    Escalate,
    Evaluate,
    FollowUp,
    Handle,
    Merge,
    Release,
    Withdraw,
)
from engine.lifecycle import State
from engine.status import DemandStatus
from engine.vocabulary import Level
from workflows.demand import MicroDemandWorkflow

pytestmark = pytest.mark.integration

CLAIM = Claim(member="wang", unit="Party branch 1")
HANDLE = Handle(member="wang", hours=1.5, note="replaced the bulb")
FOLLOW_UP = FollowUp(worker="zhao", resolved=True)
SATISFIED = Evaluate(rating="satisfied")


@pytest.fixture
async def stack(time_skipping_env: WorkflowEnvironment, sqlite_settings: Settings) -> AsyncIterator[Stack]:
    """A worker on a fresh SQLite store, on its own task queue."""
    async with open_stack(time_skipping_env.client, sqlite_settings) as stack:
        yield stack


async def refusal(handle: WorkflowHandle[Any, DemandStatus], update: Any, command: Any) -> str:
    """Send an update that must be refused; the one-line refusal."""
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await handle.execute_update(update, command, result_type=DemandStatus)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "Refused"
    assert cause.non_retryable
    return cause.message


async def test_full_lifecycle_closes_the_loop_with_exactly_the_expected_events(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    settings = queue_settings(settings)
    client = time_skipping_env.client
    async with running_worker(client, settings) as app:
        sub = submission()
        handle = await submit(client, sub, settings.task_queue)
        assert (await collected(handle)).state is State.COLLECTED
        claimed = await handle.execute_update("claim", CLAIM, result_type=DemandStatus)
        assert claimed.state is State.CLAIMED
        assert claimed.claimant is not None
        assert claimed.claimant.member == "wang"
        await handle.execute_update("handle", HANDLE, result_type=DemandStatus)
        await handle.execute_update("follow_up", FOLLOW_UP, result_type=DemandStatus)
        evaluated = await handle.execute_update("evaluate", SATISFIED, result_type=DemandStatus)
        assert evaluated.state is State.CLOSED
        final = await handle.result()
        assert final.state is State.CLOSED
        assert final.outcome == "satisfied"
        assert final == await asyncio.to_thread(app.status, sub.demand_id)
        assert await stored_events(app, sub.demand_id) == LIFECYCLE


async def test_second_claim_is_refused_and_leaves_no_event(stack: Stack) -> None:
    handle = await stack.start()
    await handle.execute_update("claim", CLAIM, result_type=DemandStatus)
    message = await refusal(handle, "claim", Claim(member="liu", unit="Branch 2"))
    assert message == f"demand {handle.id} is claimed: cannot claim, only when collected or dispatched"
    assert await stored_events(stack.app, handle.id) == ["Collected", "Claimed"]


@pytest.mark.parametrize(
    ("before", "update", "command", "words"),
    [
        ([], "handle", HANDLE, "is collected: cannot handle, only when claimed"),
        (
            [CLAIM],
            "evaluate",
            SATISFIED,
            "is claimed: cannot evaluate, only when followed_up",
        ),
        (
            [CLAIM],
            "release",
            Release(member="liu", reason="busy"),
            "is claimed: cannot release, liu does not hold it (held by wang)",
        ),
        (
            [CLAIM],
            "follow_up",
            FOLLOW_UP,
            "is claimed: cannot follow-up, only when handled",
        ),
        (
            [CLAIM, HANDLE],
            "handle",
            HANDLE,
            "is handled: cannot handle, only when claimed",
        ),
    ],
    ids=[
        "handle-before-claim",
        "evaluate-before-handling",
        "release-by-non-holder",
        "follow-up-early",
        "handle-twice",
    ],
)
async def test_refused_transition_names_demand_state_and_step_and_leaves_no_event(
    stack: Stack, before: list[Any], update: Any, command: Any, words: str
) -> None:
    handle = await stack.start()
    updates = {Claim: "claim", Handle: "handle"}
    for earlier in before:
        await handle.execute_update(updates[type(earlier)], earlier, result_type=DemandStatus)
    events = await stored_events(stack.app, handle.id)
    message = await refusal(handle, update, command)
    assert message == f"demand {handle.id} {words}"
    assert await stored_events(stack.app, handle.id) == events


async def test_escalation_at_the_top_of_the_ladder_is_refused(stack: Stack) -> None:
    handle = await stack.start()
    up = Escalate(by="operator", reason="beyond the community")
    for _ in range(3):
        status = await handle.execute_update("escalate", up, result_type=DemandStatus)
    assert status.level is Level.CITY
    message = await refusal(handle, "escalate", up)
    assert (
        message
        == f"demand {handle.id} is collected: cannot escalate, it is already at the top of the ladder (city)"
    )
    assert (await stored_events(stack.app, handle.id)).count("Escalated") == 3


async def test_two_concurrent_claims_one_wins_and_the_other_is_refused(stack: Stack) -> None:
    handle = await stack.start()
    claims = [Claim(member=member, unit="Branch") for member in ("wang", "liu")]
    results = await asyncio.gather(
        *(handle.execute_update("claim", claim, result_type=DemandStatus) for claim in claims),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, DemandStatus)]
    lost = [r for r in results if isinstance(r, WorkflowUpdateFailedError)]
    assert len(won) == 1
    assert len(lost) == 1
    assert isinstance(lost[0].cause, ApplicationError)
    assert lost[0].cause.type == "Refused"
    assert await stored_events(stack.app, handle.id) == ["Collected", "Claimed"]


async def test_repeated_push_keeps_one_workflow_and_one_collected_event(stack: Stack) -> None:
    sub = submission()
    first = await submit(stack.client, sub, stack.settings.task_queue)
    stack.handles.append(first)
    await collected(first)
    again = await submit(stack.client, sub, stack.settings.task_queue)
    assert again.result_run_id == first.result_run_id
    stray = submission()  # the right workflow id, but another demand's submission
    await first.signal("submit", stray)
    await first.execute_update("claim", CLAIM, result_type=DemandStatus)  # a round trip after the signals
    [why] = await rejections(stack.app, sub.demand_id)
    assert why == f"submit: the payload is for {stray.demand_id}, not this demand"
    assert await stored_events(stack.app, sub.demand_id) == ["Collected", "Claimed"]
    assert await stored_events(stack.app, stray.demand_id) == []


async def test_repushing_a_closed_demand_changes_nothing(stack: Stack) -> None:
    handle = await stack.start()
    await handle.execute_update(
        "withdraw", Withdraw(reason="solved by a neighbour"), result_type=DemandStatus
    )
    assert (await handle.result()).state is State.WITHDRAWN
    sub = submission(external_id=handle.id.rsplit("-", 1)[1])
    again = await submit(stack.client, sub, stack.settings.task_queue)
    assert (await again.result()).state is State.WITHDRAWN
    assert await stored_events(stack.app, handle.id) == ["Collected", "Withdrawn"]


async def test_unsatisfied_evaluation_reopens_with_the_claimant_still_holding_it(stack: Stack) -> None:
    handle = await stack.start()
    for update, command in [
        ("claim", CLAIM),
        ("handle", HANDLE),
        ("follow_up", FOLLOW_UP),
    ]:
        await handle.execute_update(update, command, result_type=DemandStatus)
    status = await handle.execute_update("evaluate", Evaluate(rating="unsatisfied"), result_type=DemandStatus)
    assert status.state is State.CLAIMED
    assert status.reopened == 1
    assert status.clock is None  # on a fresh promise from the reopen
    assert status.promise is not None
    assert status.updated_at is not None
    assert status.promise.started_at == status.updated_at
    assert (await stored_events(stack.app, handle.id))[-2:] == ["Evaluated", "Reopened"]
    await handle.execute_update("handle", HANDLE, result_type=DemandStatus)  # the loop goes round again


async def test_unresolved_follow_up_reopens(stack: Stack) -> None:
    handle = await stack.start()
    await handle.execute_update("claim", CLAIM, result_type=DemandStatus)
    await handle.execute_update("handle", HANDLE, result_type=DemandStatus)
    status = await handle.execute_update(
        "follow_up", FollowUp(worker="zhao", resolved=False), result_type=DemandStatus
    )
    assert status.state is State.CLAIMED
    assert (await stored_events(stack.app, handle.id))[-2:] == ["FollowedUp", "Reopened"]


async def test_merged_duplicate_settles_and_the_original_absorbs_it(stack: Stack) -> None:
    original = await stack.start()
    duplicate = await stack.start()
    merged = await duplicate.execute_update(
        "merge", Merge(by="operator", into=original.id), result_type=DemandStatus
    )
    assert merged.state is State.MERGED
    assert merged.merged_into == original.id

    async def absorbed() -> bool:
        return duplicate.id in (await original.query(MicroDemandWorkflow.status)).duplicates

    await eventually(absorbed)
    assert await stored_events(stack.app, original.id) == ["Collected", "DuplicateAbsorbed"]
    assert await stored_events(stack.app, duplicate.id) == ["Collected", "Merged"]


async def test_a_store_missing_events_fails_the_workflow_loudly_and_writes_nothing(stack: Stack) -> None:
    handle = await stack.start()
    await handle.execute_update("claim", CLAIM, result_type=DemandStatus)
    # The store is restored from a backup taken before the claim: it lacks an event the workflow saw.
    await asyncio.to_thread(_forget_last_event, stack.settings.var_dir / "events.db", handle.id)
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update("handle", HANDLE, result_type=DemandStatus)
    with pytest.raises(WorkflowFailureError) as failure:
        await asyncio.wait_for(handle.result(), timeout=60)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "VersionGap"
    assert "expected 2" in cause.message
    assert await stored_events(stack.app, handle.id) == ["Collected"]


def _forget_last_event(events_db: Path, demand_id: str) -> None:
    from engine.demand import aggregate_id

    with sqlite3.connect(events_db) as db:
        db.execute(
            "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = "
            "(SELECT MAX(originator_version) FROM stored_events WHERE originator_id = ?)",
            (aggregate_id(demand_id).hex, aggregate_id(demand_id).hex),
        )
