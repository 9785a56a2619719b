"""Operators on the time-skipping server: the overdue board agrees with the workflows, bulk escalation."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment
from workflow_harness import eventually, open_stack, stored_events, submission

from adapters.bootstrap import System
from adapters.demands_client import CommandRefusedError, DemandsClient
from adapters.settings import Settings
from engine.commands import Escalate, Extend, Merge, Transfer, Withdraw
from engine.vocabulary import Level
from workflows.demand import MicroDemandWorkflow

pytestmark = pytest.mark.integration


@pytest.fixture
def env(time_skipping_env: WorkflowEnvironment) -> WorkflowEnvironment:
    """The shared time-skipping server."""
    return time_skipping_env


async def test_bulk_escalation_of_a_hundred_demands_near_their_deadline_escalates_each_once(
    env: WorkflowEnvironment, sqlite_settings: Settings
) -> None:
    async with open_stack(env.client, sqlite_settings) as stack:
        handles = await asyncio.gather(*(stack.start(submission(f"bulk-{i}")) for i in range(100)))
        await env.sleep(timedelta(hours=20))  # warned of the claim; promised within the next 28 hours
        client = DemandsClient(env.client, stack.settings.task_queue)
        system = System(stack.settings)
        with system.projections() as views, system.index_view() as index:
            await asyncio.to_thread(views.wait_until_caught_up)
            now = await env.get_current_time()
            board = index.overdue(now=now, due_within=timedelta(hours=30), limit=500)
            assert {row.demand_id for row in board} >= {h.id for h in handles}
            ids = [row.demand_id for row in board] + [handles[0].id]  # a repeated id is sent once
            outcomes = await client.command_many(
                ids, Escalate(by="op-zhang", reason="street supervision meeting")
            )
        assert set(outcomes.values()) == {"ok"}
        for handle in handles:
            events = await stored_events(stack.app, handle.id)
            assert events.count("Escalated") == 1
            status = await handle.query(MicroDemandWorkflow.status)
            assert status.level is Level.STREET


async def test_overdue_board_agrees_with_the_workflows_own_state_after_a_run(
    env: WorkflowEnvironment, sqlite_settings: Settings
) -> None:
    async with open_stack(env.client, sqlite_settings) as stack:
        client = DemandsClient(env.client, stack.settings.task_queue)
        handles = [await stack.start(submission(f"board-{i}")) for i in range(6)]
        await client.command(handles[0].id, Escalate(by="op", reason="urgent"))
        await client.command(handles[1].id, Extend(by="op", extra=timedelta(days=2), reason="holiday"))
        await client.command(handles[2].id, Transfer(by="op", to_unit="Water bureau", reason="pipes"))
        await env.sleep(timedelta(days=1, hours=3))  # the others pass their claim deadline
        system = System(stack.settings)
        with system.projections() as views, system.index_view() as index:
            await asyncio.to_thread(views.wait_until_caught_up)
            now = await env.get_current_time()
            for handle in handles:
                status = await handle.query(MicroDemandWorkflow.status)
                row = index.demand(handle.id)
                assert row is not None
                assert (row.state, row.level, row.escalations, row.responsible_unit) == (
                    status.state,
                    status.level,
                    status.escalations,
                    status.responsible_unit,
                )
                assert row.due_at == (status.clock.due_at if status.clock else None)
                assert status.promise is not None
                assert (row.promised_by, row.late) == (status.promise.due_at, status.late)
                assert row.status().next_alarm() == status.next_alarm()
            board = {r.demand_id: r for r in index.overdue(now=now, due_within=timedelta(days=3))}
            assert set(board) == {h.id for h in handles}
            for line in board.values():
                assert line.overdue_by == now - line.promised_by


async def test_merge_into_a_demand_that_does_not_exist_or_is_closed_is_refused_and_leaves_no_event(
    env: WorkflowEnvironment, sqlite_settings: Settings
) -> None:
    async with open_stack(env.client, sqlite_settings) as stack:
        client = DemandsClient(env.client, stack.settings.task_queue)
        duplicate = await stack.start(submission("dup-1"))
        with pytest.raises(CommandRefusedError, match=r"cannot merge, demand-wechat-typo: no such demand"):
            await client.command(duplicate.id, Merge(by="op", into="demand-wechat-typo"))
        closed = await stack.start(submission("orig-closed"))
        await client.command(closed.id, Withdraw(reason="solved by a neighbour"))
        with pytest.raises(CommandRefusedError, match=r"demand-wechat-orig-closed: it is withdrawn"):
            await client.command(duplicate.id, Merge(by="op", into=closed.id))
        assert await stored_events(stack.app, duplicate.id) == ["Collected"]

        original = await stack.start(submission("orig-open"))
        merged = await client.command(duplicate.id, Merge(by="op", into=original.id))
        assert merged.state.value == "merged"

        assert "DuplicateAbsorbed" in await stored_events(stack.app, original.id)  # in the merge's own write

        async def absorbed() -> bool:  # and the original's workflow catches up when it hears of it
            return (await original.query(MicroDemandWorkflow.status)).duplicates == (duplicate.id,)

        await eventually(absorbed)
