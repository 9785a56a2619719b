"""Durable time limits on the time-skipping server: warn, escalate up the ladder, stop, survive restarts."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from short_run_workflow import ShortRunMicroDemand
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from workflow_harness import (
    LIFECYCLE,
    event_names,
    eventually,
    open_stack,
    queue_settings,
    running_worker,
    stored_events,
    submission,
    submit,
    terminate_quietly,
)

from adapters.settings import Settings
from engine.application import Demands
from engine.commands import Claim, Evaluate, FollowUp, Handle, Transfer
from engine.lifecycle import State
from engine.status import DemandStatus
from engine.vocabulary import Level, Priority
from workflows import search
from workflows.demand import MicroDemandWorkflow

pytestmark = pytest.mark.integration

CLAIM = Claim(member="wang", unit="Party branch 1")
ESCALATION = ["Overdue", "Escalated"]


@pytest.fixture
def env(time_skipping_env: WorkflowEnvironment) -> WorkflowEnvironment:
    """The shared time-skipping server: `env.sleep` moves every test's clock forward."""
    return time_skipping_env


async def events_become(app: Demands, demand_id: str, expected: list[str]) -> None:
    """Wait until the store holds as many events as `expected`, then require exactly those."""
    await eventually(lambda: len(event_names(app, demand_id)) >= len(expected))
    assert await stored_events(app, demand_id) == expected


async def promise_marks(app: Demands, demand_id: str) -> list[tuple[str, bool]]:
    """The demand's warnings and overdue marks in the store, each saying whether it was the promise's."""
    events = await asyncio.to_thread(app.history, demand_id)
    return [
        (type(e).__name__, bool(getattr(e, "promise", False)))
        for e in events
        if type(e).__name__ in ("Warned", "Overdue")
    ]


async def searchable_overdue(handle: WorkflowHandle[Any, DemandStatus]) -> bool | None:
    """`DemandOverdue` as Temporal holds it for the platform's `workflow list --query`."""
    return (await handle.describe()).typed_search_attributes.get(search.OVERDUE)


async def test_an_unclaimed_demand_is_late_at_two_days_on_any_rung_and_escalates_up_to_the_city(
    env: WorkflowEnvironment, sqlite_settings: Settings
) -> None:
    async with open_stack(env.client, sqlite_settings) as stack:
        app, handle = stack.app, await stack.start()
        status = await handle.query(MicroDemandWorkflow.status)
        assert status.clock is not None
        assert status.clock.due_at - status.clock.started_at == timedelta(days=1)  # the claim clock
        assert status.clock.warn_at == status.clock.started_at + timedelta(hours=19.2)
        assert status.promise is not None  # beside it, the promise: two days from collection
        assert status.promise.due_at == status.promise.started_at + timedelta(days=2)

        await env.sleep(timedelta(hours=20))  # past 80% of the one-day claim limit
        expected = ["Collected", "Warned"]
        await events_become(app, handle.id, expected)
        await env.sleep(timedelta(hours=5))  # the claim deadline: up to the street, not late yet
        expected += ESCALATION
        await events_become(app, handle.id, expected)
        status = await handle.query(MicroDemandWorkflow.status)
        assert (status.level, status.late) == (Level.STREET, False)
        assert await searchable_overdue(handle) is False  # escalated, but its promise still holds

        await env.sleep(timedelta(hours=24))  # the promise warned at 38.4h, then broke at 48h
        expected += ["Warned", "Warned", *ESCALATION]
        await events_become(app, handle.id, expected)
        status = await handle.query(MicroDemandWorkflow.status)
        assert (status.level, status.late) == (Level.DISTRICT, True)
        assert await searchable_overdue(handle) is True  # late, though the escalation cleared the step's mark

        await env.sleep(timedelta(days=2))  # a day at the district, a day at the city
        expected += ["Warned", *ESCALATION, "Warned", "Overdue"]
        await events_become(app, handle.id, expected)
        status = await handle.query(MicroDemandWorkflow.status)
        assert (status.level, status.late, status.overdue, status.escalations) == (Level.CITY, True, True, 3)
        assert status.next_alarm() is None  # overdue at the top: nowhere left to go, and still late
        assert await promise_marks(app, handle.id) == [
            ("Warned", False), ("Overdue", False), ("Warned", True), ("Warned", False), ("Overdue", True),
            ("Warned", False), ("Overdue", False), ("Warned", False), ("Overdue", False),
        ]  # fmt: skip

        await env.sleep(timedelta(days=5))
        transfer = Transfer(by="operator", to_unit="Water company", reason="the pipes are theirs")
        await handle.execute_update("transfer", transfer, result_type=DemandStatus)  # a round trip
        assert await stored_events(app, handle.id) == [*expected, "Transferred"]
        assert (await handle.query(MicroDemandWorkflow.status)).late


@pytest.mark.parametrize("claimed", [False, True], ids=["unclaimed", "claimed"])
@pytest.mark.parametrize(
    ("priority", "promised"),
    [(Priority.GENERAL, timedelta(days=2)), (Priority.IMPORTANT, timedelta(days=3)),
     (Priority.MAJOR, timedelta(days=10))],
    ids=["general-2d", "important-3d", "major-10d"],
)  # fmt: skip
async def test_the_promise_breaks_at_2_3_or_10_days_from_collection_claimed_or_not(
    env: WorkflowEnvironment,
    sqlite_settings: Settings,
    priority: Priority,
    promised: timedelta,
    claimed: bool,
) -> None:
    async with open_stack(env.client, sqlite_settings) as stack:
        handle = await stack.start(submission(priority=priority))
        if claimed:
            await handle.execute_update("claim", CLAIM, result_type=DemandStatus)
        await env.sleep(promised - timedelta(minutes=30))
        status = await handle.query(MicroDemandWorkflow.status)
        assert not status.late
        assert ("Overdue", True) not in await promise_marks(stack.app, handle.id)
        await env.sleep(timedelta(hours=1))
        await eventually(lambda: _late(handle))
        [broken] = [
            e
            for e in await asyncio.to_thread(stack.app.history, handle.id)
            if getattr(e, "promise", 0) is True and type(e).__name__ == "Overdue"
        ]
        assert status.collected_at is not None
        assert broken.due_at == status.collected_at + promised  # type: ignore[attr-defined]
        assert ("Warned", True) in await promise_marks(stack.app, handle.id)  # warned once, at 80%


async def _late(handle: WorkflowHandle[Any, DemandStatus]) -> bool:
    return (await handle.query(MicroDemandWorkflow.status)).late


async def test_a_claim_after_the_promise_warned_starts_no_clock_and_warns_no_second_time(
    env: WorkflowEnvironment, sqlite_settings: Settings
) -> None:
    async with open_stack(env.client, sqlite_settings) as stack:
        handle = await stack.start()
        await env.sleep(timedelta(hours=40))  # claim warned and passed, the promise warned at 38.4h
        before = ["Collected", "Warned", *ESCALATION, "Warned"]
        await events_become(stack.app, handle.id, before)
        claimed = await handle.execute_update("claim", CLAIM, result_type=DemandStatus)
        assert claimed.clock is None  # the promise is its deadline
        assert claimed.promise is not None
        assert claimed.collected_at is not None
        assert claimed.promise.due_at == claimed.collected_at + timedelta(days=2)
        await env.sleep(timedelta(hours=7))  # not yet 48h: nothing more
        await handle.execute_update("handle", Handle(member="wang", hours=1), result_type=DemandStatus)
        assert await stored_events(stack.app, handle.id) == [*before, "Claimed", "Handled"]
        assert (await handle.query(MicroDemandWorkflow.status)).level is Level.STREET


async def test_major_demand_gets_ten_days_for_handling(
    env: WorkflowEnvironment, sqlite_settings: Settings
) -> None:
    async with open_stack(env.client, sqlite_settings) as stack:
        handle = await stack.start(submission(priority=Priority.MAJOR))
        status = await handle.execute_update("claim", CLAIM, result_type=DemandStatus)
        assert status.promise is not None
        assert status.promise.stage == "handle"
        assert status.collected_at is not None
        assert status.promise.due_at == status.collected_at + timedelta(days=10)

        await env.sleep(timedelta(days=9))  # warned at 8 days, not yet overdue
        await events_become(stack.app, handle.id, ["Collected", "Claimed", "Warned"])
        await env.sleep(timedelta(days=1, hours=2))
        await events_become(stack.app, handle.id, ["Collected", "Claimed", "Warned", *ESCALATION])


async def test_claim_before_the_deadline_cancels_escalation(
    env: WorkflowEnvironment, sqlite_settings: Settings
) -> None:
    async with open_stack(env.client, sqlite_settings) as stack:
        handle = await stack.start()
        await env.sleep(timedelta(hours=20))
        await events_become(stack.app, handle.id, ["Collected", "Warned"])
        claimed = await handle.execute_update("claim", CLAIM, result_type=DemandStatus)
        assert claimed.clock is None
        assert claimed.promise is not None
        await env.sleep(timedelta(hours=10))  # past the claim deadline, before the promise's warning
        await handle.execute_update("handle", Handle(member="wang", hours=1), result_type=DemandStatus)
        assert await stored_events(stack.app, handle.id) == ["Collected", "Warned", "Claimed", "Handled"]
        assert (await handle.query(MicroDemandWorkflow.status)).level is Level.COMMUNITY


async def test_worker_restart_between_warning_and_deadline_escalates_once(
    env: WorkflowEnvironment, sqlite_settings: Settings
) -> None:
    settings = queue_settings(sqlite_settings)
    # No workflow cache, hence no sticky queue: the time-skipping server would otherwise hold its
    # clock for a task parked on the stopped worker's sticky queue.
    async with running_worker(env.client, settings, max_cached_workflows=0) as app:
        handle = await submit(env.client, submission(), settings.task_queue)
        await env.sleep(timedelta(hours=20))
        await events_become(app, handle.id, ["Collected", "Warned"])
        await eventually(lambda: _warned(handle))  # the workflow has taken in the warning too
    async with running_worker(env.client, settings) as app:  # a fresh worker: empty cache, replay
        try:
            await env.sleep(timedelta(hours=5))
            await events_become(app, handle.id, ["Collected", "Warned", *ESCALATION])
            await handle.execute_update("claim", CLAIM, result_type=DemandStatus)
            assert await stored_events(app, handle.id) == ["Collected", "Warned", *ESCALATION, "Claimed"]
        finally:
            await terminate_quietly(handle)


async def _warned(handle: WorkflowHandle[Any, DemandStatus]) -> bool:
    return (await handle.query(MicroDemandWorkflow.status)).warned


async def test_alarm_already_past_acts_at_once(env: WorkflowEnvironment, sqlite_settings: Settings) -> None:
    async with open_stack(env.client, sqlite_settings) as stack:
        sub = submission()
        three_days_ago = await env.get_current_time() - timedelta(days=3)
        # Collected three days ago (a workflow since lost, say); pushed again now, the store answers
        # with the demand as it stands, and the workflow acts on the alarms already past: the claim
        # deadline, then the promise, each an escalation.
        await asyncio.to_thread(stack.app.record, sub.demand_id, sub, three_days_ago, 0)
        handle = await submit(env.client, sub, stack.settings.task_queue)
        stack.handles.append(handle)
        expected = ["Collected", "Warned", *ESCALATION, "Warned", *ESCALATION]
        await events_become(stack.app, sub.demand_id, expected)
        status = await handle.query(MicroDemandWorkflow.status)
        assert (status.level, status.late) == (Level.DISTRICT, True)
        assert await searchable_overdue(handle) is True  # late, though the escalation cleared the step's mark


async def test_hundred_unclaimed_demands_past_their_deadline_each_escalate_exactly_once(
    env: WorkflowEnvironment, sqlite_settings: Settings
) -> None:
    async with open_stack(env.client, sqlite_settings) as stack:
        subs = [submission() for _ in range(100)]
        stack.handles += await asyncio.gather(
            *(submit(env.client, s, stack.settings.task_queue) for s in subs)
        )

        def histories() -> list[list[str]]:
            return [event_names(stack.app, sub.demand_id) for sub in subs]

        await eventually(lambda: all(histories()), timeout=120)
        await env.sleep(timedelta(days=1, hours=1))
        escalated = ["Collected", "Warned", *ESCALATION]
        await eventually(lambda: all(len(h) >= len(escalated) for h in histories()), timeout=120)
        assert await asyncio.to_thread(histories) == [escalated] * len(subs)


async def test_continue_as_new_carries_the_status_and_records_nothing_on_resume(
    env: WorkflowEnvironment, sqlite_settings: Settings
) -> None:
    async with open_stack(env.client, sqlite_settings, workflows=[ShortRunMicroDemand]) as stack:
        app, handle = stack.app, await stack.start()
        first_run = handle.result_run_id
        await handle.execute_update("claim", CLAIM, result_type=DemandStatus)  # the second record: a new run

        async def continued() -> bool:
            return (await env.client.get_workflow_handle(handle.id).describe()).run_id != first_run

        await eventually(continued)
        resumed = await handle.query(MicroDemandWorkflow.status)
        assert resumed.state is State.CLAIMED
        assert resumed.version == 2
        assert await stored_events(app, handle.id) == ["Collected", "Claimed"]  # resuming records nothing
        await env.sleep(timedelta(days=1, hours=16))  # the carried handling clock still warns
        await events_become(app, handle.id, ["Collected", "Claimed", "Warned"])
        for update, command in [
            ("handle", Handle(member="wang", hours=1)),
            ("follow_up", FollowUp(worker="zhao", resolved=True)),
            ("evaluate", Evaluate(rating="satisfied")),
        ]:
            await handle.execute_update(update, command, result_type=DemandStatus)
        final = await handle.result()
        assert final.state is State.CLOSED
        assert await stored_events(app, handle.id) == [*LIFECYCLE[:2], "Warned", *LIFECYCLE[2:]]
