"""The whole system in one foreground process: dev server, worker, projections and the HTTP API
with its console; Ctrl-C stops all."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from adapters.bootstrap import System
from adapters.devserver import DevServer
from adapters.worker import run_worker
from engine.logs import get_logger

if TYPE_CHECKING:
    from projections.runner import RunningProjections

LAG_EVERY = 10
"""Report the projections' lag every this many half-seconds."""


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def run_stack(system: System, *, embedded_temporal: bool = True) -> None:
    """Start everything on its embedded defaults, run until SIGINT/SIGTERM, stop in order."""
    log = get_logger("stack")
    settings = system.settings
    _ = system.keys  # created under var/keys/ on the embedded default; a deployment sets them
    token_file = system.ensure_administrator() if settings.store == "sqlite" else None
    stop = asyncio.Event()
    _stop_on_signals(stop)
    server = DevServer(settings) if embedded_temporal else None
    try:
        if server is not None:
            await server.start()
            log.info("temporal dev server started", target=settings.temporal_address, ui=server.ui_url)
        client = await system.temporal()
        with system.projections() as running:
            running.wait_ready()
            from adapters.http.app import ApiServer

            api = ApiServer(system)
            url = await api.start()
            watching = asyncio.create_task(_watch(system, running, stop, fatal=False))
            try:
                _banner(system, server, token_file, url)
                await run_worker(system, client, stop)
            finally:
                stop.set()
                await watching
                await api.stop()
    finally:
        if server is not None:
            server.stop()
            log.info("temporal dev server stopped", state_file=str(server.db_file))


async def run_projections(system: System) -> None:
    """Run only the projection runners, until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    _stop_on_signals(stop)
    with system.projections() as running:
        running.wait_ready()
        get_logger("projections").info("projections running", store=system.settings.store)
        await _watch(system, running, stop)


async def _watch(
    system: System, running: RunningProjections, stop: asyncio.Event, *, fatal: bool = True
) -> None:
    """Until `stop`: report the views' lag as a gauge (if metrics are on); raise a runner's fatal error
    (`fatal`), or leave it to `health` to say (in `up`, where the worker must go on)."""
    from adapters.telemetry import LagGauge

    gauge = LagGauge(system.settings)
    ticks = 0
    while not stop.is_set():
        if fatal:
            running.raise_fatal()
        if ticks % LAG_EVERY == 0:
            gauge.report(await asyncio.to_thread(running.lag))
        ticks += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.5)


async def run_api(system: System) -> None:
    """Serve only the HTTP API and the console, until SIGINT/SIGTERM (a deployment runs workers and
    projections apart)."""
    from adapters.http.app import ApiServer

    stop = asyncio.Event()
    _stop_on_signals(stop)
    api = ApiServer(system)
    url = await api.start()
    console = Console(stderr=True)
    console.print(f"[bold green]microdemand HTTP API[/] on {url}")
    console.print(f"  Console      {url}/console/")
    console.print(f"  OpenAPI      {url}/docs")
    try:
        await stop.wait()
    finally:
        await api.stop()


async def run_worker_only(system: System) -> None:
    """Run only a worker against the configured Temporal, until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    _stop_on_signals(stop)
    await run_worker(system, await system.temporal(), stop)


def _banner(system: System, server: DevServer | None, token_file: Path | None, api_url: str) -> None:
    settings = system.settings
    console = Console(stderr=True)
    console.print("[bold green]microdemand is running[/]")
    console.print(f"  Temporal     {settings.temporal_address} (namespace {settings.temporal_namespace})")
    if server is not None:
        console.print(f"  Web UI       {server.ui_url}")
        console.print(f"  Temporal DB  {server.db_file}")
    console.print(f"  HTTP API     {api_url}  (OpenAPI: {api_url}/docs)")
    console.print(f"  Console      {api_url}/console/  (sign in with a token)")
    console.print(f"  Task queue   {settings.task_queue}")
    console.print(f"  Event store  {system.where}")
    keys = system.keys
    console.print(
        f"  Keys         {keys.folder}" + (f" (created: {', '.join(keys.created)})" if keys.created else "")
    )
    if token_file is not None:
        console.print(f"  Admin token  {token_file} (created now; the CLI uses it, keep it private)")
    elif system.token_file.exists():
        console.print(f"  Admin token  {system.token_file}")
    console.print("  Try          .venv/bin/microdemand --help   (Ctrl-C here stops everything)")
