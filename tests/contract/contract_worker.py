"""The production worker in a process of its own, as deployed, but with a five-second submission grace.

Started by the contract suite; settings come from MICRODEMAND_* variables, logs go to stderr as JSON.
"""

from __future__ import annotations

import asyncio
import signal

from quick_grace_workflow import QuickGraceMicroDemand

from adapters.bootstrap import System
from adapters.settings import Settings
from adapters.temporal import ensure_search_attributes
from engine.logs import configure_logging


async def main() -> None:
    """Serve until SIGTERM."""
    settings = Settings(_env_file=None)
    configure_logging(settings.log_format, settings.log_level)
    system = System(settings)
    client = await system.temporal()
    await ensure_search_attributes(client)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    with system.store() as store, system.projections() as running:
        running.wait_ready()
        async with system.worker(client, store, workflows=[QuickGraceMicroDemand]):
            await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
