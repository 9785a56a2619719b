"""The chart of docs/benchmarks.md: lifecycle throughput per server, and replay rate against size.

`python -m bench.chart var/bench/quick.json [more.json ...] --out docs/benchmarks.png`
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

SIZE = re.compile(r"^replay\.(\w+)\.(\d+)(k|M)\.(raw_read|rebuild)$")
LIFECYCLE = re.compile(r"^lifecycle\.(\w+)\.(bare|bare_activity|bare_local|microdemand_\w+)$")


def figures(paths: list[Path]) -> dict[str, float]:
    """Every figure of the given runs, later runs overriding earlier ones."""
    values: dict[str, float] = {}
    for path in paths:
        for figure in json.loads(path.read_text())["figures"]:
            values[figure["name"]] = figure["value"]
    return values


def draw(values: dict[str, float], out: Path) -> None:
    """Two panels: demands/s per variant and server; events/s rebuilt and read raw against size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    lifecycle: dict[str, dict[str, float]] = {}
    for name, value in values.items():
        if m := LIFECYCLE.match(name):
            lifecycle.setdefault(m.group(2), {})[m.group(1)] = value
    servers = sorted({s for v in lifecycle.values() for s in v})
    width = 0.8 / max(1, len(lifecycle))
    for i, (variant, by_server) in enumerate(sorted(lifecycle.items())):
        xs = [j + i * width for j in range(len(servers))]
        left.bar(xs, [by_server.get(s, 0) for s in servers], width, label=variant)
    left.set_xticks([j + 0.4 - width / 2 for j in range(len(servers))], [f"{s} server" for s in servers])
    left.set_ylabel("demands/s (whole loop)")
    left.set_title("Lifecycle throughput, concurrency 50")
    left.legend(fontsize=8)

    series: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for name, value in values.items():
        if m := SIZE.match(name):
            size = int(m.group(2)) * (1_000 if m.group(3) == "k" else 1_000_000)
            series.setdefault((m.group(1), m.group(4)), []).append((size, value))
    for (store, kind), points in sorted(series.items()):
        points.sort()
        style = "-" if kind == "rebuild" else "--"
        right.plot([p[0] for p in points], [p[1] for p in points], style, marker="o", label=f"{store} {kind}")
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("events in the store")
    right.set_ylabel("events/s")
    right.set_title("Replay: all views rebuilt vs raw read")
    right.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


def main(argv: list[str] | None = None) -> None:
    """Draw the chart from saved runs."""
    parser = argparse.ArgumentParser(prog="python -m bench.chart")
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.png"))
    args = parser.parse_args(argv)
    draw(figures(args.runs), args.out)
    print(f"chart written to {args.out}")


if __name__ == "__main__":
    main()
