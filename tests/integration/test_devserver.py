"""The workflow on the real Temporal dev server, as `make run` deploys it."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from workflow_harness import LIFECYCLE, event_names, open_stack, submission, submit

from engine.commands import Claim, Evaluate, FollowUp, Handle
from engine.lifecycle import State
from engine.settings import Settings
from workflows.demand import MicroDemandWorkflow

pytestmark = [pytest.mark.integration, pytest.mark.devserver]


async def test_full_lifecycle_on_the_dev_server_records_each_event_once(
    dev_server_env: WorkflowEnvironment, settings: Settings
) -> None:
    async with open_stack(dev_server_env.client, settings) as stack:
        sub = submission()
        handle = await stack.start(sub)
        await submit(stack.client, sub, stack.settings.task_queue)  # the platform pushes it again
        await handle.execute_update(MicroDemandWorkflow.claim, Claim(member="wang", unit="Party branch 1"))
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(MicroDemandWorkflow.claim, Claim(member="liu", unit="Branch 2"))
        assert isinstance(refused.value.cause, ApplicationError)
        assert refused.value.cause.message.startswith(f"demand {sub.demand_id} is claimed: cannot claim")
        await handle.execute_update(MicroDemandWorkflow.handle, Handle(member="wang", hours=3))
        await handle.execute_update(MicroDemandWorkflow.follow_up, FollowUp(worker="zhao", resolved=True))
        await handle.execute_update(MicroDemandWorkflow.evaluate, Evaluate(rating="basically_satisfied"))
        final = await handle.result()
        assert final.state is State.CLOSED
        assert final.outcome == "basically_satisfied"
        assert await asyncio.to_thread(event_names, stack.app, sub.demand_id) == LIFECYCLE
