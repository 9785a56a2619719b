"""The workflow on the real Temporal dev server, as `make run` deploys it."""

from __future__ import annotations

import asyncio
import logging

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from workflow_harness import (
    LIFECYCLE,
    event_names,
    open_stack,
    queue_settings,
    submission,
    submit,
    terminate_quietly,
)

from adapters.bootstrap import System
from adapters.settings import Settings
from adapters.worker import run_worker
from engine.commands import Claim, Evaluate, FollowUp, Handle, Withdraw
from engine.lifecycle import State
from engine.status import DemandStatus

pytestmark = [pytest.mark.integration, pytest.mark.devserver]


async def test_full_lifecycle_on_the_dev_server_records_each_event_once(
    dev_server_env: WorkflowEnvironment, settings: Settings
) -> None:
    async with open_stack(dev_server_env.client, settings) as stack:
        sub = submission()
        handle = await stack.start(sub)
        await submit(stack.client, sub, stack.settings.task_queue)  # the platform pushes it again
        await handle.execute_update(
            "claim", Claim(member="wang", unit="Party branch 1"), result_type=DemandStatus
        )
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                "claim", Claim(member="liu", unit="Branch 2"), result_type=DemandStatus
            )
        assert isinstance(refused.value.cause, ApplicationError)
        assert refused.value.cause.message.startswith(f"demand {sub.demand_id} is claimed: cannot claim")
        await handle.execute_update("handle", Handle(member="wang", hours=3), result_type=DemandStatus)
        await handle.execute_update(
            "follow_up", FollowUp(worker="zhao", resolved=True), result_type=DemandStatus
        )
        final = await handle.execute_update(
            "evaluate", Evaluate(rating="basically_satisfied"), result_type=DemandStatus
        )
        assert final.state is State.CLOSED
        assert final.outcome == "basically_satisfied"
        assert await asyncio.to_thread(event_names, stack.app, sub.demand_id) == LIFECYCLE


async def test_run_worker_serves_until_stopped_then_closes_without_leaking_personal_data(
    dev_server_env: WorkflowEnvironment,
    sqlite_settings: Settings,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = queue_settings(sqlite_settings)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(System(settings), dev_server_env.client, stop))
    sub = submission()
    handle = await submit(dev_server_env.client, sub, settings.task_queue)
    withdrawn = await handle.execute_update(
        "withdraw", Withdraw(reason="a neighbour helped"), result_type=DemandStatus
    )
    assert withdrawn.state is State.WITHDRAWN
    await terminate_quietly(handle)
    stop.set()
    await asyncio.wait_for(worker, timeout=30)
    app = System(settings).open_store()
    try:
        assert event_names(app, sub.demand_id) == ["Collected", "Withdrawn"]
    finally:
        app.close()
    logged = capsys.readouterr().out + "".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert sub.demand_id in logged
    for personal in (sub.resident.phone, sub.resident.address):
        assert personal not in logged
