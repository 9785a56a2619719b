"""Verbs that take a demand around the closed loop: submit, claim, handle, follow up, evaluate, status."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from adapters.cli.options import DemandId, Json
from adapters.cli.output import console, fail, print_json, show_status
from adapters.cli.runtime import build, identity, run, send, services, system
from engine.vocabulary import Rating

if TYPE_CHECKING:
    from engine.status import DemandStatus

app = typer.Typer()
PANEL = "The loop"


@app.command(rich_help_panel=PANEL)
def submit(
    source: Annotated[Path, typer.Argument(help="JSON file with one demand or a list; - for stdin.")],
    as_json: Json = False,
) -> None:
    """Push demands as the upstream platform does (signal-with-start). Pushing again is a no-op."""
    from pydantic import TypeAdapter, ValidationError

    from engine.commands import Submission
    from engine.values import field_errors

    text = sys.stdin.read() if str(source) == "-" else _read(source)
    try:
        raw = json.loads(text)
        submissions = TypeAdapter(list[Submission]).validate_python(raw if isinstance(raw, list) else [raw])
    except json.JSONDecodeError as error:
        fail(f"{source} is not JSON: {error}", 2)
    except ValidationError as error:
        fail(f"{source}: {field_errors(error)}", 2)

    ids = run(services().push(identity(), submissions))
    if as_json:
        print_json(ids)
    else:
        for demand_id in ids:
            console.print(f"submitted [bold]{demand_id}[/]")


@app.command(rich_help_panel=PANEL)
def dispatch(
    demand_id: DemandId,
    to: Annotated[str, typer.Option(help="The post, group or member it is offered to.")],
    note: str = "",
    as_json: Json = False,
) -> None:
    """The community offers a demand to a post, group or member (派单)."""
    from engine.commands import Dispatch

    send(demand_id, build(Dispatch, by=identity().name, to=to, note=note), as_json)


@app.command(rich_help_panel=PANEL)
def claim(
    demand_id: DemandId,
    member: Annotated[str, typer.Option(help="The member who takes it.")],
    unit: Annotated[str, typer.Option(help="The member's unit (for dual points).")],
    co: Annotated[list[str] | None, typer.Option(help="A co-claimant of a group claim; repeat.")] = None,
    as_json: Json = False,
) -> None:
    """A member (and co-claimants) take a demand (认领)."""
    from engine.commands import Claim

    send(demand_id, build(Claim, member=member, unit=unit, co_claimants=tuple(co or ())), as_json)


@app.command(rich_help_panel=PANEL)
def release(
    demand_id: DemandId,
    member: Annotated[str, typer.Option(help="The member who gives it back.")],
    reason: Annotated[str, typer.Option(help="Why.")],
    as_json: Json = False,
) -> None:
    """The claimant gives a claimed demand back."""
    from engine.commands import Release

    send(demand_id, build(Release, member=member, reason=reason), as_json)


@app.command(rich_help_panel=PANEL)
def handle(
    demand_id: DemandId,
    hours: Annotated[float, typer.Option(help="Hours of service spent.")],
    note: str = "",
    member: Annotated[
        str | None, typer.Option(help="Who did it (a member is always themselves; default: the claimant).")
    ] = None,
    evidence: Annotated[list[str] | None, typer.Option(help="A photo or document reference; repeat.")] = None,
    as_json: Json = False,
) -> None:
    """The claimant reports the demand done (办理/落实)."""
    from engine.commands import Handle

    who = identity()

    async def go() -> DemandStatus:
        holder = member or who.name
        if member is None and who.role.value != "member":  # an operator reports for the holder
            current = await services().status(who, demand_id)
            holder = current.claimant.member if current.claimant else "-"
        command = build(Handle, member=holder, hours=hours, note=note, evidence=tuple(evidence or ()))
        return await services().command(who, demand_id, command)

    show_status(run(go()), as_json)


@app.command("follow-up", rich_help_panel=PANEL)
def follow_up(
    demand_id: DemandId,
    resolved: Annotated[bool, typer.Option("--resolved/--unresolved", help="Is it really resolved?")],
    note: str = "",
    worker: Annotated[str, typer.Option(help="The community worker who followed up.")] = "community",
    as_json: Json = False,
) -> None:
    """The community checks with the resident (跟踪回访); unresolved reopens it."""
    from engine.commands import FollowUp

    send(demand_id, build(FollowUp, worker=worker, resolved=resolved, note=note), as_json)


@app.command(rich_help_panel=PANEL)
def evaluate(
    demand_id: DemandId,
    rating: Annotated[Rating, typer.Argument(help="satisfied, basically_satisfied or unsatisfied.")],
    comment: str = "",
    as_json: Json = False,
) -> None:
    """The resident rates it; satisfied closes it, unsatisfied reopens it."""
    from engine.commands import Evaluate

    send(demand_id, build(Evaluate, rating=rating, comment=comment, by=identity().name), as_json)


@app.command(rich_help_panel=PANEL)
def withdraw(
    demand_id: DemandId,
    reason: Annotated[str, typer.Option(help="Why the resident withdraws it.")],
    as_json: Json = False,
) -> None:
    """The resident withdraws a demand."""
    from engine.commands import Withdraw

    send(demand_id, build(Withdraw, by=identity().name, reason=reason), as_json)


@app.command(rich_help_panel=PANEL)
def complain(
    demand_id: DemandId,
    reason: Annotated[str, typer.Option(help="What is wrong again (recorded).")],
    as_json: Json = False,
) -> None:
    """A resident's late complaint about a closed demand: it reopens it with a fresh promise, and the
    points it earned are given back until it closes again. Taken within the complaint window
    (`complaint_window` of the time-limit policy, 30 days by default) after the demand closed."""
    from engine.commands import Complain

    send(demand_id, build(Complain, by=identity().name, reason=reason), as_json)


@app.command(rich_help_panel=PANEL)
def commend(
    demand_id: DemandId,
    note: str = "",
    as_json: Json = False,
) -> None:
    """Praise good work (反馈表扬); it earns the claimants points."""
    from engine.commands import Commend

    send(demand_id, build(Commend, by=identity().name, note=note), as_json)


@app.command(rich_help_panel=PANEL)
def supplement(
    demand_id: DemandId,
    text: Annotated[str, typer.Option(help="What the resident adds.")] = "",
    attach: Annotated[list[str] | None, typer.Option(help="A photo or document reference; repeat.")] = None,
) -> None:
    """Add the resident's text or photos to an open demand (sent as the platform sends it: a signal)."""
    from engine.commands import Supplement

    command = build(Supplement, text=text, attachments=tuple(attach or ()))
    run(services().signal(identity(), demand_id, command))
    console.print(f"sent to [bold]{demand_id}[/]; if it cannot be taken, `microdemand rejected` says why")


@app.command(rich_help_panel=PANEL)
def status(
    demand_id: DemandId,
    live: Annotated[
        bool, typer.Option("--live", help="Ask the demand's workflow (fresh to the moment, slower to start).")
    ] = False,
    as_json: Json = False,
) -> None:
    """A demand's state, holder, level and deadlines, from the demand index (--live: from its workflow).

    The index is a read view kept from the events a moment after they are stored; a demand it
    has not seen yet is asked of its workflow.
    """
    current = run(services().status(identity(), demand_id, live=live))
    show_status(current, as_json)
    if not as_json and current.clock and current.state.is_open:
        alarm = current.next_alarm()
        if alarm:
            zone = system().local_zone
            what = alarm.step.value.replace("_", " ") + (" (the promise)" if alarm.promise else "")
            console.print(f"next: {what} at {alarm.at.astimezone(zone):%Y-%m-%d %H:%M} {system().zone_label}")


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {path}: {error}", 2)
