"""The same code on a cluster: two worker processes and one projections process, on PostgreSQL,
against one Temporal server, each started as `microdemand worker` and `microdemand projections`.

A few dozen demands go round the loop through both workers; one worker is killed mid-way. Every
event is stored exactly once, the views catch up with the store, the residents' keys one process
made are the ones the others open with, and the metrics endpoints answer.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from deployed_keys import DEPLOYED_KEYS
from temporalio.testing import WorkflowEnvironment
from workflow_harness import (
    LIFECYCLE,
    all_or_none,
    event_names,
    eventually,
    in_background,
    queue_settings,
    round_the_loop,
    submission,
)

from adapters.bootstrap import System
from adapters.settings import Settings
from engine.access import Identity, Role
from engine.lifecycle import State

pytestmark = [pytest.mark.integration, pytest.mark.devserver, pytest.mark.postgres]

CLI = str(Path(sys.executable).parent / "microdemand")
DEMANDS = 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(port: int) -> str:
    """The Prometheus text a process serves."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        return str(answer.read().decode())


@pytest.fixture
def cluster(
    dev_server_env: WorkflowEnvironment, postgres_settings: Settings, tmp_path: Path
) -> Iterator[tuple[Settings, Callable[..., subprocess.Popen[bytes]]]]:
    """Start `microdemand` processes sharing one PostgreSQL schema, keys and task queue."""
    address = dev_server_env.client.service_client.config.target_host
    settings = queue_settings(postgres_settings.model_copy(update={"temporal_address": address}))
    env = {
        **os.environ, "MICRODEMAND_TEMPORAL_ADDRESS": address, "MICRODEMAND_TASK_QUEUE": settings.task_queue,
        "MICRODEMAND_STORE": "postgres", "MICRODEMAND_POSTGRES_HOST": settings.postgres_host,
        "MICRODEMAND_POSTGRES_PORT": str(settings.postgres_port),
        "MICRODEMAND_POSTGRES_DBNAME": settings.postgres_dbname,
        "MICRODEMAND_POSTGRES_SCHEMA": settings.postgres_schema, "MICRODEMAND_LOG_FORMAT": "json",
        **{f"MICRODEMAND_{name.upper()}": value for name, value in DEPLOYED_KEYS.items()},
    }  # fmt: skip
    processes: list[subprocess.Popen[bytes]] = []

    def start(verb: str, machine: str, *args: str, **extra: str) -> subprocess.Popen[bytes]:
        var = tmp_path / machine  # each "machine" has a var/ of its own: nothing shared on disk
        var.mkdir(exist_ok=True)
        log = (var / f"{verb}.log").open("ab")
        own = {
            **env,
            "MICRODEMAND_VAR_DIR": str(var),
            **{f"MICRODEMAND_{k.upper()}": v for k, v in extra.items()},
        }
        out = subprocess.PIPE if args else log  # a verb with arguments answers: read what it says
        process = subprocess.Popen([CLI, verb, *args], env=own, stdout=out, stderr=log, cwd=var)
        processes.append(process)
        return process

    yield settings, start
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_two_workers_and_a_projections_process_lose_and_double_nothing(
    cluster: tuple[Settings, Callable[..., subprocess.Popen[bytes]]],
) -> None:
    settings, start = cluster
    worker_metrics, projections_metrics = _free_port(), _free_port()
    first = start("worker", "machine-1")
    start("worker", "machine-2", metrics_bind_address=f"127.0.0.1:{worker_metrics}")
    start("projections", "machine-3", metrics_bind_address=f"127.0.0.1:{projections_metrics}")
    system = System(settings)
    client = await system.temporal()  # residents sealed by this process, opened by the workers
    subs = [submission() for _ in range(DEMANDS)]
    app = system.open_store()
    driving = all_or_none(*(round_the_loop(client, sub, settings.task_queue) for sub in subs))
    try:
        async with in_background(driving) as drivers:  # a failure leaves none retrying for ever

            def stored() -> int:
                return sum(len(event_names(app, sub.demand_id)) for sub in subs)

            total = DEMANDS * len(LIFECYCLE)
            await eventually(lambda: stored() >= total // 3, timeout=120)
            first.send_signal(signal.SIGKILL)  # mid-way: its demands and appends in flight go to the other
            first.wait()
            assert stored() < total  # it died with work left
            finals = await asyncio.wait_for(drivers, timeout=240)
        assert all(final.state is State.CLOSED for final in finals)
        histories = await asyncio.to_thread(lambda: [event_names(app, sub.demand_id) for sub in subs])
        assert histories == [LIFECYCLE] * DEMANDS  # each event exactly once
        assert app.history(subs[0].demand_id)[0].resident == subs[0].resident  # type: ignore[attr-defined]
        last = app.recorder.max_notification_id()
    finally:
        app.close()

    def caught_up() -> bool:
        with system.index_view() as index:
            return index.position() == last

    await eventually(caught_up, timeout=60)
    with system.index_view() as index:
        [rates] = index.rates()
        assert (rates.collected, rates.claimed, rates.closed) == (DEMANDS, DEMANDS, DEMANDS)
    with system.points_view() as points:
        entries = points.ledger()
        assert len({entry.demand_id for entry in entries}) == DEMANDS
        lines = Counter((entry.demand_id, entry.kind, entry.account, entry.reason) for entry in entries)
        assert set(lines.values()) == {1}  # each demand's points earned once, none doubled

    temporal = scrape(worker_metrics)
    assert "temporal_workflow_task_schedule_to_start_latency" in temporal
    assert "temporal_workflow_completed" in temporal or "temporal_request" in temporal

    def lag_lines() -> list[str]:
        text = scrape(projections_metrics)
        return [line for line in text.splitlines() if line.startswith("microdemand_projection_lag{")]

    def caught_up_reported() -> bool:  # the gauge is set every few seconds
        lines = lag_lines()
        return len(lines) == 2 and all(line.endswith(" 0") for line in lines)

    await eventually(caught_up_reported, timeout=30)

    health = await asyncio.to_thread(start, "health", "machine-4", "--json")
    parts = {p["name"]: p for p in json.loads(health.communicate(timeout=60)[0])["parts"]}
    assert parts["worker"]["well"], parts["worker"]
    assert all(parts[name]["well"] for name in ("demand_index", "points")), parts

    # `microdemand api` on a machine of its own answers for the same demands, as a deployment runs it.
    with system.directory() as directory:
        directory.register(Identity(name="ops-admin", role=Role.ADMINISTRATOR))
        token = directory.issue("ops-admin", "cluster test")
    api_port = _free_port()
    start("api", "machine-5", api_port=str(api_port))

    def ask(path: str) -> Any:
        request = urllib.request.Request(
            f"http://127.0.0.1:{api_port}{path}", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def answering() -> bool:
        try:
            return bool(ask("/api/me")["name"] == "ops-admin")
        except OSError:
            return False  # still starting

    await eventually(answering, timeout=60)
    listed = await asyncio.to_thread(ask, f"/api/demands?limit={DEMANDS + 10}")
    assert sorted(row["demand_id"] for row in listed["items"]) == sorted(sub.demand_id for sub in subs)
    assert {row["state"] for row in listed["items"]} == {"closed"}
    assert (await asyncio.to_thread(ask, "/api/health"))["well"] is True
