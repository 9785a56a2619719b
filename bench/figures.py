"""Figures a benchmark measures, printed as `name: value unit` lines, with their ratio to a baseline."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

console = Console(stderr=True)
"""Progress and notes go to stderr; figures go to stdout."""


@dataclass(frozen=True)
class Figure:
    """One measured value; `target` says what the issue asks of it, `met` whether this run meets it."""

    name: str
    value: float
    unit: str
    baseline: str | None = None
    ratio: float | None = None
    target: str | None = None
    met: bool | None = None

    def line(self) -> str:
        """`name: value unit`, then the ratio to its baseline and the target, if any."""
        text = f"{self.name}: {_number(self.value)} {self.unit}"
        if self.ratio is not None:
            text += f"  (ratio {self.ratio:.2f} to {self.baseline})"
        if self.target is not None:
            text += f"  [target {self.target}: {'met' if self.met else 'MISSED'}]"
        return text


def _number(value: float) -> str:
    if value == int(value) and abs(value) >= 100:
        return f"{int(value)}"
    return f"{value:.4g}" if abs(value) < 1000 else f"{value:.0f}"


@dataclass
class Report:
    """The figures of one run, printed as they come and saved as JSON for the docs and the chart."""

    mode: str
    figures: list[Figure] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def add(self, figure: Figure) -> Figure:
        """Keep a figure and print its line."""
        self.figures.append(figure)
        print(figure.line(), flush=True)
        return figure

    def value(
        self, name: str, value: float, unit: str, *, target: str | None = None, met: bool | None = None
    ) -> Figure:
        """A figure with no baseline."""
        return self.add(Figure(name, value, unit, target=target, met=met))

    def compared(
        self,
        name: str,
        value: float,
        unit: str,
        baseline_name: str,
        baseline: float,
        *,
        at_least: float | None = None,
    ) -> Figure:
        """A figure and its ratio to a baseline measured in the same run (`at_least`: the target ratio)."""
        ratio = value / baseline if baseline else 0.0
        target = f"ratio >= {at_least}" if at_least is not None else None
        met = ratio >= at_least if at_least is not None else None
        return self.add(Figure(name, value, unit, baseline_name, ratio, target, met))

    def save(self, path: Path) -> None:
        """Write the run (machine, mode, figures, notes) as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        body = {
            "mode": self.mode,
            "started": self.started,
            "machine": machine(),
            "figures": [asdict(f) for f in self.figures],
            "notes": self.notes,
        }
        path.write_text(json.dumps(body, indent=2) + "\n")


def machine() -> dict[str, Any]:
    """What the run ran on: cores, memory, CPU model, Python."""
    import os

    import psutil

    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines()
                      if ln.startswith("model name")), "")  # fmt: skip
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu": model,
        "python": platform.python_version(),
        "load_at_start": [round(x, 2) for x in os.getloadavg()],
    }
