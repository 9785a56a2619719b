"""`history`: a demand's events from the store, as it stood at a moment, or beside its workflow's history."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adapters.cli.options import AsOf, DemandId, Json, Reveal, Why
from adapters.cli.output import console, fail, lateness, local, print_json, table
from adapters.cli.runtime import allowed_on, moment, run, services, store_system, system
from adapters.timeline import event_record

if TYPE_CHECKING:
    from adapters.timetravel import DemandAsOf
    from adapters.workflow_history import TimelineLine

app = typer.Typer()
PANEL = "Analysts"


def _details(details: dict[str, Any]) -> str:
    shown = []
    for key, value in details.items():
        if key in ("clock", "promise") and isinstance(value, dict) and value.get("due_at"):
            shown.append(f"{'due' if key == 'clock' else 'promised_by'}={_when(value['due_at'])[:16]}")
        elif value not in (None, "", [], {}):
            local = _local_times(key, value)
            text = json.dumps(local, ensure_ascii=False) if isinstance(local, dict | list) else local
            shown.append(f"{key}={text}")
    return ", ".join(shown)


def _local_times(key: str, value: Any) -> Any:
    """`value` with the times in it in local time, as the column says: the events name every time
    `*_at` (free text that merely looks like a time is shown as typed)."""
    if isinstance(value, dict):
        return {k: _local_times(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_local_times(key, v) for v in value]
    if key.endswith("_at") and isinstance(value, str):
        try:
            return _when(value)[:16]
        except ValueError:
            return value
    return value


def _when(at: str | datetime) -> str:
    """A time to the second in local time (the column says which)."""
    moment_ = datetime.fromisoformat(at) if isinstance(at, str) else at
    return moment_.astimezone(system().local_zone).strftime("%Y-%m-%d %H:%M:%S")


@app.command(rich_help_panel=PANEL)
def history(
    demand_id: DemandId,
    as_of_text: AsOf = None,
    workflow: Annotated[
        bool,
        typer.Option(
            "--workflow",
            help="Set the Temporal workflow's history beside the stored events, each line marked with its "
            "source (names of updates, signals, activities and timers only, never payloads).",
        ),
    ] = False,
    reveal: Reveal = False,
    why: Why = "",
    as_json: Json = False,
) -> None:
    """Every event of a demand from the event store, in order; residents' data is masked.

    With --as-of T: the demand as it stood at T (state, holder, rung, clock, points), from its
    events up to T. With --workflow: the store's events and the workflow's history in one timeline.
    """
    from engine.access import Act
    from engine.application import DemandNotFoundError

    who = allowed_on(Act.READ, demand_id)
    if reveal:  # an allowed role only, and the reveal is recorded before anything is shown
        run(services().reveal(who, demand_id, why))
    if as_of_text is not None:
        _history_as_of(demand_id, moment(as_of_text), reveal, as_json)
        return
    with store_system().store() as store:
        try:
            records = [event_record(e, reveal) for e in store.history(demand_id)]
        except DemandNotFoundError as error:
            fail(str(error))
    if workflow:
        _beside_workflow(demand_id, records, as_json)
        return
    if as_json:
        print_json(records)
        return
    console.print(_events_table(f"History of {demand_id}", records))


def _events_table(title: str, records: list[dict[str, Any]]) -> Any:
    return table(
        title,
        ["#", f"when ({system().zone_label})", "event", "who", "note", "details"],
        (
            (r["version"], _when(r["at"]), r["event"], r["who"], r["note"], _details(r["details"]))
            for r in records
        ),
    )


def _history_as_of(demand_id: str, at: datetime, reveal: bool, as_json: bool) -> None:
    from adapters.timetravel import NotYetCollectedError, demand_as_of
    from engine.application import DemandNotFoundError

    try:
        found = demand_as_of(store_system(), demand_id, at)
    except (DemandNotFoundError, NotYetCollectedError) as error:
        fail(str(error))
    records = [event_record(e, reveal) for e in found.events]
    if as_json:
        print_json(
            {
                "as_of": at.isoformat(),
                "status": found.status.model_dump(mode="json"),
                "late_by": found.late_by.total_seconds() if found.late_by else None,
                "points": [e.model_dump(mode="json") for e in found.entries],
                "events": records,
            }
        )
        return
    zone, label = system().local_zone, system().zone_label
    console.print(
        f"{demand_id} as of {local(at, zone):%Y-%m-%d %H:%M} ({label})", highlight=False, markup=False
    )
    console.print(table("", ["field", "value"], _standing(found)))
    if found.entries:
        rows = ((e.kind.value, e.account, e.points, e.reason, e.version) for e in found.entries)
        console.print(table("Points by then", ["account", "name", "points", "why", "policy"], rows))
    console.print(_events_table("Its events up to then", records))


def _standing(found: DemandAsOf) -> list[tuple[str, Any]]:
    s, zone = found.status, system().local_zone
    clock, holder = s.clock, s.claimant
    return [
        ("state", s.state.value),
        ("held by", f"{', '.join(holder.members)} ({holder.unit})" if holder else None),
        ("rung", s.level.value),
        ("responsible unit", s.responsible_unit),
        ("promised by", local(s.promise.due_at, zone) if s.promise else None),
        ("late by", lateness(found.late_by) if found.late_by else None),
        ("waiting for", clock.stage.value if clock else None),
        ("warn at", local(clock.warn_at, zone) if clock else None),
        ("step due at", local(clock.due_at, zone) if clock else None),
        ("warned / overdue", f"{'yes' if s.warned else 'no'} / {'yes' if s.overdue else 'no'}"),
        ("escalations", s.escalations),
        ("reopened", s.reopened),
        ("rating", s.rating.value if s.rating else None),
        ("outcome", s.outcome.value if s.outcome else None),
        (
            "points",
            sum(e.points for e in found.entries if e.kind.value == "member") if found.entries else None,
        ),
        ("version", s.version),
    ]


def _beside_workflow(demand_id: str, records: list[dict[str, Any]], as_json: bool) -> None:
    from adapters.workflow_history import TimelineLine, combined, workflow_timeline

    async def fetch() -> list[TimelineLine]:
        return await workflow_timeline(await system().temporal(), demand_id)

    temporal = run(fetch())
    stored = [
        TimelineLine(
            source="store",
            at=datetime.fromisoformat(r["at"]),
            number=r["version"],
            what=r["event"],
            details=", ".join(x for x in (str(r["who"]), str(r["note"]), _details(r["details"])) if x),
        )
        for r in records
    ]
    lines = combined(stored, temporal)
    if as_json:
        print_json([line.model_dump(mode="json") for line in lines])
        return
    note = "" if temporal else " (Temporal keeps no history of it: its retention has passed)"
    console.print(_timeline(f"History of {demand_id}: the store and the workflow{note}", lines))


def _timeline(title: str, lines: list[TimelineLine]) -> Any:
    return table(
        title,
        ["source", "#", f"when ({system().zone_label})", "run", "what", "details"],
        ((line.source, line.number, _when(line.at), line.run, line.what, line.details) for line in lines),
    )
