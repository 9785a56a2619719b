"""Targets 1 and 2: demands through submit, claim, handle, follow-up and evaluate, against bare Temporal.

On one server, one after the other: `BareDemand` (no store), `BareDemand` with a no-op activity
per step (regular, then local), and microdemand's real worker (`System.worker`) recording into a
real store with the projections running in the same process, as `microdemand up` runs them. Each
drives the same demands at the same concurrency; microdemand's time runs until every view has
caught up. Then every event is counted in the store and every demand in the index, and the
projection lag sampled during the load is summarised. With `split`, microdemand runs once more
without the projections, to tell their share of the gap from the worker's.

Every variant also reports the CPU it cost per demand, in this process (client, worker, store,
views: one interpreter, one GIL) and in the dev server, since on 2 shared cores the throughput of
each variant is bounded by their sum.

The workflow sandbox imports each workflow's module anew for every workflow it starts or
replays; without bytecode on disk (an editable install under `PYTHONDONTWRITEBYTECODE=1`, as on
this machine) that is a compile of the module's source every time. `run` writes the bytecode of
the workflow modules first, as an installed package has it, so both sides are measured as a
deployed worker runs. Bare Temporal runs in temporalio's stock sandbox, the baseline of target 1,
and once more in microdemand's (`adapters.sandbox`, its entry code compiled once), to show how much
of microdemand's rate that sandbox accounts for.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import psutil
from temporalio.client import Client
from temporalio.worker import Worker

from adapters import bootstrap
from adapters.bootstrap import System
from adapters.demands_client import DemandsClient
from adapters.sandbox import CompiledSandboxRunner
from adapters.seeding import SeedPlan, sample_submission
from adapters.temporal import ensure_search_attributes
from bench.bare import BareDemand, StepKind, bare_step
from bench.figures import Report, console
from bench.lag import LagSampler
from bench.servers import temporal_server
from bench.stores import fresh_store
from engine import commands as c
from engine.lifecycle import State
from engine.vocabulary import Rating

EVENTS_PER_DEMAND = 6  # Collected, Claimed, Handled, FollowedUp, Evaluated, Closed
STEPS: list[c.Command] = [
    c.Claim(member="li", unit="Party branch 1"),
    c.Handle(member="li", hours=1.5),
    c.FollowUp(worker="community", resolved=True),
    c.Evaluate(rating=Rating.SATISFIED),
]
Loop = Callable[[c.Submission], Awaitable[None]]


def write_bytecode() -> None:
    """Compile the sandboxed workflow modules to bytecode on disk, as `pip install` does for a package."""
    bootstrap.write_bytecode((*bootstrap.SANDBOXED_MODULES, "bench", "bench.bare"))


@dataclass
class Cpu:
    """CPU seconds spent during a block, in this process and in the dev server's processes."""

    worker: float = 0.0
    server: float = 0.0


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _server_seconds(me: psutil.Process) -> float:
    total = 0.0
    for child in me.children(recursive=True):
        try:
            total += _cpu_seconds(child)
        except psutil.NoSuchProcess:
            continue
    return total


@contextmanager
def cpu_spent() -> Iterator[Cpu]:
    """Measure the CPU this process and its children (the dev server) spend in the block."""
    me = psutil.Process()
    spent = Cpu()
    worker, server = _cpu_seconds(me), _server_seconds(me)
    try:
        yield spent
    finally:
        spent.worker = _cpu_seconds(me) - worker
        spent.server = _server_seconds(me) - server


def report_cpu(report: Report, name: str, spent: Cpu, demands: int) -> None:
    """CPU per demand: this process (client, worker, store, views) and the dev server."""
    report.value(f"{name}.cpu_worker", 1000 * spent.worker / demands, "ms CPU per demand (this process)")
    report.value(f"{name}.cpu_server", 1000 * spent.server / demands, "ms CPU per demand (dev server)")


async def drive(loop: Loop, demands: int, concurrency: int, label: str) -> float:
    """Take `demands` fresh demands around the loop, `concurrency` at a time; seconds taken."""
    plan = SeedPlan(count=demands, source=f"b{uuid.uuid4().hex[:8]}")
    rng = random.Random(2026)
    submissions = [sample_submission(rng, plan, n) for n in range(demands)]
    limit = asyncio.Semaphore(concurrency)
    done = 0

    async def one(sub: c.Submission) -> None:
        nonlocal done
        async with limit:
            await loop(sub)
        done += 1

    started = perf_counter()
    with console.status(f"{label}: {demands} demands at concurrency {concurrency}"):
        await asyncio.gather(*(one(s) for s in submissions))
    return perf_counter() - started


async def update(client: Client, demand_id: str, command: c.Command) -> None:
    """Send one update, retrying under the same update id if the server was too slow to answer in time.

    On a loaded 2-core machine an update can outlast one RPC's deadline; asked again with the same
    id, Temporal answers the update already admitted rather than running it twice.
    """
    from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError

    assert command.update is not None
    handle = client.get_workflow_handle(demand_id)
    for attempt in range(5):
        try:
            await handle.execute_update(command.update, command, id=f"{demand_id}-{command.update}")
            return
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            console.print(f"[yellow]update {command.update} of {demand_id} timed out (try {attempt + 1})[/]")
    raise TimeoutError(f"update {command.update} of {demand_id} never answered")


async def bare(
    client: Client,
    step: StepKind,
    demands: int,
    concurrency: int,
    report: Report,
    name: str,
    *,
    compiled: bool = False,
) -> float:
    """Demands/s of BareDemand with `step` (none, a regular or a local no-op activity per step);
    `compiled`: in the sandbox microdemand's worker uses (`adapters.sandbox`), not temporalio's stock one."""
    queue = f"bench-bare-{uuid.uuid4().hex[:8]}"
    options: dict[str, Any] = {"workflow_runner": CompiledSandboxRunner()} if compiled else {}

    async def loop(sub: c.Submission) -> None:
        handle = await client.start_workflow(
            BareDemand.run, step, id=sub.demand_id, task_queue=queue,
            start_signal="submit", start_signal_args=[sub],
        )  # fmt: skip
        for command in STEPS:
            await update(client, handle.id, command)

    async with Worker(client, task_queue=queue, workflows=[BareDemand], activities=[bare_step], **options):
        with cpu_spent() as spent:
            seconds = await drive(loop, demands, concurrency, f"bare ({step})")
    report_cpu(report, name, spent, demands)
    return demands / seconds


async def microdemand_without_views(
    client: Client, store: str, demands: int, concurrency: int, report: Report, name: str
) -> float:
    """Demands/s of the real worker and store with no projections in the process (`split` only)."""
    with fresh_store(store) as settings:
        system = System(settings)
        with system.store() as app:
            md = DemandsClient(client, settings.task_queue)

            async def loop(sub: c.Submission) -> None:
                await md.submit(sub)
                for command in STEPS:
                    await update(client, sub.demand_id, command)

            await ensure_search_attributes(client)
            async with system.worker(client, app):
                with cpu_spent() as spent:
                    seconds = await drive(loop, demands, concurrency, f"microdemand without views ({store})")
            report_cpu(report, name, spent, demands)
            events = app.recorder.max_notification_id() or 0
            expected = EVENTS_PER_DEMAND * demands
            report.value(f"{name}.events_stored", events, f"events (expected {expected})",
                         target=f"= {expected}", met=events == expected)  # fmt: skip
    return demands / seconds


async def microdemand(
    client: Client, store: str, demands: int, concurrency: int, report: Report, name: str
) -> float:
    """Demands/s of the real worker, store and projections; checks and lag go into `report`."""
    with fresh_store(store) as settings:
        system = System(settings)
        with system.store() as app, system.projections() as running:
            running.wait_ready()
            md = DemandsClient(client, settings.task_queue)

            async def loop(sub: c.Submission) -> None:
                await md.submit(sub)  # as the platform pushes, through the demands' client
                for command in STEPS:
                    await update(client, sub.demand_id, command)

            await ensure_search_attributes(client)  # as every worker does before it starts
            worker = system.worker(client, app)
            with LagSampler(running) as lag:
                async with worker:
                    with cpu_spent() as spent:
                        started = perf_counter()
                        await drive(loop, demands, concurrency, f"microdemand ({store})")
                        await asyncio.to_thread(running.wait_until_caught_up, 120)
                        seconds = perf_counter() - started
            report_cpu(report, name, spent, demands)
            _check(report, name, app.recorder.max_notification_id() or 0, demands, system)
            for stat, value in lag.summary().items():
                report.value(f"{name}.lag_{stat}", value, "ms", **_lag_target(stat, value))
    return demands / seconds


def _lag_target(stat: str, value: float) -> dict[str, Any]:
    return {"target": "< 1000 ms", "met": value < 1000} if stat == "p99" else {}


def _check(report: Report, name: str, events: int, demands: int, system: System) -> None:
    expected = EVENTS_PER_DEMAND * demands
    report.value(f"{name}.events_stored", events, f"events (expected {expected})",
                 target=f"= {expected}", met=events == expected)  # fmt: skip
    with system.index_view() as index:
        closed = len(index.list_demands(state=State.CLOSED, limit=demands + 1))
    report.value(f"{name}.views_closed", closed, f"demands (expected {demands})",
                 target=f"= {demands}", met=closed == demands)  # fmt: skip


async def run(
    report: Report,
    servers: list[str],
    stores: list[str],
    demands: int,
    concurrency: int,
    *,
    split: bool = False,
) -> None:
    """Bare Temporal, its activity variants and microdemand, side by side on each server."""
    write_bytecode()
    for server in servers:
        async with temporal_server(server) as client:
            prefix = f"lifecycle.{server}"
            rate = await bare(client, "none", demands, concurrency, report, f"{prefix}.bare")
            base = report.value(f"{prefix}.bare", rate, "demands/s")
            for step in ("activity", "local"):
                name = f"{prefix}.bare_{step}"
                rate = await bare(client, step, demands, concurrency, report, name)
                report.compared(name, rate, "demands/s", base.name, base.value)
            # Bare Temporal in microdemand's sandbox: how much of microdemand's rate is that sandbox's.
            name = f"{prefix}.bare_compiled_sandbox"
            rate = await bare(client, "none", demands, concurrency, report, name, compiled=True)
            report.compared(name, rate, "demands/s", base.name, base.value)
            for store in stores:
                name = f"{prefix}.microdemand_{store}"
                rate = await microdemand(client, store, demands, concurrency, report, name)
                report.compared(name, rate, "demands/s", base.name, base.value, at_least=0.8)
                if split:
                    name = f"{prefix}.microdemand_{store}_without_views"
                    rate = await microdemand_without_views(client, store, demands, concurrency, report, name)
                    report.compared(name, rate, "demands/s", base.name, base.value)
