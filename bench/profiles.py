"""Profiles to read before optimising: `python -m bench.profiles replay|lifecycle` (pyinstrument).

`replay` runs the demand index's and then the points' runner in the main thread over 100k events
(so the profiler sees them); `lifecycle` profiles the event loop that runs the workflows, the
worker and the client while 100 demands go round the loop. Text reports go to var/bench/.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from pyinstrument import Profiler

from adapters.bootstrap import System
from bench.history import grow
from bench.stores import fresh_store
from projections.runner import ProjectionRunner

OUT = Path("var/bench")


def replay(events: int = 30_000) -> None:
    """Profile each view's rebuild, one runner at a time, in this thread."""
    with fresh_store("sqlite") as settings:
        system = System(settings)
        with system.store() as app:
            grow(app, events)
            for spec in system.projection_specs():
                runner = ProjectionRunner(spec, app, system.views_database, follow=False)
                with Profiler(interval=0.002) as profiler:
                    runner._follow()
                _write(profiler, f"replay-{spec.name}")


def lifecycle(demands: int = 100) -> None:
    """Profile the event loop while demands go round the loop on an in-memory dev server."""
    from bench import lifecycle as bench_lifecycle
    from bench.figures import Report
    from bench.servers import temporal_server

    bench_lifecycle.write_bytecode()

    async def go() -> None:
        async with temporal_server("memory") as client:
            report = Report("profile")
            with Profiler(interval=0.002, async_mode="disabled") as profiler:
                await bench_lifecycle.microdemand(client, "sqlite", demands, 50, report, "profile")
            _write(profiler, "lifecycle")

    asyncio.run(go())


def _write(profiler: Profiler, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"profile-{name}.txt"
    path.write_text(profiler.output_text(unicode=False, color=False))
    print(f"profile written to {path}")


def main() -> None:
    """Run the chosen profile."""
    parser = argparse.ArgumentParser(prog="python -m bench.profiles")
    parser.add_argument("which", choices=["replay", "lifecycle"])
    args = parser.parse_args()
    from engine.logs import configure_logging

    configure_logging("json", "WARNING")
    replay() if args.which == "replay" else lifecycle()


if __name__ == "__main__":
    main()
