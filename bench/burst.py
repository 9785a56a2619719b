"""Targets 5 and 6: a burst of pushes by signal-with-start, and the worker's memory with the demands open.

A `microdemand worker` process (as deployed) records into a fresh SQLite store on a file-backed dev
server. The bench pushes `burst` demands at once through the demands' client (signal-with-start,
as the upstream platform does), times the pushes, waits until every one is collected, and counts
the `Collected` events: none may be lost. Pushes continue up to `open_demands`, every one left
waiting on its claim timer, while the worker's peak RSS is sampled.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import uuid
from pathlib import Path
from time import perf_counter

from adapters.bootstrap import System
from adapters.demands_client import DemandsClient
from adapters.seeding import SeedPlan, sample_submission
from adapters.settings import Settings
from bench.figures import Report, console
from bench.sampling import PeakMemory
from bench.servers import temporal_server
from bench.stores import fresh_store
from engine.application import Demands
from engine.commands import Submission

IN_FLIGHT = 200
"""Pushes in flight at once: the platform's connection pool, not one request at a time."""


def worker_process(settings: Settings, address: str) -> subprocess.Popen[bytes]:
    """`microdemand worker` on the bench's store and task queue."""
    env = {
        **os.environ,
        "MICRODEMAND_VAR_DIR": str(settings.var_dir),
        "MICRODEMAND_TEMPORAL_ADDRESS": address,
        "MICRODEMAND_TASK_QUEUE": settings.task_queue,
        "MICRODEMAND_LOG_LEVEL": "WARNING",
        "MICRODEMAND_LOG_FORMAT": "json",
    }
    script = Path(sys.executable).parent / "microdemand"
    return subprocess.Popen(
        [str(script), "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def push(client: DemandsClient, first: int, count: int, source: str) -> float:
    """Push demands `first` .. `first + count - 1`, IN_FLIGHT at a time; seconds taken."""
    plan = SeedPlan(count=first + count, source=source)
    rng = random.Random(7)
    submissions = [sample_submission(rng, plan, n) for n in range(first, first + count)]
    limit = asyncio.Semaphore(IN_FLIGHT)

    async def one(sub: Submission) -> None:
        async with limit:
            await client.submit(sub)

    started = perf_counter()
    await asyncio.gather(*(one(s) for s in submissions))
    return perf_counter() - started


async def collected(store: Demands, expected: int, timeout: float) -> tuple[int, float]:
    """Wait until the store holds `expected` events (each a `Collected`); (held, seconds waited)."""
    started = perf_counter()
    held = 0
    with console.status(f"waiting for {expected} demands to be collected"):
        while perf_counter() - started < timeout:
            held = await asyncio.to_thread(lambda: store.recorder.max_notification_id() or 0)
            if held >= expected:
                break
            await asyncio.sleep(0.2)
    return held, perf_counter() - started


def count_collected(store: Demands) -> int:
    """How many `Collected` events the store holds."""
    position, count = 0, 0
    while page := store.recorder.select_notifications(start=position, limit=5_000, inclusive_of_start=False):
        count += sum(1 for n in page if n.topic.endswith(".Collected"))
        position = page[-1].id
    return count


async def run(report: Report, burst: int, open_demands: int) -> None:
    """Push `burst` at once, then up to `open_demands` in all; report pushes/s, losses and worker RSS."""
    async with temporal_server("file") as client:
        address = client.service_client.config.target_host
        with fresh_store("sqlite") as settings:
            worker = worker_process(settings, address)
            try:
                with PeakMemory(worker.pid, interval=0.2) as memory, System(settings).store() as store:
                    await asyncio.sleep(3)  # the worker starts and polls
                    idle = memory.peak_mib
                    demands = DemandsClient(client, settings.task_queue)
                    source = f"burst{uuid.uuid4().hex[:6]}"
                    seconds = await push(demands, 0, burst, source)
                    report.value(f"burst.{burst}.pushes_per_s", burst / seconds, "pushes/s")
                    _, waited = await collected(store, burst, 600)
                    report.value(f"burst.{burst}.collected_per_s", burst / (seconds + waited), "demands/s")
                    lost = burst - count_collected(store)
                    report.value(f"burst.{burst}.lost", lost, "demands", target="= 0", met=lost == 0)
                    if open_demands > burst:
                        await push(demands, burst, open_demands - burst, source)
                        await collected(store, open_demands, 1200)
                    await asyncio.sleep(2)
                report.value("worker.idle_rss", idle, "MiB")
                report.value(f"worker.{open_demands}_open.peak_rss", memory.peak_mib, "MiB")
                per = 1024 * (memory.peak_mib - idle) / open_demands
                report.value(f"worker.{open_demands}_open.rss_per_demand", per, "KiB")
            finally:
                worker.terminate()
                worker.wait(30)
