"""The HTTP API's back-pressure: 5,000 pushes over HTTP at once, none lost, none answered with a 500.

A `microdemand worker` process records into a fresh SQLite store on a file-backed dev server; the
API is served by uvicorn (as `make run` serves it) in this process. The bench sends `burst` pushes
`IN_FLIGHT` at a time, one request each, times them, then waits until the store holds a
`Collected` event for each: pushes/s, the answers' p50 and p99, every status seen, and the lost.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import uuid
from collections import Counter
from time import perf_counter

import httpx

from adapters.bootstrap import System
from adapters.http.app import ApiServer
from adapters.seeding import SeedPlan, sample_submission
from bench.burst import collected, count_collected, worker_process
from bench.figures import Report
from bench.servers import temporal_server
from bench.stores import fresh_store

IN_FLIGHT = 200
"""Requests in flight at once: a platform's connection pool."""


async def run(report: Report, burst: int) -> None:
    """Push `burst` demands over HTTP at once; report pushes/s, latency, statuses and losses."""
    async with temporal_server("file") as client:
        address = client.service_client.config.target_host
        with fresh_store("sqlite", temporal_address=address, api_port=0) as settings:
            system = System(settings)
            token_file = system.ensure_administrator()
            assert token_file is not None
            token = token_file.read_text().strip()
            worker = worker_process(settings, address)
            api = ApiServer(system)
            try:
                url = await api.start()
                await asyncio.sleep(3)  # the worker starts and polls
                source = f"http{uuid.uuid4().hex[:6]}"
                plan = SeedPlan(count=burst, source=source)
                rng = random.Random(11)
                bodies = [sample_submission(rng, plan, n).model_dump(mode="json") for n in range(burst)]
                statuses: Counter[int] = Counter()
                latencies: list[float] = []
                limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
                headers = {"Authorization": f"Bearer {token}"}
                async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=120) as http:

                    async def push(body: dict[str, object]) -> None:
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
                report.value(f"http_burst.{burst}.server_errors", errors, "answers", target="= 0", met=errors == 0)
                with system.store() as store:
                    _, waited = await collected(store, burst, 900)
                    lost = burst - count_collected(store)
                report.value(f"http_burst.{burst}.collected_per_s", burst / (seconds + waited), "demands/s")
                report.value(f"http_burst.{burst}.lost", lost, "demands", target="= 0", met=lost == 0)
            finally:
                await api.stop()
                worker.terminate()
                worker.wait(30)
