"""A worker in a process of its own, for tests that kill it: settings come from MICRODEMAND_* variables."""

from __future__ import annotations

import asyncio
import signal

from adapters.bootstrap import System
from adapters.settings import Settings
from adapters.temporal import connect
from adapters.worker import run_worker
from engine.logs import configure_logging


async def main() -> None:
    """Run the production worker until SIGTERM or SIGINT (a SIGKILL, of course, just ends it)."""
    settings = Settings(_env_file=None)
    configure_logging(settings.log_format, settings.log_level)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await run_worker(System(settings), await connect(settings), stop)


if __name__ == "__main__":
    asyncio.run(main())
