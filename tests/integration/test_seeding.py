"""Seeding pushes sample demands through the real workflows, and a second run changes nothing."""

from __future__ import annotations

import pytest
from temporalio.testing import WorkflowEnvironment
from workflow_harness import open_stack, stored_events

from adapters.demands_client import DemandsClient
from adapters.seeding import SeedPlan, seed_demands
from adapters.settings import Settings

pytestmark = pytest.mark.integration


async def test_seeding_takes_demands_around_the_loop_and_is_repeatable(
    time_skipping_env: WorkflowEnvironment, sqlite_settings: Settings
) -> None:
    async with open_stack(time_skipping_env.client, sqlite_settings) as stack:
        client = DemandsClient(time_skipping_env.client, stack.settings.task_queue)
        plan = SeedPlan(count=12, closed_share=0.5, claimed_share=0.25, source="seedtest", seed=7)
        ticks: list[int] = []
        first = await seed_demands(client, plan, on_done=lambda: ticks.append(1))
        assert sum(first.values()) == len(ticks) == 12
        assert first.get("closed", 0) + first.get("claimed", 0) >= 6  # unsatisfied ones reopen to claimed
        histories = [await stored_events(stack.app, f"demand-seedtest-7-{n}") for n in range(12)]
        assert all(events[0] == "Collected" for events in histories)
        assert sum("Closed" in events for events in histories) == first.get("closed", 0)

        again = await seed_demands(client, plan)  # same seed, same ids: pushes are no-ops
        assert again.get("closed", 0) == 0
        assert [await stored_events(stack.app, f"demand-seedtest-7-{n}") for n in range(12)] == histories
        for n in range(12):
            stack.handles.append(client.client.get_workflow_handle(f"demand-seedtest-7-{n}"))
