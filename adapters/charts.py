"""Charts drawn on the server: each one as SVG (to inline in a page) and PNG (a file beside it).

matplotlib with its Agg canvas, through its object API (no pyplot, so no global figure state
and safe in a server thread). Nothing is fetched when a chart is shown: the SVG keeps its text
as text (fonts from the reader's machine), the PNG has everything drawn in. Reports use these;
the web console will too.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.rcsetup import cycler
from matplotlib.ticker import MaxNLocator, PercentFormatter

PALETTE = ("#c0392b", "#2c7fb8", "#e6a117", "#31a354", "#756bb1", "#636363", "#de2d26", "#3182bd")
"""Party red first, then colours that stay apart for most readers."""

_STYLE: Any = {
    "svg.fonttype": "none",  # text stays text in the SVG: smaller, searchable, sharp
    "svg.hashsalt": "microdemand",  # the same chart draws to the same SVG
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=PALETTE),
}


@dataclass(frozen=True)
class Chart:
    """One drawn chart: a name (the PNG's file name), a title, the SVG text and the PNG bytes."""

    name: str
    title: str
    svg: str
    png: bytes
    empty: bool


def line_chart(
    name: str,
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    percent: bool,
) -> Chart:
    """Lines over labelled points (periods); a None leaves a gap (a rate with no denominator)."""

    def draw(ax: Axes) -> None:
        for key, values in series.items():
            ax.plot(labels, [float("nan") if v is None else v for v in values], marker="o", label=key)
        if percent:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
            ax.set_ylim(0, 1.05)
        _slant(ax, labels)
        _legend(ax, len(series))

    return _chart(name, title, not labels or not series, draw)


def bar_chart(
    name: str,
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    stacked: bool = False,
    horizontal: bool = False,
    counts: bool = False,
) -> Chart:
    """Bars per label, one colour per series, side by side or stacked; horizontal for long labels.

    `counts`: the values are whole numbers (demands), so the axis has no fractional ticks.
    """

    def draw(ax: Axes) -> None:
        positions = list(range(len(labels)))
        width = 0.8 if stacked else 0.8 / max(1, len(series))
        base = [0.0] * len(labels)
        for number, (key, values) in enumerate(series.items()):
            offset = 0.0 if stacked else (number - (len(series) - 1) / 2) * width
            at = [p + offset for p in positions]
            if horizontal:
                ax.barh(at, values, height=width, left=base if stacked else None, label=key)
            else:
                ax.bar(at, values, width=width, bottom=base if stacked else None, label=key)
            if stacked:
                base = [b + v for b, v in zip(base, values, strict=True)]
        if counts:
            (ax.xaxis if horizontal else ax.yaxis).set_major_locator(MaxNLocator(integer=True))
        if horizontal:
            ax.set_yticks(positions, labels)
            ax.set_ylim(max(len(labels), 5) - 0.5, -0.5)  # the first on top, as a ranking reads; no fat bars
        else:
            ax.set_xticks(positions, labels)
            _slant(ax, labels)
        _legend(ax, len(series))

    empty = not labels or not any(any(v for v in values) for values in series.values())
    return _chart(name, title, empty, draw)


def _slant(ax: Axes, labels: Sequence[str]) -> None:
    """Many or long labels under the x axis lean, so they never overlap."""
    if len(labels) > 6 or sum(len(label) for label in labels) > 60:
        for tick in ax.get_xticklabels():
            tick.set_rotation(30)
            tick.set_horizontalalignment("right")


def _legend(ax: Axes, count: int) -> None:
    if count > 1:
        ax.legend(frameon=False, fontsize=8, ncols=min(count, 4), loc="upper left", bbox_to_anchor=(0, 1.16))


def _chart(name: str, title: str, empty: bool, draw: Callable[[Axes], None]) -> Chart:
    with rc_context(_STYLE):
        figure = Figure(figsize=(7.5, 3.4), dpi=110, layout="constrained")
        FigureCanvasAgg(figure)
        ax = figure.subplots()
        if empty:
            ax.set_axis_off()
            ax.text(
                0.5,
                0.5,
                "No data for this period and place",
                ha="center",
                va="center",
                color="#888888",
                fontsize=12,
            )
        else:
            draw(ax)
            ax.grid(axis="both", color="#eeeeee", linewidth=0.6)
            ax.set_axisbelow(True)
        svg, png = io.BytesIO(), io.BytesIO()
        figure.savefig(svg, format="svg")
        figure.savefig(png, format="png")
    text = svg.getvalue().decode("utf-8")
    return Chart(name=name, title=title, svg=text[text.index("<svg") :], png=png.getvalue(), empty=empty)
