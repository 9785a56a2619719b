"""Faults between the workflow and the store: lost answers, a killed worker. No event twice, none lost."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from workflow_harness import (
    LIFECYCLE,
    STEPS,
    all_or_none,
    event_names,
    eventually,
    in_background,
    queue_settings,
    round_the_loop,
    running_worker,
    submission,
    submit,
)

from adapters.bootstrap import System
from adapters.settings import Settings
from engine.application import Demands
from engine.lifecycle import State
from engine.status import DemandStatus
from workflows.activities import Recorder, RecordRequest

pytestmark = pytest.mark.integration

WORKER_SCRIPT = Path(__file__).resolve().parent.parent / "worker_process.py"


def answer_lost_on_first_attempt(
    app: Demands, attempts: list[str]
) -> Callable[[RecordRequest], DemandStatus]:
    """The real recorder, except that every first attempt writes and then fails before answering."""
    recorder = Recorder(app)

    @activity.defn(name="record")
    def record(request: RecordRequest) -> DemandStatus:
        status = recorder.record(request)
        attempts.append(request.command.step.value)
        if activity.info().attempt == 1:
            raise ConnectionResetError("connection lost after the write, before the answer")
        return status

    return record


async def test_activity_that_writes_then_fails_leaves_exactly_one_copy_of_each_event(
    time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    settings = queue_settings(settings)
    client = time_skipping_env.client
    writer = System(settings).open_store()
    attempts: list[str] = []
    try:
        flaky = answer_lost_on_first_attempt(writer, attempts)
        async with running_worker(client, settings, activities=[flaky]) as app:
            sub = submission()
            handle = await submit(client, sub, settings.task_queue)
            for update, command in STEPS:
                await handle.execute_update(update, command, result_type=DemandStatus)
            assert (await handle.result()).state is State.CLOSED
            assert await asyncio.to_thread(event_names, app, sub.demand_id) == LIFECYCLE
    finally:
        writer.close()
    assert attempts == [
        step for step in ["collect", "claim", "handle", "follow_up", "evaluate"] for _ in "12"
    ]


# ---- a worker process killed mid-loop on the dev server --------------------------------------


@pytest.fixture
def worker_processes(
    dev_server_env: WorkflowEnvironment, sqlite_settings: Settings
) -> Iterator[tuple[Settings, Callable[[], subprocess.Popen[bytes]]]]:
    """Start production worker processes on one task queue and store; all are killed afterwards."""
    settings = queue_settings(sqlite_settings)
    env = {
        **os.environ,
        "MICRODEMAND_TEMPORAL_ADDRESS": dev_server_env.client.service_client.config.target_host,
        "MICRODEMAND_TASK_QUEUE": settings.task_queue,
        "MICRODEMAND_VAR_DIR": str(settings.var_dir),
        "MICRODEMAND_STORE": "sqlite",
        "MICRODEMAND_LOG_FORMAT": "json",
    }
    processes: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen([sys.executable, str(WORKER_SCRIPT)], env=env, cwd=settings.var_dir)
        processes.append(process)
        return process

    yield settings, start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()


@pytest.mark.devserver
async def test_worker_killed_mid_loop_loses_and_repeats_no_event(
    dev_server_env: WorkflowEnvironment,
    worker_processes: tuple[Settings, Callable[[], subprocess.Popen[bytes]]],
) -> None:
    settings, start_worker = worker_processes
    client = dev_server_env.client
    app = System(settings).open_store()
    subs = [submission() for _ in range(8)]
    try:
        driving = all_or_none(*(round_the_loop(client, sub, settings.task_queue) for sub in subs))
        async with in_background(driving) as drivers:
            first = start_worker()

            def stored() -> int:
                return sum(len(event_names(app, sub.demand_id)) for sub in subs)

            total = len(subs) * len(LIFECYCLE)
            await eventually(lambda: stored() >= total // 3, timeout=60)
            first.send_signal(signal.SIGKILL)  # mid-loop: some demands half way, some appends in flight
            first.wait()
            assert stored() < total
            start_worker()
            finals = await asyncio.wait_for(drivers, timeout=180)
            assert all(final.state is State.CLOSED for final in finals)
            histories = await asyncio.to_thread(lambda: [event_names(app, sub.demand_id) for sub in subs])
            assert histories == [LIFECYCLE] * len(subs)
    finally:
        app.close()
