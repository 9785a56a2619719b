"""Verbs that run the system: the whole embedded stack, a worker, the projections; and sample data."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from adapters.cli.options import Json
from adapters.cli.output import console, fail, print_json, table
from adapters.cli.runtime import allowed, run, store_system, system

app = typer.Typer()
PANEL = "Running"


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
    from adapters.stack import run_stack

    asyncio.run(run_stack(store_system(), embedded_temporal=embedded_temporal))


@app.command(rich_help_panel=PANEL)
def api() -> None:
    """Serve only the HTTP API and the web console (MICRODEMAND_API_HOST, _API_PORT), for a deployment
    whose workers and projections run apart."""
    from adapters.stack import run_api

    asyncio.run(run_api(store_system()))


@app.command(rich_help_panel=PANEL)
def worker() -> None:
    """Run only a worker on the task queue (scale these out on a Temporal cluster)."""
    from adapters.stack import run_worker_only

    asyncio.run(run_worker_only(store_system()))


@app.command(rich_help_panel=PANEL)
def projections() -> None:
    """Run only the projections that keep the read views up to date (one process per views database)."""
    from adapters.stack import run_projections

    asyncio.run(run_projections(store_system()))


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
    count: Annotated[int, typer.Option(min=1, max=100_000, help="How many sample demands to push.")] = 100,
    closed: Annotated[float, typer.Option(min=0, max=1, help="Share taken around the whole loop.")] = 0.7,
    claimed: Annotated[float, typer.Option(min=0, max=1, help="Share claimed and left in hand.")] = 0.15,
    seed_value: Annotated[
        int, typer.Option("--seed", help="Random seed: the same seed, the same demands.")
    ] = 2026,
    as_json: Json = False,
) -> None:
    """Push sample demands through the real workflows (a demo or trial run), with a progress bar."""
    from rich.progress import Progress

    from engine.access import Act

    allowed(Act.MANAGE)
    from adapters.seeding import SeedPlan, seed_demands

    if closed + claimed > 1:
        fail("--closed and --claimed together must not exceed 1", 2)
    plan = SeedPlan(count=count, closed_share=closed, claimed_share=claimed, seed=seed_value)

    async def go() -> dict[str, int]:
        client = await system().client()
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("seeding", total=count)
            return await seed_demands(client, plan, on_done=lambda: progress.advance(task))

    outcomes = run(go())
    if as_json:
        print_json(outcomes)
    else:
        console.print(table(f"Seeded {count} demands", ["outcome", "demands"], sorted(outcomes.items())))
