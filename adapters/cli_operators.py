"""CLI verbs for operators: the overdue board, escalation (one or in bulk), transfer, extension."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.progress import Progress

from adapters.cli_loop import DemandId, Json, _client, build, send
from adapters.console import console, fail, print_json, run, store_settings, table
from engine import commands as c
from engine.timelimits import format_duration, parse_duration
from engine.vocabulary import Level, Priority
from projections.runner import open_index_view

Actor = Annotated[str, typer.Option("--as", help="The operator acting (recorded for accountability).")]
Scope = Annotated[
    str | None,
    typer.Option(help="Limit to one place: grid:G, community:C, street:S, district:D or city:X."),
]


def parse_scope(scope: str | None) -> tuple[str, str] | None:
    """Parse `community:Xinhua` into ("community", "Xinhua")."""
    if scope is None:
        return None
    level, _, name = scope.partition(":")
    if level not in {"grid", *(lv.value for lv in Level)} or not name:
        fail(f"bad scope {scope!r}: use grid:G, community:C, street:S, district:D or city:X", 2)
    return level, name


def lateness(overdue_by: timedelta) -> str:
    """How late a demand is ("3h20m"), or how long it has left ("due in 2h")."""
    return (
        format_duration(overdue_by)
        if overdue_by >= timedelta(0)
        else f"due in {format_duration(-overdue_by)}"
    )


def _duration(text: str | None) -> timedelta | None:
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as error:
        fail(str(error), 2)


def register(app: typer.Typer) -> None:
    """Add the operators' verbs to the CLI."""

    @app.command()
    def overdue(
        scope: Scope = None,
        priority: Annotated[Priority | None, typer.Option(help="Only this priority.")] = None,
        due_within: Annotated[
            str | None, typer.Option(help="Also show demands due within this time, e.g. 6h or 1d.")
        ] = None,
        as_json: Json = False,
    ) -> None:
        """Open demands past (or near) their deadline, most overdue first."""
        view = open_index_view(store_settings())
        rows = view.overdue(
            now=datetime.now(UTC),
            due_within=_duration(due_within),
            scope=parse_scope(scope),
            priority=priority,
        )
        if as_json:
            print_json(rows)
            return
        console.print(
            table(
                f"Overdue demands ({len(rows)})",
                [
                    "demand",
                    "title",
                    "priority",
                    "state",
                    "waiting for",
                    "level",
                    "responsible",
                    "due",
                    "late by",
                    "escalations",
                ],
                (
                    (
                        r.demand_id,
                        r.title,
                        r.priority.value,
                        r.state.value,
                        r.stage.value if r.stage else None,
                        r.level.value,
                        r.responsible_unit,
                        r.due_at,
                        lateness(r.overdue_by),
                        r.escalations,
                    )
                    for r in rows
                ),
            )
        )

    @app.command()
    def escalate(
        demand_id: Annotated[str | None, typer.Argument(help="The demand to escalate.")] = None,
        reason: Annotated[str, typer.Option(help="Why (recorded: 督查问责).")] = "",
        all_overdue: Annotated[
            bool, typer.Option("--all-overdue", help="Escalate every overdue demand.")
        ] = False,
        scope: Scope = None,
        priority: Annotated[
            Priority | None, typer.Option(help="With --all-overdue: only this priority.")
        ] = None,
        due_within: Annotated[
            str | None, typer.Option(help="With --all-overdue: also those due within this time, e.g. 6h.")
        ] = None,
        actor: Actor = "operator",
        as_json: Json = False,
    ) -> None:
        """Move a demand one level up the ladder, or every overdue one in a scope (with a summary)."""
        if not reason:
            fail("--reason is required: escalations are recorded with who and why", 2)
        payload = build(c.Escalate, by=actor, reason=reason)
        if not all_overdue:
            if demand_id is None:
                fail("name a demand, or use --all-overdue", 2)
            send(demand_id, "escalate", payload, as_json)
            return
        rows = open_index_view(store_settings()).overdue(
            now=datetime.now(UTC),
            due_within=_duration(due_within),
            scope=parse_scope(scope),
            priority=priority,
        )
        results = run(_escalate_all([r.demand_id for r in rows], payload))
        escalated = [d for d, outcome in results.items() if outcome == "ok"]
        refused = {d: o for d, o in results.items() if o != "ok"}
        if as_json:
            print_json({"escalated": escalated, "refused": refused})
            return
        console.print(f"escalated {len(escalated)} of {len(rows)} overdue demands")
        if refused:
            console.print(table("Not escalated", ["demand", "why"], refused.items()))

    @app.command()
    def transfer(
        demand_id: DemandId,
        to_unit: Annotated[str, typer.Option(help="The unit or department that takes it over.")],
        reason: Annotated[str, typer.Option(help="Why (recorded).")],
        actor: Actor = "operator",
        as_json: Json = False,
    ) -> None:
        """Hand a difficult demand to another unit or department (转办)."""
        send(demand_id, "transfer", build(c.Transfer, by=actor, to_unit=to_unit, reason=reason), as_json)

    @app.command()
    def reassign(
        demand_id: DemandId,
        member: Annotated[str, typer.Option(help="The member who takes it over.")],
        unit: Annotated[str, typer.Option(help="That member's unit.")],
        reason: Annotated[str, typer.Option(help="Why (recorded).")],
        actor: Actor = "operator",
        as_json: Json = False,
    ) -> None:
        """Give a claimed demand to another member."""
        payload = build(c.Reassign, by=actor, member=member, unit=unit, reason=reason)
        send(demand_id, "reassign", payload, as_json)

    @app.command()
    def extend(
        demand_id: DemandId,
        by: Annotated[str, typer.Option("--by", help="How much longer, e.g. 12h or 1d.")],
        reason: Annotated[str, typer.Option(help="Why (recorded).")],
        actor: Actor = "operator",
        as_json: Json = False,
    ) -> None:
        """Move the current deadline later, with a reason."""
        send(demand_id, "extend", build(c.Extend, by=actor, extra=_duration(by), reason=reason), as_json)

    @app.command()
    def merge(
        demand_id: Annotated[str, typer.Argument(help="The duplicate, which closes as merged.")],
        into: Annotated[str, typer.Option(help="The original demand, which gains the duplicate's reporter.")],
        reason: str = "duplicate",
        actor: Actor = "operator",
        as_json: Json = False,
    ) -> None:
        """Close a duplicate into its original; both histories stay, both residents get the feedback."""
        send(demand_id, "merge", build(c.Merge, by=actor, into=into, reason=reason), as_json)


async def _escalate_all(demand_ids: list[str], payload: c.Escalate) -> dict[str, str]:
    client = await _client()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("escalating", total=len(demand_ids))
        return await client.command_many(
            demand_ids, "escalate", payload, on_done=lambda _id, _outcome: progress.advance(task)
        )
