"""Verbs that run the system: the whole embedded stack, a worker, the projections; and sample data."""

from __future__ import annotations

from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adapters.cli.options import Json
from adapters.cli.output import console, fail, print_json, table
from adapters.cli.runtime import allowed, run, store_system, system

if TYPE_CHECKING:
    from adapters.importing import ImportReport

app = typer.Typer()
PANEL = "Running"


def _serve(main: Coroutine[Any, Any, None]) -> None:
    """Run a server's coroutine until it ends (asyncio is imported here: the listings never need it)."""
    import asyncio

    asyncio.run(main)


@app.command(rich_help_panel=PANEL)
def up(
    embedded_temporal: Annotated[
        bool,
        typer.Option(
            "--embedded-temporal/--external-temporal",
            help="Start the dev server (default) or use MICRODEMAND_TEMPORAL_ADDRESS as it is.",
        ),
    ] = True,
) -> None:
    """Start the whole system in the foreground: Temporal dev server, worker, projections, HTTP API.

    On the embedded default it first creates what a first run needs (keys, an administrator).
    """
    from adapters.bootstrap import PACKAGES, write_bytecode
    from adapters.stack import run_stack

    write_bytecode(PACKAGES)  # the CLI calls beside it start from bytecode, as an installed package's
    _serve(run_stack(store_system(), embedded_temporal=embedded_temporal))


@app.command(rich_help_panel=PANEL)
def api() -> None:
    """Serve only the HTTP API and the web console (MICRODEMAND_API_HOST, _API_PORT), for a deployment
    whose workers and projections run apart."""
    from adapters.stack import run_api

    _serve(run_api(store_system()))


@app.command(rich_help_panel=PANEL)
def worker() -> None:
    """Run only a worker on the task queue (scale these out on a Temporal cluster)."""
    from adapters.stack import run_worker_only

    _serve(run_worker_only(store_system()))


@app.command(rich_help_panel=PANEL)
def projections() -> None:
    """Run only the projections that keep the read views up to date (one process per views database)."""
    from adapters.stack import run_projections

    _serve(run_projections(store_system()))


@app.command(rich_help_panel=PANEL)
def health(as_json: Json = False) -> None:
    """Whether the system is well: a worker polling the task queue, the event store, each projection
    running as the only writer of its view, and how far behind the store it is. Exit 1 if not."""
    from adapters.health import check_health

    report = run(check_health(system()))
    if as_json:
        print_json(report)
    else:
        console.print(
            table(
                "Health: " + ("well" if report.well else "NOT WELL"),
                ["part", "well", "detail"],
                ((p.name, "yes" if p.well else "NO", p.detail) for p in report.parts),
            )
        )
    if not report.well:
        raise typer.Exit(1)


@app.command(rich_help_panel=PANEL)
def seed(
    count: Annotated[
        int | None,
        typer.Option(min=1, max=1_000_000, help="How many sample demands (default 100; with --year 6,185)."),
    ] = None,
    closed: Annotated[float, typer.Option(min=0, max=1, help="Share taken around the whole loop.")] = 0.7,
    claimed: Annotated[float, typer.Option(min=0, max=1, help="Share claimed and left in hand.")] = 0.15,
    seed_value: Annotated[
        int, typer.Option("--seed", help="Random seed: the same seed, the same demands.")
    ] = 2026,
    year: Annotated[
        int | None,
        typer.Option(
            help="Instead, write a sample year as an import file (the Karamay mix: all claimed, 98.3% "
            "completed), marked as sample data; `microdemand import` brings it in."
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="With --year: the file to write.")] = None,
    as_json: Json = False,
) -> None:
    """Push sample demands through the real workflows (a demo or trial run), with a progress bar;
    or, with --year, write a sample year of past demands for `microdemand import`."""
    from rich.progress import Progress

    from adapters.seeding import KARAMAY_YEAR, SeedPlan, seed_demands, write_sample_year
    from engine.access import Act

    if year is not None:
        target = out or Path(f"sample-year-{year}.jsonl")
        written = write_sample_year(target, year, count or KARAMAY_YEAR[0], seed_value)
        if as_json:
            print_json({"file": str(target), "demands": written, "sample": True})
        else:
            console.print(f"wrote {written} sample demands of {year} to {target}; bring them in with "
                          f"`microdemand import {target}`")  # fmt: skip
        return
    allowed(Act.MANAGE)  # pushing demands into the live system is the administrator's
    total = count or 100
    if closed + claimed > 1:
        fail("--closed and --claimed together must not exceed 1", 2)
    plan = SeedPlan(count=total, closed_share=closed, claimed_share=claimed, seed=seed_value)

    async def go() -> dict[str, int]:
        client = await system().client()
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("seeding", total=total)
            return await seed_demands(client, plan, on_done=lambda: progress.advance(task))

    outcomes = run(go())
    if as_json:
        print_json(outcomes)
    else:
        console.print(table(f"Seeded {total} demands", ["outcome", "demands"], sorted(outcomes.items())))


@app.command("import", rich_help_panel=PANEL)
def import_(
    source: Annotated[Path, typer.Argument(help="JSON Lines: one past demand a line (see the README).")],
    as_json: Json = False,
) -> None:
    """Bring in demands from before (another platform's, or `seed --year`'s), with their own times.

    Each step is checked by the same rules as today's and the timers are worked out by the time-limit
    policy; demands that have ended go straight to the store, open ones are handed to their workflow
    (the stack must be running). Importing a file again changes nothing. Exit 1 if a line was refused.
    """
    from datetime import UTC, datetime

    from adapters.cli.output import progress_bar
    from adapters.importing import count_lines, import_file
    from engine.access import Act

    who = allowed(Act.MANAGE)  # bringing in history is the administrator's
    if not source.is_file():
        fail(f"cannot read {source}: no such file", 2)
    current = store_system()
    total = count_lines(source)

    async def go() -> ImportReport:
        with progress_bar(f"importing {source.name}") as advance:
            return await import_file(
                current, source, current.client, now=datetime.now(UTC),
                actor=f"{who.name} ({who.role.value}), imported",
                on_progress=lambda done: advance(done, total),
            )  # fmt: skip

    report = run(go())
    if as_json:
        print_json(report)
    else:
        counts = [
            ("stored (ended)", report.stored), ("started (open, handed to its workflow)", report.started),
            ("already there", report.unchanged), ("refused", len(report.refused)),
        ]  # fmt: skip
        title = f"Imported {source.name}: {report.lines} lines" + (
            f", {report.sample} of them sample data" if report.sample else ""
        )
        console.print(table(title, ["demands", "count"], counts))
        if report.refused:
            console.print(
                table("Refused lines", ["line", "demand", "why"],
                      ((r.line, r.demand_id, r.why) for r in report.refused[:50]))
            )  # fmt: skip
    if report.refused:
        raise typer.Exit(1)
