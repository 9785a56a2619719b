"""`python -m bench [--full] [--only NAME ...]`: run the benchmarks, print `name: value unit` lines."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path

from bench.figures import Report, console

RESULTS = Path("var/bench")


def _replay(report: Report, full: bool) -> None:
    from bench import replay
    from bench.stores import postgres_available

    sizes = [100_000, 300_000, 1_000_000] if full else [30_000, 100_000]
    stores = ["sqlite", "postgres"] if postgres_available() else ["sqlite"]
    replay.run(report, sizes, stores, read_sizes=(sizes[0], sizes[-1]))


def _lifecycle(report: Report, full: bool, split: bool = False) -> None:
    import asyncio

    from bench import lifecycle
    from bench.servers import SERVERS
    from bench.stores import postgres_available

    stores = ["sqlite", "postgres"] if full and postgres_available() else ["sqlite"]
    demands = 300 if full else 100
    asyncio.run(lifecycle.run(report, list(SERVERS), stores, demands, concurrency=50, split=split))


def _burst(report: Report, full: bool) -> None:
    import asyncio

    from bench import burst

    asyncio.run(burst.run(report, burst=5_000 if full else 300, open_demands=10_000 if full else 300))


def _http_burst(report: Report, full: bool) -> None:
    import asyncio

    from bench import http_burst

    asyncio.run(http_burst.run(report, burst=5_000))


def _cli(report: Report, full: bool) -> None:
    from bench import cli_start

    cli_start.run(report, repeat=11 if full else 5)


BENCHMARKS: dict[str, Callable[[Report, bool], None]] = {
    "lifecycle": _lifecycle,
    "replay": _replay,
    "burst": _burst,
    "http_burst": _http_burst,
    "cli": _cli,
}


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks (all by default) in quick or full mode; save the figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--full", action="store_true", help="the large sizes (1M events, 10,000 open demands)"
    )
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), help="run only these; repeat")
    parser.add_argument(
        "--split", action="store_true", help="lifecycle: also run microdemand without its projections"
    )
    args = parser.parse_args(argv)
    chosen_runs = dict(BENCHMARKS)
    if args.split:
        chosen_runs["lifecycle"] = functools.partial(_lifecycle, split=True)
    from engine.logs import configure_logging

    configure_logging("json", "WARNING")  # one line per recorded event would drown the figures
    mode = "full" if args.full else "quick"
    report = Report(mode)
    chosen = args.only or list(BENCHMARKS)
    for name in chosen:
        console.rule(f"[bold]{name}[/] ({mode})")
        chosen_runs[name](report, args.full)
    out = RESULTS / f"{mode}{'-' + '-'.join(args.only) if args.only else ''}.json"
    report.save(out)
    console.print(f"figures saved to {out}")
    return 0  # a missed target is a figure to read, not a failed run


if __name__ == "__main__":
    sys.exit(main())
