"""The worker's workflow sandbox: temporalio's own, entered with compiled code, its guard intact."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from clock_reading_workflow import ClockReading
from temporalio.client import WorkflowFailureError, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from adapters.sandbox import CompiledSandboxRunner, compiled, fits, workflow_runner
from workflows.demand import MicroDemandWorkflow

pytestmark = pytest.mark.integration
HISTORY = Path(__file__).parents[1] / "histories" / "demand-wechat-replay-v2-rejected.json"


def test_the_installed_temporalio_takes_the_compiled_runner() -> None:
    # If this fails, temporalio's sandbox internals changed: the worker still runs, on the stock
    # runner, without the saving (adapters/sandbox.py says what it expects).
    assert fits()
    assert isinstance(workflow_runner(), CompiledSandboxRunner)


async def test_a_replay_through_the_runner_enters_the_sandbox_with_compiled_code() -> None:
    history = WorkflowHistory.from_json(HISTORY.stem, await asyncio.to_thread(HISTORY.read_text, "utf-8"))
    before = compiled.cache_info()
    replayer = Replayer(
        workflows=[MicroDemandWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
    after = compiled.cache_info()
    assert after.hits + after.misses > before.hits + before.misses  # the sandbox asked for its code
    assert after.currsize <= 8  # a handful of constant snippets, each compiled once


async def test_the_sandbox_still_refuses_a_workflow_reading_the_clock(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    queue = f"sandbox-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[ClockReading], workflow_runner=workflow_runner()):
        with pytest.raises(WorkflowFailureError) as failure:
            await client.execute_workflow(ClockReading.run, id=f"clock-{uuid.uuid4()}", task_queue=queue)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "RestrictedWorkflowAccessError", cause
