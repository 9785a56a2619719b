"""Verbs for operators: the ticket list, the overdue board, escalation (one or in bulk), transfer,
reassignment, extension, merge."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from adapters.cli.options import AsOf, DemandId, Json, Reason, ScopeOption
from adapters.cli.output import console, fail, lateness, print_json, span, table
from adapters.cli.runtime import (
    allowed,
    build,
    duration,
    identity,
    index_view_at,
    moment,
    places,
    run,
    send,
    services,
    store_system,
    system,
)
from engine.lifecycle import State, Step
from engine.vocabulary import Act, Priority

if TYPE_CHECKING:
    from projections.index.models import OverdueRow

app = typer.Typer()
PANEL = "Operators"

DueWithin = Annotated[str | None, typer.Option(help="Also show demands due within this time, e.g. 6h or 1d.")]


@app.command(rich_help_panel=PANEL)
def demands(
    state: Annotated[State | None, typer.Option(help="Only demands in this state.")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only demands still open.")] = False,
    scope_text: ScopeOption = None,
    priority: Annotated[Priority | None, typer.Option(help="Only this priority.")] = None,
    member: Annotated[
        str | None, typer.Option(help="Only demands this member holds, as the lead or a co-claimant.")
    ] = None,
    due: Annotated[
        str | None,
        typer.Option(
            help="Only open demands whose next deadline falls today, tomorrow, this week "
            "(`week`) or in a period (2026-03-01, 2026-03), local time; soonest first."
        ),
    ] = None,
    phone: Annotated[str | None, typer.Option(help="Only demands this phone number reported.")] = None,
    resident_name: Annotated[
        str | None, typer.Option(help="Only demands a resident of this name reported.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many rows.")] = 50,
    as_json: Json = False,
) -> None:
    """The ticket list: demands by state, place, priority, holder, deadline or resident; newest first.

    A resident is found by keyed hashes of the phone number and name they reported the demand with
    (a merged duplicate's reporter too), by those who may see residents' data; the index never
    holds the number or the name itself.
    """
    current = store_system()
    keys: list[str] = []
    if phone is not None or resident_name is not None:
        allowed(Act.REVEAL)  # those who may see residents' data may find their demands by it
        lookup = current.resident_lookup
        for key in (lookup.phone(phone or ""), lookup.name(resident_name or "")):
            if key is not None:
                keys.append(key)
        if not keys:
            fail("give a phone number with digits, or a name", 2)
    window = due_window(due) if due is not None else None
    with current.index_view() as index:
        rows = index.list_demands(
            state=state, open_only=open_only or window is not None, scope=places(Act.READ, scope_text),
            priority=priority, holder=member, keys=tuple(keys), due=window, limit=limit,
        )  # fmt: skip
    if as_json:
        print_json(rows)
        return
    console.print(
        table(
            f"Demands ({len(rows)}{'+' if len(rows) == limit else ''})" + (f", due {due}" if due else ""),
            ["demand", "title", "state", "priority", "community", "rung", "held by", "next due", "collected"],
            (
                (
                    r.demand_id,
                    r.title,
                    r.state.value,
                    r.priority.value,
                    r.community,
                    r.level.value,
                    r.claimant_member,
                    r.next_due_at,
                    r.collected_at,
                )
                for r in rows
            ),
        )
    )


def due_window(text: str) -> tuple[datetime, datetime]:
    """`today`, `tomorrow`, `week` or a period as [from, until) in local time; a bad one is one line."""
    from engine.periods import Period

    zone = system().local_zone
    try:
        return Period.due(text, datetime.now(zone).date()).window(zone)
    except ValueError as error:
        fail(str(error), 2)


@app.command(rich_help_panel=PANEL)
def rejected(
    demand_id: Annotated[str | None, typer.Option("--demand", help="Only this demand's.")] = None,
    since: Annotated[str | None, typer.Option(help="Only those of the last 2h, 1d, 1w ...")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many rows.")] = 50,
    as_json: Json = False,
) -> None:
    """Pushes and signals the workflows could not take: bad payloads, amendments after a claim,
    commands a demand's state refused. The reason only; never the payload."""
    allowed(Act.FIGURES)
    window = duration(since)
    with store_system().index_view() as index:
        rows = index.rejections(
            demand_id=demand_id, since=datetime.now(UTC) - window if window else None, limit=limit
        )
    if as_json:
        print_json(rows)
        return
    console.print(
        table(
            f"Rejected messages ({len(rows)}{'+' if len(rows) == limit else ''})",
            ["when", "demand", "message", "why"],
            ((r.at, r.demand_id, r.message, r.reason) for r in rows),
        )
    )


@app.command(rich_help_panel=PANEL)
def overdue(
    scope_text: ScopeOption = None,
    priority: Annotated[Priority | None, typer.Option(help="Only this priority.")] = None,
    due_within: DueWithin = None,
    as_of_text: AsOf = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Rows in the page.")] = 50,
    offset: Annotated[
        int, typer.Option(min=0, max=10_000_000, help="Rows of the board before the page.")
    ] = 0,
    as_json: Json = False,
) -> None:
    """Open demands past (or near) their promise, most overdue first (with --as-of: the board then),
    a page of --limit rows (50) at a time: --offset 50 shows the next.

    Overdue is past the promise (the 2310 limit from collection, extended if it was): a demand
    stays on the board, whatever rung the escalations took it to, until it ends.
    """
    at = moment(as_of_text) if as_of_text is not None else None
    with index_view_at(at) as index:
        rows = index.overdue(
            now=at or datetime.now(UTC),
            due_within=duration(due_within),
            scope=places(Act.FIGURES, scope_text),
            priority=priority,
            limit=limit + 1,
            offset=offset,
        )
    more, rows = len(rows) > limit, rows[:limit]
    if as_json:
        print_json(rows)
        return
    columns = ["demand", "title", "priority", "state", "rung", "responsible", "promised by", "limit",
               "late by", "escalations"]  # fmt: skip
    shown = str(len(rows))
    if (offset or more) and rows:
        shown = f"{offset + 1} to {offset + len(rows)}" if len(rows) > 1 else f"{offset + 1}"
    if more:
        console.print(f"[dim]more on the board: --offset {offset + limit}[/dim]")
    console.print(
        table(
            f"Overdue demands ({shown})" + (f", as of {as_of_text}" if as_of_text else ""),
            columns,
            (
                (
                    r.demand_id,
                    r.title,
                    r.priority.value,
                    r.state.value,
                    r.level.value,
                    r.responsible_unit,
                    r.promised_by,
                    span(r.limit),
                    lateness(r.overdue_by),
                    r.escalations,
                )
                for r in rows
            ),
        )
    )


@app.command(rich_help_panel=PANEL)
def escalate(
    demand_id: Annotated[str | None, typer.Argument(help="The demand to escalate.")] = None,
    reason: Annotated[str, typer.Option(help="Why (recorded: 督查问责).")] = "",
    all_overdue: Annotated[
        bool, typer.Option("--all-overdue", help="Escalate every overdue demand.")
    ] = False,
    scope_text: ScopeOption = None,
    priority: Annotated[Priority | None, typer.Option(help="With --all-overdue: only this priority.")] = None,
    due_within: DueWithin = None,
    as_json: Json = False,
) -> None:
    """Move a demand one level up the ladder, or every overdue one in a scope (with a summary)."""
    from rich.progress import Progress

    from engine.commands import Escalate

    if not reason:
        fail("--reason is required: escalations are recorded with who and why", 2)
    command = build(Escalate, by=identity().name, reason=reason)
    if not all_overdue:
        if demand_id is None:
            fail("name a demand, or use --all-overdue", 2)
        send(demand_id, command, as_json)
        return
    now, within, scope = datetime.now(UTC), duration(due_within), places(Step.ESCALATE, scope_text)
    rows: list[OverdueRow] = []
    with store_system().index_view() as index:
        while True:  # the whole board, a page at a time
            page = index.overdue(now, within, scope, priority, limit=1_000, offset=len(rows))
            rows += page
            if len(page) < 1_000:
                break

    async def go() -> dict[str, str]:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("escalating", total=len(rows))
            return await services().command_many(
                identity(), [r.demand_id for r in rows], command,
                on_done=lambda _id, _outcome: progress.advance(task),
            )  # fmt: skip

    results = run(go())
    escalated = [d for d, outcome in results.items() if outcome == "ok"]
    refused = {d: o for d, o in results.items() if o != "ok"}
    if as_json:
        print_json({"escalated": escalated, "refused": refused})
    else:
        console.print(f"escalated {len(escalated)} of {len(rows)} overdue demands")
        if refused:
            console.print(table("Not escalated", ["demand", "why"], refused.items()))
    if rows and not escalated:
        raise typer.Exit(1)  # every one was refused: a script must not read that as success


@app.command(rich_help_panel=PANEL)
def transfer(
    demand_id: DemandId,
    to_unit: Annotated[str, typer.Option(help="The unit or department that takes it over.")],
    reason: Reason,
    as_json: Json = False,
) -> None:
    """Hand a difficult demand to another unit or department (转办)."""
    from engine.commands import Transfer

    send(demand_id, build(Transfer, by=identity().name, to_unit=to_unit, reason=reason), as_json)


@app.command(rich_help_panel=PANEL)
def reassign(
    demand_id: DemandId,
    member: Annotated[str, typer.Option(help="The member who takes it over.")],
    unit: Annotated[str, typer.Option(help="That member's unit.")],
    reason: Reason,
    as_json: Json = False,
) -> None:
    """Give a claimed demand to another member."""
    from engine.commands import Reassign

    send(demand_id, build(Reassign, by=identity().name, member=member, unit=unit, reason=reason), as_json)


@app.command(rich_help_panel=PANEL)
def extend(
    demand_id: DemandId,
    by: Annotated[str, typer.Option("--by", help="How much longer, e.g. 12h or 1d.")],
    reason: Reason,
    as_json: Json = False,
) -> None:
    """Move the current deadline later, with a reason."""
    from engine.commands import Extend

    send(demand_id, build(Extend, by=identity().name, extra=duration(by), reason=reason), as_json)


@app.command(rich_help_panel=PANEL)
def merge(
    demand_id: Annotated[str, typer.Argument(help="The duplicate, which closes as merged.")],
    into: Annotated[str, typer.Option(help="The original demand, which gains the duplicate's reporter.")],
    reason: str = "duplicate",
    as_json: Json = False,
) -> None:
    """Close a duplicate into its original; both histories stay, both residents get the feedback."""
    from engine.commands import Merge

    send(demand_id, build(Merge, by=identity().name, into=into, reason=reason), as_json)
