"""The whole system in one foreground process: dev server, worker and projections; Ctrl-C stops all."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

from rich.console import Console

from adapters.bootstrap import System
from adapters.devserver import DevServer
from adapters.worker import run_worker
from engine.logs import get_logger


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
            _banner(system, server, token_file)
            await run_worker(system, client, stop)
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
        while not stop.is_set():
            running.raise_fatal()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.5)


async def run_worker_only(system: System) -> None:
    """Run only a worker against the configured Temporal, until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    _stop_on_signals(stop)
    await run_worker(system, await system.temporal(), stop)


def _banner(system: System, server: DevServer | None, token_file: Path | None) -> None:
    settings = system.settings
    console = Console(stderr=True)
    console.print("[bold green]microdemand is running[/]")
    console.print(f"  Temporal     {settings.temporal_address} (namespace {settings.temporal_namespace})")
    if server is not None:
        console.print(f"  Web UI       {server.ui_url}")
        console.print(f"  Temporal DB  {server.db_file}")
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
