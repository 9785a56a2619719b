"""The Temporal worker: the MicroDemand workflow and its recording activity, wired to the store."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

from engine.application import Demands
from engine.logs import get_logger
from engine.settings import Settings
from workflows.activities import Recorder
from workflows.demand import MicroDemandWorkflow

ACTIVITY_THREADS = 8
"""Concurrent appends: the store's work is I/O-bound, but SQLite has one writer at a time."""

log = get_logger(__name__)

# Our lines carry demand_id as a field, and Temporal's info as `temporal_workflow`: the same
# again glued onto every message only makes them harder to read.
workflow.logger.workflow_info_on_message = False


def build_worker(client: Client, settings: Settings, app: Demands, **overrides: Any) -> Worker:
    """A worker on the configured task queue, recording through `app` on its own thread pool.

    `overrides` replace Worker options (tests swap in a faulty recorder or a shorter run).
    """
    recorder = Recorder(app)
    options: dict[str, Any] = {
        "task_queue": settings.task_queue,
        "workflows": [MicroDemandWorkflow],
        "activities": [recorder.record, recorder.lookup],
        "activity_executor": ThreadPoolExecutor(ACTIVITY_THREADS, thread_name_prefix="record"),
        "max_concurrent_activities": ACTIVITY_THREADS,
        "graceful_shutdown_timeout": timedelta(seconds=10),  # let in-flight appends finish
    }
    return Worker(client, **{**options, **overrides})


async def run_worker(settings: Settings, client: Client, stop: asyncio.Event | None = None) -> None:
    """Run a worker until `stop` is set (or the task is cancelled), then shut down and close the store."""
    app = Demands(env=settings.store_env(), limits=settings.time_limits)
    worker = build_worker(client, settings, app)
    executor = worker.config()["activity_executor"]
    try:
        async with worker:
            log.info("worker started", task_queue=settings.task_queue, store=settings.store)
            await (stop or asyncio.Event()).wait()
    finally:
        if executor is not None:
            executor.shutdown(wait=True)
        app.close()
        log.info("worker stopped", task_queue=settings.task_queue)
