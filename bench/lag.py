"""Projection lag: from an event's commit to the moment every view shows it, sampled beside a load."""

from __future__ import annotations

from time import perf_counter

from bench.sampling import Poller, percentile
from projections.runner import RunningProjections


class LagSampler(Poller):
    """Polls the store's last notification id and each view's position every `interval` seconds.

    An id is committed when the store's maximum first reaches it, and shown when the slowest view's
    position first reaches it; the lag of each event is the difference (to within one interval).
    """

    def __init__(self, running: RunningProjections, interval: float = 0.01) -> None:
        self.running = running
        self.recorder = running.store.recorder
        self.committed: list[float] = []  # committed[i]: when id i+1 was first seen in the store
        self.shown: list[float] = []  # shown[i]: when id i+1 was first in every view
        super().__init__(self._sample, interval)

    def _sample(self) -> None:
        now = perf_counter()
        last = self.recorder.max_notification_id() or 0
        position = min(runner.position for runner in self.running.runners.values())
        self.committed.extend([now] * (last - len(self.committed)))
        self.shown.extend([now] * (min(position, len(self.committed)) - len(self.shown)))

    def lags(self) -> list[float]:
        """Each event's lag in seconds (events not yet shown are left out)."""
        return [shown - committed for committed, shown in zip(self.committed, self.shown, strict=False)]

    def summary(self) -> dict[str, float]:
        """p50, p99 and max lag in milliseconds."""
        lags = self.lags()
        return {
            "p50": 1000 * percentile(lags, 50),
            "p99": 1000 * percentile(lags, 99),
            "max": 1000 * (max(lags) if lags else 0.0),
        }
