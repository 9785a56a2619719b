"""Target 3: rebuilding every view from zero, against eventsourcing's raw read of the same notifications.

The store is filled through the real aggregates (`bench.history`), then, at each size: a raw
`select_notifications` pass over every notification; the same pass decoding each into its domain
event (what any rebuild must do first: the ceiling of a projection over events); and a rebuild of
both views into fresh tables (a table suffix, as a real rebuild does) by the real projection
runners, each view in a process of its own as `microdemand replay` does
(`adapters.replay.rebuild_all`). Memory is the peak RSS growth of the bench and the rebuilds'
processes during the rebuild: flat means the same at every size."""

from __future__ import annotations

from time import perf_counter

from rich.progress import Progress

from adapters.bootstrap import System
from adapters.replay import rebuild_all
from bench import reads
from bench.figures import Report, console
from bench.history import grow
from bench.sampling import PeakMemory
from bench.stores import fresh_store
from engine.application import Demands
from projections.runner import REBUILD_PAGE_SIZE

PAGE = REBUILD_PAGE_SIZE
"""The raw read uses the rebuild's page size: the same pages, so the ratio compares like with like."""


def label(size: int) -> str:
    """100k, 1M."""
    return f"{size // 1_000_000}M" if size % 1_000_000 == 0 else f"{size // 1_000}k"


def raw_read(app: Demands, page: int = PAGE) -> tuple[int, float]:
    """Read every notification once, in pages; (count, seconds)."""
    return _read(app, page, decode=False)


def decoded_read(app: Demands, page: int = PAGE) -> tuple[int, float]:
    """Read every notification and decode it into its domain event (residents opened), as a rebuild
    must before any view sees it; (count, seconds). The ceiling of a projection over domain events."""
    return _read(app, page, decode=True)


def _read(app: Demands, page: int, *, decode: bool) -> tuple[int, float]:
    started, position, count = perf_counter(), 0, 0
    mapper = app.mapper
    prefetch = getattr(mapper, "prefetch_keys", None)
    while True:
        notifications = app.recorder.select_notifications(
            start=position, limit=page, inclusive_of_start=False
        )
        if not notifications:
            return count, perf_counter() - started
        if decode:
            if prefetch is not None:
                prefetch(notifications)
            for notification in notifications:
                mapper.to_domain_event(notification)
        count += len(notifications)
        position = notifications[-1].id


def rebuild(system: System, suffix: str) -> tuple[float, float]:
    """Rebuild every view from zero into tables with `suffix`, as `microdemand replay` does (a process
    per view); (seconds, peak RSS growth in MiB of this process and the rebuilds' processes)."""
    with PeakMemory(children=True) as memory:
        started = perf_counter()
        rebuild_all(system, system.projection_specs(), suffix=suffix)
        seconds = perf_counter() - started
    return seconds, memory.growth_mib


def fill(app: Demands, size: int) -> int:
    """Grow the store to `size` events through the aggregates, with a progress bar."""
    held = app.recorder.max_notification_id() or 0
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"generating {label(size)} events", total=size, completed=held)
        return grow(app, size, on_saved=lambda n: progress.advance(task, n))


def run(report: Report, sizes: list[int], stores: list[str], read_sizes: tuple[int, ...] = ()) -> None:
    """Replay rate against raw read on each store at each size; read latency at `read_sizes`."""
    for kind in stores:
        with fresh_store(kind) as settings:
            system = System(settings)
            with system.store() as app:
                for size in sizes:
                    events = fill(app, size)
                    name = f"replay.{kind}.{label(size)}"
                    count, raw_seconds = raw_read(app)
                    raw = report.value(f"{name}.raw_read", count / raw_seconds, "events/s")
                    count, decode_seconds = decoded_read(app)
                    report.compared(f"{name}.read_and_decode", count / decode_seconds, "events/s",
                                    raw.name, raw.value)  # fmt: skip
                    seconds, growth = rebuild(system, f"_r{label(size).lower()}")
                    report.compared(f"{name}.rebuild", events / seconds, "events/s", raw.name, raw.value,
                                    at_least=0.5)  # fmt: skip
                    report.value(f"{name}.rebuild_rss_growth", growth, "MiB")
                    if size in read_sizes:
                        reads.run(report, system, f"_r{label(size).lower()}", f"reads.{kind}.{label(size)}")
