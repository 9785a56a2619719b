"""Samplers that run beside a benchmark: peak memory of a process, and percentiles of what they saw."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Self


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


class Poller:
    """Calls `sample` every `interval` seconds in a thread until the block ends."""

    def __init__(self, sample: Callable[[], None], interval: float) -> None:
        self.sample = sample
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


class PeakMemory(Poller):
    """The peak resident set size of a process (this one by default) while the block runs, in MiB.

    With `children`, what its child processes hold above the size at the start counts too (a
    forked child shares the parent's pages at first, so only its growth is its own).
    """

    def __init__(self, pid: int | None = None, interval: float = 0.05, *, children: bool = False) -> None:
        import psutil

        self.process = psutil.Process(pid)
        self.children = children
        self.start_mib = 0.0
        self.start_mib = self._rss()
        self.peak_mib = self.start_mib
        super().__init__(self._sample, interval)

    def _rss(self) -> float:
        import psutil

        own = float(self.process.memory_info().rss) / 2**20
        if not self.children:
            return own
        grown = 0.0
        for child in self.process.children(recursive=True):
            try:
                grown += max(0.0, float(child.memory_info().rss) / 2**20 - self.start_mib)
            except psutil.Error:
                continue  # it ended meanwhile
        return own + grown

    def _sample(self) -> None:
        self.peak_mib = max(self.peak_mib, self._rss())

    @property
    def growth_mib(self) -> float:
        """How far the peak rose above the size at the start."""
        return self.peak_mib - self.start_mib
