"""The whole system in one foreground process: dev server, worker and projections; Ctrl-C stops all."""

from __future__ import annotations

import asyncio
import signal

from rich.console import Console

from adapters.devserver import DevServer
from adapters.temporal import connect
from adapters.worker import run_worker
from engine.logs import get_logger
from engine.settings import Settings
from projections.runner import running_projections


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def run_stack(settings: Settings, *, embedded_temporal: bool = True) -> None:
    """Start everything on its embedded defaults, run until SIGINT/SIGTERM, stop in order."""
    log = get_logger("stack")
    stop = asyncio.Event()
    _stop_on_signals(stop)
    server = DevServer(settings) if embedded_temporal else None
    try:
        if server is not None:
            await server.start()
            log.info("temporal dev server started", target=settings.temporal_address, ui=server.ui_url)
        client = await connect(settings)
        with running_projections(settings):
            _banner(settings, server)
            await run_worker(settings, client, stop)
    finally:
        if server is not None:
            server.stop()
            log.info("temporal dev server stopped", state_file=str(server.db_file))


async def run_projections(settings: Settings) -> None:
    """Run only the projection runners, until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    _stop_on_signals(stop)
    with running_projections(settings):
        get_logger("projections").info("projections running", store=settings.store)
        await stop.wait()


async def run_worker_only(settings: Settings) -> None:
    """Run only a worker against the configured Temporal, until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    _stop_on_signals(stop)
    await run_worker(settings, await connect(settings), stop)


def _banner(settings: Settings, server: DevServer | None) -> None:
    console = Console(stderr=True)
    store = settings.sqlite_path or settings.var_dir / "events.db"
    console.print("[bold green]microdemand is running[/]")
    console.print(f"  Temporal     {settings.temporal_address} (namespace {settings.temporal_namespace})")
    if server is not None:
        console.print(f"  Web UI       {server.ui_url}")
        console.print(f"  Temporal DB  {server.db_file}")
    console.print(f"  Task queue   {settings.task_queue}")
    console.print(
        f"  Event store  {store if settings.store == 'sqlite' else 'PostgreSQL ' + settings.postgres_host}"
    )
    console.print("  Try          .venv/bin/microdemand --help   (Ctrl-C here stops everything)")
