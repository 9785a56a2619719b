"""The HTTP API's back-pressure: 5,000 pushes over HTTP at once, none lost, none answered with a 500.

A `microdemand worker` process records into a fresh SQLite store on a file-backed dev server, and a
`microdemand api` process serves the API (as a deployment runs them). The bench sends `burst`
pushes, `IN_FLIGHT` requests at a time, one demand each, times them, then waits until the store
holds a `Collected` event for each: pushes/s, the answers' p50 and p99, server errors, the lost.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from time import perf_counter

import httpx

from adapters.bootstrap import System
from adapters.seeding import SeedPlan, sample_submission
from adapters.settings import Settings
from bench.burst import collected, count_collected, worker_process
from bench.figures import Report
from bench.servers import free_port, temporal_server
from bench.stores import fresh_store

IN_FLIGHT = 200
"""Requests in flight at once: a platform's connection pool."""


def api_process(settings: Settings, address: str, port: int) -> subprocess.Popen[bytes]:
    """`microdemand api` on the bench's store, dev server and task queue."""
    env = {
        **os.environ,
        "MICRODEMAND_VAR_DIR": str(settings.var_dir),
        "MICRODEMAND_TEMPORAL_ADDRESS": address,
        "MICRODEMAND_TASK_QUEUE": settings.task_queue,
        "MICRODEMAND_API_PORT": str(port),
        "MICRODEMAND_LOG_LEVEL": "WARNING",
        "MICRODEMAND_LOG_FORMAT": "json",
    }
    script = Path(sys.executable).parent / "microdemand"
    return subprocess.Popen(
        [str(script), "api"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def listening(url: str, timeout: float = 60) -> None:
    """Wait until the API answers."""
    async with httpx.AsyncClient(base_url=url) as http, asyncio.timeout(timeout):
        while True:
            try:
                await http.get("/openapi.json")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.2)


async def run(report: Report, burst: int) -> None:
    """Push `burst` demands over HTTP at once; report pushes/s, latency, statuses and losses."""
    async with temporal_server("file") as client:
        address = client.service_client.config.target_host
        with fresh_store("sqlite", temporal_address=address) as settings:
            system = System(settings)
            token_file = system.ensure_administrator()
            assert token_file is not None
            token = token_file.read_text().strip()
            port = free_port()
            worker = worker_process(settings, address)
            api = api_process(settings, address, port)
            try:
                url = f"http://127.0.0.1:{port}"
                await listening(url)
                await asyncio.sleep(2)  # the worker starts and polls
                source = f"http{uuid.uuid4().hex[:6]}"
                plan = SeedPlan(count=burst, source=source)
                rng = random.Random(11)
                bodies = [sample_submission(rng, plan, n).model_dump(mode="json") for n in range(burst)]
                statuses: Counter[int] = Counter()
                latencies: list[float] = []
                limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
                headers = {"Authorization": f"Bearer {token}"}
                async with httpx.AsyncClient(
                    base_url=url, headers=headers, limits=limits, timeout=120
                ) as http:
                    slots = asyncio.Semaphore(IN_FLIGHT)  # a pool, not thousands queued in the client

                    async def push(body: dict[str, object]) -> None:
                        async with slots:
                            sent = perf_counter()
                            answer = await http.post("/api/demands", json=body)
                            latencies.append(perf_counter() - sent)
                            statuses[answer.status_code] += 1

                    started = perf_counter()
                    await asyncio.gather(*(push(b) for b in bodies))
                    seconds = perf_counter() - started
                report.value(f"http_burst.{burst}.pushes_per_s", burst / seconds, "pushes/s")
                report.value(f"http_burst.{burst}.answer_p50", statistics.median(latencies) * 1000, "ms")
                cut = statistics.quantiles(latencies, n=100)[98]
                report.value(f"http_burst.{burst}.answer_p99", cut * 1000, "ms")
                errors = sum(n for status, n in statuses.items() if status >= 500)
                report.value(
                    f"http_burst.{burst}.server_errors", errors, "answers", target="= 0", met=errors == 0
                )
                with system.store() as store:
                    _, waited = await collected(store, burst, 900)
                    lost = burst - count_collected(store)
                report.value(f"http_burst.{burst}.collected_per_s", burst / (seconds + waited), "demands/s")
                report.value(f"http_burst.{burst}.lost", lost, "demands", target="= 0", met=lost == 0)
            finally:
                for process in (api, worker):
                    process.terminate()
                    process.wait(30)
