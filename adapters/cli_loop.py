"""CLI verbs that take a demand around the closed loop: submit, claim, handle, follow up, evaluate."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import BaseModel, TypeAdapter, ValidationError
from rich.progress import Progress

from adapters.console import console, err_console, fail, print_json, run, settings, store_settings, table
from adapters.demands_client import CommandRefusedError, DemandNotFoundError, DemandsClient
from adapters.seeding import SeedPlan, seed_demands
from adapters.temporal import connect
from engine import commands as c
from engine.application import Demands
from engine.status import DemandStatus
from engine.vocabulary import Rating, field_errors

M = TypeVar("M", bound=BaseModel)
Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]
DemandId = Annotated[str, typer.Argument(help="The demand id, e.g. demand-wechat-1024.")]


async def _client() -> DemandsClient:
    return DemandsClient(await connect(settings()), settings())


def send(
    demand_id: str,
    update: str,
    payload: BaseModel | Callable[[DemandStatus], BaseModel],
    as_json: bool,
) -> None:
    """Send one update and show the demand's new status (or a one-line refusal).

    `payload` may be built from the demand's current status (its holder, say), on one connection.
    """

    async def go() -> DemandStatus:
        client = await _client()
        try:
            if not isinstance(payload, BaseModel):
                return await client.command(demand_id, update, payload(await client.status(demand_id)))
            return await client.command(demand_id, update, payload)
        except DemandNotFoundError:  # Temporal forgot it; the store says whether it ever was
            stored = await asyncio.to_thread(stored_status, demand_id)
            step = update.replace("_", "-")
            raise CommandRefusedError(
                f"demand {demand_id} is {stored.state.value}: cannot {step}, its loop has ended"
            ) from None

    show_status(run(go()), as_json)


def build(model: type[M], **fields: object) -> M:
    """Validate CLI input into a payload; a bad value is a one-line error naming the field."""
    try:
        return model(**{k: v for k, v in fields.items() if v is not None})
    except ValidationError as error:
        fail(field_errors(error), 2)


def show_status(status: DemandStatus, as_json: bool) -> None:
    """Print a demand's status as a two-column table, or as JSON."""
    if as_json:
        print_json(status)
        return
    clock = status.clock
    holder = status.claimant
    rows = [
        ("demand", status.demand_id),
        ("state", status.state.value),
        ("title", status.title),
        ("priority", status.priority.value),
        (
            "community / grid",
            f"{status.location.community} / {status.location.grid}" if status.location else None,
        ),
        ("level", status.level.value),
        ("responsible unit", status.responsible_unit),
        ("held by", f"{', '.join(holder.members)} ({holder.unit})" if holder else None),
        ("waiting for", clock.stage.value if clock else None),
        ("warn at", clock.warn_at if clock else None),
        ("due at", clock.due_at if clock else None),
        ("overdue", "yes" if status.overdue else "no"),
        ("escalations", status.escalations),
        ("reopened", status.reopened),
        ("rating", status.rating.value if status.rating else None),
        ("outcome", status.outcome),
        ("version", status.version),
    ]
    console.print(table(f"Demand {status.demand_id}", ["field", "value"], rows))


def register(app: typer.Typer) -> None:
    """Add the loop's verbs to the CLI."""

    @app.command()
    def submit(
        source: Annotated[Path, typer.Argument(help="JSON file with one demand or a list; - for stdin.")],
        as_json: Json = False,
    ) -> None:
        """Push demands as the upstream platform does (signal-with-start). Pushing again is a no-op."""
        text = sys.stdin.read() if str(source) == "-" else _read(source)
        try:
            raw = json.loads(text)
            submissions = TypeAdapter(list[c.Submission]).validate_python(
                raw if isinstance(raw, list) else [raw]
            )
        except json.JSONDecodeError as error:
            fail(f"{source} is not JSON: {error}", 2)
        except ValidationError as error:
            fail(f"{source}: {field_errors(error)}", 2)

        async def go() -> list[str]:
            client = await _client()
            return [await client.submit(s) for s in submissions]

        ids = run(go())
        if as_json:
            print_json(ids)
        else:
            for demand_id in ids:
                console.print(f"submitted [bold]{demand_id}[/]")

    @app.command()
    def dispatch(
        demand_id: DemandId,
        to: Annotated[str, typer.Option(help="The post, group or member it is offered to.")],
        actor: Annotated[str, typer.Option("--as", help="Who dispatches.")] = "community",
        note: str = "",
        as_json: Json = False,
    ) -> None:
        """The community offers a demand to a post, group or member (派单)."""
        send(demand_id, "dispatch", build(c.Dispatch, by=actor, to=to, note=note), as_json)

    @app.command()
    def claim(
        demand_id: DemandId,
        member: Annotated[str, typer.Option(help="The member who takes it.")],
        unit: Annotated[str, typer.Option(help="The member's unit (for dual points).")],
        co: Annotated[list[str] | None, typer.Option(help="A co-claimant of a group claim; repeat.")] = None,
        as_json: Json = False,
    ) -> None:
        """A member (and co-claimants) take a demand (认领)."""
        payload = build(c.Claim, member=member, unit=unit, co_claimants=tuple(co or ()))
        send(demand_id, "claim", payload, as_json)

    @app.command()
    def release(
        demand_id: DemandId,
        member: Annotated[str, typer.Option(help="The member who gives it back.")],
        reason: Annotated[str, typer.Option(help="Why.")],
        as_json: Json = False,
    ) -> None:
        """The claimant gives a claimed demand back."""
        send(demand_id, "release", build(c.Release, member=member, reason=reason), as_json)

    @app.command()
    def handle(
        demand_id: DemandId,
        hours: Annotated[float, typer.Option(help="Hours of service spent.")],
        note: str = "",
        member: Annotated[str | None, typer.Option(help="Who did it (default: the claimant).")] = None,
        evidence: Annotated[
            list[str] | None, typer.Option(help="A photo or document reference; repeat.")
        ] = None,
        as_json: Json = False,
    ) -> None:
        """The claimant reports the demand done (办理/落实)."""

        def done_by(holder: str) -> c.Handle:
            return build(c.Handle, member=holder, hours=hours, note=note, evidence=tuple(evidence or ()))

        def by_the_claimant(current: DemandStatus) -> c.Handle:
            return done_by(current.claimant.member if current.claimant else "-")

        send(demand_id, "handle", done_by(member) if member else by_the_claimant, as_json)

    @app.command("follow-up")
    def follow_up(
        demand_id: DemandId,
        resolved: Annotated[bool, typer.Option("--resolved/--unresolved", help="Is it really resolved?")],
        note: str = "",
        worker: Annotated[str, typer.Option(help="The community worker who followed up.")] = "community",
        as_json: Json = False,
    ) -> None:
        """The community checks with the resident (跟踪回访); unresolved reopens it."""
        send(demand_id, "follow_up", build(c.FollowUp, worker=worker, resolved=resolved, note=note), as_json)

    @app.command()
    def evaluate(
        demand_id: DemandId,
        rating: Annotated[Rating, typer.Argument(help="satisfied, basically_satisfied or unsatisfied.")],
        comment: str = "",
        actor: Annotated[
            str, typer.Option("--as", help="Who rates (an operator may for the resident).")
        ] = "resident",
        as_json: Json = False,
    ) -> None:
        """The resident rates it; satisfied closes it, unsatisfied reopens it."""
        send(demand_id, "evaluate", build(c.Evaluate, rating=rating, comment=comment, by=actor), as_json)

    @app.command()
    def withdraw(
        demand_id: DemandId,
        reason: Annotated[str, typer.Option(help="Why the resident withdraws it.")],
        actor: Annotated[str, typer.Option("--as", help="Who withdraws.")] = "resident",
        as_json: Json = False,
    ) -> None:
        """The resident withdraws a demand."""
        send(demand_id, "withdraw", build(c.Withdraw, by=actor, reason=reason), as_json)

    @app.command()
    def commend(
        demand_id: DemandId,
        note: str = "",
        actor: Annotated[str, typer.Option("--as", help="Who commends.")] = "resident",
        as_json: Json = False,
    ) -> None:
        """Praise good work (反馈表扬); it earns the claimants points."""
        send(demand_id, "commend", build(c.Commend, by=actor, note=note), as_json)

    @app.command()
    def seed(
        count: Annotated[
            int, typer.Option(min=1, max=100_000, help="How many sample demands to push.")
        ] = 100,
        closed: Annotated[float, typer.Option(min=0, max=1, help="Share taken around the whole loop.")] = 0.7,
        claimed: Annotated[float, typer.Option(min=0, max=1, help="Share claimed and left in hand.")] = 0.15,
        seed_value: Annotated[
            int, typer.Option("--seed", help="Random seed: the same seed, the same demands.")
        ] = 2026,
        as_json: Json = False,
    ) -> None:
        """Push sample demands through the real workflows (a demo or trial run), with a progress bar."""
        if closed + claimed > 1:
            fail("--closed and --claimed together must not exceed 1", 2)
        plan = SeedPlan(count=count, closed_share=closed, claimed_share=claimed, seed=seed_value)

        async def go() -> dict[str, int]:
            client = await _client()
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("seeding", total=count)
                return await seed_demands(client, plan, on_done=lambda: progress.advance(task))

        outcomes = run(go())
        if as_json:
            print_json(outcomes)
        else:
            console.print(table(f"Seeded {count} demands", ["outcome", "demands"], sorted(outcomes.items())))

    @app.command()
    def status(demand_id: DemandId, as_json: Json = False) -> None:
        """A demand's current state, who holds it, its level and deadlines (the workflow's query)."""
        current = run(_status(demand_id))
        show_status(current, as_json)
        if not as_json and current.clock and current.state.is_open:
            alarm = current.next_alarm()
            if alarm:
                console.print(f"next: {alarm.step.value.replace('_', ' ')} at {alarm.at:%Y-%m-%d %H:%M} UTC")


async def _status(demand_id: str) -> DemandStatus:
    """The workflow's status query; the event store's, once the workflow's history has expired."""
    try:
        return await (await _client()).status(demand_id)
    except DemandNotFoundError:
        stored = await asyncio.to_thread(stored_status, demand_id)
        err_console.print(
            f"(from the event store: the workflow of {demand_id} is no longer kept by Temporal)"
        )
        return stored


def stored_status(demand_id: str) -> DemandStatus:
    """A demand's status rebuilt from its events (engine DemandNotFoundError if never collected)."""
    store = Demands(env=store_settings().store_env(), limits=settings().time_limits)
    try:
        return store.status(demand_id)
    finally:
        store.close()


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {path}: {error}", 2)
