"""Running a Temporal worker: the MicroDemand workflow and its activities, wired to the store."""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.client import Client

from adapters.bootstrap import System
from adapters.temporal import ensure_search_attributes
from engine.logs import get_logger

log = get_logger(__name__)

# Our lines carry demand_id as a field, and Temporal's info as `temporal_workflow`: the same
# again glued onto every message only makes them harder to read.
workflow.logger.workflow_info_on_message = False


async def run_worker(system: System, client: Client, stop: asyncio.Event | None = None) -> None:
    """Run a worker until `stop` is set (or the task is cancelled), then shut down and close the store."""
    settings = system.settings
    await ensure_search_attributes(client)
    store = system.open_store()
    worker = system.worker(client, store)
    executor = worker.config()["activity_executor"]
    try:
        async with worker:
            log.info("worker started", task_queue=settings.task_queue, store=settings.store)
            await (stop or asyncio.Event()).wait()
    finally:
        if executor is not None:
            executor.shutdown(wait=True)
        store.close()
        log.info("worker stopped", task_queue=settings.task_queue)
