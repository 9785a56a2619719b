"""What the CLI prints: one-line errors, tables (escaped, figures whole), JSON for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from engine.status import DemandStatus

console = Console(width=None if sys.stdout.isatty() else 160)  # piped: wide, not cut to 80
err_console = Console(stderr=True)


class _LocalTime:
    """The zone every table shows times in, and its label (set once per run from the settings)."""

    zone: tzinfo = UTC
    label: str = "UTC"


def use_local_time(zone: tzinfo, label: str) -> None:
    """Show every table's times in `zone`, labelled `label` once per table."""
    _LocalTime.zone, _LocalTime.label = zone, label


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one red line to stderr and exit with `code`: user mistakes get no stack trace."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    """Machine-readable output for scripts."""
    from pydantic import BaseModel

    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    elif isinstance(data, list):
        data = [d.model_dump(mode="json") if isinstance(d, BaseModel) else d for d in data]
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def cell(value: Any) -> str:
    """A table cell's text: times to the minute in local time, None as a dash, control characters
    shown. Tables take it as plain text (`Text`), never as markup: residents' text may hold
    [brackets] rich would otherwise eat, and a cell not parsed is a quarter cheaper to draw."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(_LocalTime.zone).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:g}"
    return printable(str(value))


def printable(text: str) -> str:
    """Text with control characters (ESC sequences, NUL) shown as `\\xNN`, never acted on by a terminal."""
    return "".join(ch if ch.isprintable() or ch == " " else f"\\x{ord(ch):02x}" for ch in text)


def percent(value: float | None) -> str:
    """A rate as a percentage with one decimal, or a dash where there is no denominator."""
    return "-" if value is None else f"{value:.1%}"


def lateness(overdue_by: timedelta) -> str:
    """How late a demand is ("3h20m"), or how long it has left ("due in 2h")."""
    from engine.durations import format_duration

    if overdue_by >= timedelta(0):
        return format_duration(overdue_by)
    return f"due in {format_duration(-overdue_by)}"


def span(value: timedelta | None) -> str | None:
    """A length of time, compactly ("2d", "1d4h"), or None."""
    from engine.durations import format_duration

    return format_duration(value) if value is not None else None


def local(value: datetime | None, zone: tzinfo) -> datetime | None:
    """A time in local time (the zone is said once, in the column or title, not on every value)."""
    return value.astimezone(zone) if value is not None else None


@contextmanager
def progress_bars(description: str) -> Iterator[Callable[[str, int, int], None]]:
    """Transient progress bars on stderr, one per part of the work; yields `advance(part, done, total)`."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, transient=True,
    ) as progress:  # fmt: skip
        tasks: dict[str, Any] = {}

        def advance(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(f"{description} {name}".strip(), total=None)
            progress.update(tasks[name], completed=done, total=max(total, done) or None)

        yield advance


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """One transient progress bar on stderr for long work; yields `advance(done, total)`."""
    with progress_bars(description) as advance:
        yield lambda done, total: advance("", done, total)


def _is_figure(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) or (
        isinstance(value, str) and (value == "-" or value.endswith("%"))
    )


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A rich table: figures right-aligned and never broken, words (ids, states, names) whole, text
    wrapped rather than cut; times in local time, the zone said once in the title."""
    materialised = [list(row) for row in rows]
    if any(isinstance(v, datetime) for row in materialised for v in row):
        title = f"{title} · times {_LocalTime.label}" if title else f"times {_LocalTime.label}"
    result = Table(
        title=escape(title), title_justify="left", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False
    )
    texts = [[cell(v) for v in row] for row in materialised]
    for index, column in enumerate(columns):
        cells = [row[index] for row in texts]
        figures = bool(materialised) and all(_is_figure(row[index]) for row in materialised)
        if figures:
            result.add_column(column, justify="right", no_wrap=True)
        elif all(  # ids, words and times: never broken in the middle
            isinstance(row[index], datetime) or (" " not in c and len(c) <= 60)
            for row, c in zip(materialised, cells, strict=True)
        ):
            result.add_column(column, no_wrap=True, min_width=max([len(column), *map(len, cells)]))
        else:  # let long text (titles, notes) wrap
            widest = max([len(column), *map(len, cells)])
            result.add_column(column, overflow="fold", min_width=min(widest, 12))
    for row_texts in texts:
        result.add_row(*map(Text, row_texts))
    return result


def show_status(status: DemandStatus, as_json: bool) -> None:
    """Print a demand's status as a two-column table, or as JSON."""
    if as_json:
        print_json(status)
        return
    clock, holder, promise = status.clock, status.claimant, status.promise
    where = status.location
    rows = [
        ("demand", status.demand_id),
        ("state", status.state.value),
        ("title", status.title),
        ("priority", status.priority.value),
        ("community / grid", f"{where.community} / {where.grid}" if where else None),
        ("rung", status.level.value),
        ("responsible unit", status.responsible_unit),
        ("held by", f"{', '.join(holder.members)} ({holder.unit})" if holder else None),
        ("promised by", promise.due_at if promise else None),
        ("late", "yes: past the promise" if status.late else "no"),
        ("waiting for", clock.stage.value if clock else None),
        ("warn at", clock.warn_at if clock else None),
        ("step due at", clock.due_at if clock else None),
        ("escalations", status.escalations),
        ("reopened", status.reopened),
        ("rating", status.rating.value if status.rating else None),
        ("outcome", status.outcome.value if status.outcome else None),
        ("version", status.version),
    ]
    console.print(table(f"Demand {status.demand_id}", ["field", "value"], rows))
