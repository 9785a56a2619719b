"""Deadlines survive a restart of the dev server itself: its state file keeps the durable timers."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from workflow_harness import event_names, eventually, stored_events, submission

from adapters.bootstrap import System
from adapters.demands_client import DemandsClient
from adapters.devserver import DevServer
from adapters.settings import Settings
from adapters.temporal import connect
from adapters.worker import run_worker
from engine.application import Demands

pytestmark = [pytest.mark.integration, pytest.mark.devserver]
SHIPPED = Path(__file__).parents[2] / "engine/policies/timelimits.toml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _is(poll: Callable[[], Awaitable[list[str]]], expected: list[str]) -> bool:
    return await poll() == expected


async def _has(poll: Callable[[], Awaitable[list[str]]], name: str) -> bool:
    return name in await poll()


def events_of(store: Demands, demand_id: str) -> Callable[[], Awaitable[list[str]]]:
    """A poll of the demand's stored event names, off the event loop."""
    return lambda: stored_events(store, demand_id)


async def test_a_deadline_set_before_the_server_stopped_still_escalates_once_after_it_restarts(
    tmp_path: Path,
) -> None:
    policy = tmp_path / "limits.toml"  # a six-second claim limit, so real time can pass
    policy.write_text(SHIPPED.read_text().replace('[claim]\ngeneral = "1d"', '[claim]\ngeneral = "6s"'))
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        var_dir=tmp_path / "var",
        temporal_address=f"127.0.0.1:{_free_port()}",
        ui_port=_free_port(),
        timelimits_file=policy,
        task_queue="restart-test",
    )
    demand = submission("restart-1")
    store = System(settings).open_store()

    async with DevServer(settings):
        client = await connect(settings)
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(System(settings), client, stop))
        await DemandsClient(client, settings.task_queue).submit(demand)
        await eventually(lambda: _is(events_of(store, demand.demand_id), ["Collected"]), 30)
        stop.set()
        await worker
    await asyncio.sleep(7)  # the server stays down through the warning point and the deadline

    async with DevServer(settings):
        client = await connect(settings)
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(System(settings), client, stop))
        try:
            await eventually(lambda: _has(events_of(store, demand.demand_id), "Escalated"), 60)
            await asyncio.sleep(1)  # room for a duplicate to show, if there were one
        finally:
            stop.set()
            await worker
            await client.get_workflow_handle(demand.demand_id).terminate("test finished")
    assert event_names(store, demand.demand_id) == ["Collected", "Warned", "Overdue", "Escalated"]
    store.close()
