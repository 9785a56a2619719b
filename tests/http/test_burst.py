"""Back-pressure: a burst of pushes over HTTP, many at once, is accepted without losing one and
answered without a 500 — each push one workflow and one `Collected` event. (`make bench` pushes
5,000: bench/http_burst.py.)"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest
from api_harness import api_stack
from temporalio.testing import WorkflowEnvironment

from adapters.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.devserver]

BURST = 300
IN_FLIGHT = 100


def collected_by_demand(store: Any, source: str) -> Counter[str]:
    """How many `Collected` events the store holds for each demand of `source`."""
    found: Counter[str] = Counter()
    position = 0
    while page := store.recorder.select_notifications(start=position, limit=5000, inclusive_of_start=False):
        for note in page:
            if note.topic.endswith(".Collected"):
                event: Any = store.mapper.to_domain_event(note)
                if event.demand_id.startswith(f"demand-{source}-"):
                    found[event.demand_id] += 1
        position = page[-1].id
    return found


async def test_a_burst_of_pushes_is_all_accepted_and_each_becomes_one_workflow_and_one_collected(
    dev_server_env: WorkflowEnvironment, sqlite_settings: Settings
) -> None:
    async with api_stack(sqlite_settings, dev_server_env, api_push_concurrency=32) as stack:
        limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
        statuses: Counter[int] = Counter()
        async with stack.client(stack.admin, limits=limits) as http:

            async def push(n: int) -> None:
                body = stack.demand(f"burst-{n}")
                for _ in range(3):  # as the contract asks of a platform: a push is safe to send again
                    try:
                        answer = await http.post("/api/demands", json=body)
                    except httpx.TransportError:  # a connection dropped on a loaded machine
                        resent[n] += 1
                        continue
                    statuses[answer.status_code] += 1
                    return

            resent: Counter[int] = Counter()
            await asyncio.gather(*(push(n) for n in range(BURST)))
        assert statuses == {202: BURST}, statuses
        assert sum(resent.values()) < BURST // 10, resent  # a dropped connection is rare, not the rule

        with stack.system.store() as store:

            async def all_collected() -> Counter[str] | None:
                found = await asyncio.to_thread(collected_by_demand, store, stack.source)
                return found if len(found) == BURST else None

            found = await stack.until(all_collected, timeout=180)
        assert set(found.values()) == {1}  # none lost, none twice
        client = await stack.system.temporal()
        query = f'WorkflowType="MicroDemand" AND TaskQueue="{stack.system.settings.task_queue}"'

        async def all_workflows() -> int | None:
            counted = (await client.count_workflows(query)).count
            return counted if counted >= BURST else None

        assert await stack.until(all_workflows, timeout=60) == BURST
