"""`export` (events or view rows as JSON Lines, CSV or Parquet) and `report` (one HTML page, PNGs beside)."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from adapters.cli.options import Reveal, ScopeOption, Why
from adapters.cli.output import console, err_console, fail, progress_bar
from adapters.cli.runtime import identity, period, places, run, services, store_system
from adapters.datasets import Dataset, Format

app = typer.Typer()
PANEL = "Analysts"


@app.command(rich_help_panel=PANEL)
def export(
    dataset: Annotated[
        Dataset,
        typer.Argument(
            help="events (the store's), index (one row per demand) or points (the ledger's entries)."
        ),
    ],
    fmt: Annotated[Format, typer.Option("--format", help="jsonl, csv or parquet.")] = Format.JSONL,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="The file to write; default: standard output (not for parquet)."),
    ] = None,
    period_text: Annotated[
        str | None,
        typer.Option(
            "--period",
            help="events: that happened in it; index: demands collected in it; points: written on its days.",
        ),
    ] = None,
    scope_text: ScopeOption = None,
    reveal: Reveal = False,
    why: Why = "",
) -> None:
    """Stream events or view rows to a file, in constant memory however many there are.

    Residents' names, phones and addresses are left out unless --reveal is given. An event's row
    holds its position, id, version, name, topic, time and its whole stored state (`data`), so it
    can be read back into the very event.
    """
    from adapters.export import export as write

    if out is None and fmt is Format.PARQUET:
        fail("Parquet is written to a file: give --out", 2)
    from engine.access import Act

    chosen_period = period(period_text) if period_text else None
    chosen_scope = places(Act.FIGURES, scope_text)
    if reveal:  # an allowed role only, and the reveal is recorded before anything is written
        run(services().reveal_many(identity(), f"export of {dataset.value}", why))
    with ExitStack() as stack:
        sink = stack.enter_context(out.open("wb")) if out is not None else sys.stdout.buffer
        advance = stack.enter_context(progress_bar(f"exporting {dataset.value}"))
        written = write(
            store_system(), dataset, fmt, sink, period=chosen_period, scope=chosen_scope, reveal=reveal,
            on_progress=advance,
        )  # fmt: skip
    if out is not None:
        console.print(f"wrote {written} {dataset.value} rows to {out}")
    else:
        err_console.print(f"wrote {written} {dataset.value} rows")


@app.command(rich_help_panel=PANEL)
def report(
    period_text: Annotated[str, typer.Option("--period", help="2026, 2026-Q3, 2026-10 or a range A..B.")],
    scope_text: ScopeOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="The HTML file; default: report-<period>[-<place>].html here."),
    ] = None,
) -> None:
    """One self-contained HTML page of a period and place, with PNG charts beside it.

    Rates over time by community, on time and overdue, escalations by rung, the slowest
    categories, the top members and units, the time bank. Charts are drawn here and inlined:
    the page fetches nothing when it is opened, so it can be mailed and opened offline.
    """
    from adapters.report import build_report
    from engine.access import Act

    chosen_period, chosen_scope = period(period_text), places(Act.FIGURES, scope_text)
    if out is None:
        place = "".join(f"-{s.place}-{s.name}" for s in chosen_scope)
        out = Path(f"report-{chosen_period.label}{place}.html".replace("/", "-").replace(" ", "_"))
    with console.status("drawing the report"):
        written = build_report(store_system(), chosen_period, chosen_scope, now=datetime.now(UTC)).write(out)
    console.print(f"wrote {written[0]} and {len(written) - 1} PNG charts beside it")
