"""Verbs for analysts: a demand's history from the event store, and the rates communities are judged by."""

from __future__ import annotations

import json
from datetime import timedelta, timezone
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adapters.cli.options import DemandId, Json, ScopeOption
from adapters.cli.output import console, fail, percent, print_json, table
from adapters.cli.runtime import period, scope, store_system

if TYPE_CHECKING:
    from engine.eventmodel import DomainEvent

app = typer.Typer()
PANEL = "Analysts"

PERSONAL_FIELDS = ("resident", "reporter")
_WHO = ("by", "member", "worker")
_NOTE = ("note", "reason", "comment")
_HIDDEN = {"originator_id", "originator_version", "timestamp", "originator_topic", *_WHO, *_NOTE}


def mask_resident(resident: dict[str, Any]) -> dict[str, Any]:
    """Keep a resident's initial; hide the phone number and the address."""
    name = str(resident.get("name", ""))
    return {"name": (name[:1] + "*") if name else "", "phone": "[hidden]", "address": "[hidden]"}


def event_record(event: DomainEvent, reveal: bool) -> dict[str, Any]:
    """One event as a plain dict: version, time, name, who, note and its other fields."""
    data = event.model_dump(mode="json")
    for key in PERSONAL_FIELDS:
        if key in data and not reveal:
            data[key] = mask_resident(data[key])
    claimant = data.get("claimant") or {}
    return {
        "version": event.originator_version,
        "at": data["timestamp"],
        "event": type(event).__name__,
        "who": next((data[k] for k in _WHO if data.get(k)), claimant.get("member", "")),
        "note": next((data[k] for k in _NOTE if data.get(k)), ""),
        "details": {k: v for k, v in data.items() if k not in _HIDDEN},
    }


def _details(details: dict[str, Any]) -> str:
    shown = []
    for key, value in details.items():
        if key == "clock" and isinstance(value, dict):
            shown.append(f"due={value['due_at'][:16]}")
        elif value not in (None, "", [], {}):
            text = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
            shown.append(f"{key}={text}")
    return ", ".join(shown)


@app.command(rich_help_panel=PANEL)
def history(
    demand_id: DemandId,
    reveal: Annotated[bool, typer.Option(help="Show residents' phone and address (personal data).")] = False,
    as_json: Json = False,
) -> None:
    """Every event of a demand from the event store, in order. Residents' data is masked."""
    from engine.application import DemandNotFoundError

    with store_system().store() as store:
        try:
            records = [event_record(e, reveal) for e in store.history(demand_id)]
        except DemandNotFoundError as error:
            fail(str(error))
    if as_json:
        print_json(records)
        return
    console.print(
        table(
            f"History of {demand_id}",
            ["#", "when (UTC)", "event", "who", "note", "details"],
            (
                (
                    r["version"],
                    r["at"][:19].replace("T", " "),
                    r["event"],
                    r["who"],
                    r["note"],
                    _details(r["details"]),
                )
                for r in records
            ),
        )
    )


@app.command(rich_help_panel=PANEL)
def rates(
    by: Annotated[
        str | None,
        typer.Option(
            help="Group by grid, community, street, district, city, channel, category, priority or post."
        ),
    ] = None,
    per: Annotated[
        str | None, typer.Option(help="Break down per day, week, month or year of collection.")
    ] = None,
    period_text: Annotated[
        str | None,
        typer.Option("--period", help="Only demands collected in 2026, 2026-Q3, 2026-10 or a range A..B."),
    ] = None,
    scope_text: ScopeOption = None,
    as_json: Json = False,
) -> None:
    """Collected, claimed, closed; claim, completion, on-time and satisfaction rates."""
    offset = timedelta(hours=store_system().settings.report_utc_offset_hours)
    since = until = None
    if period_text is not None:
        since, until = period(period_text).window(timezone(offset))
    with store_system().index_view() as index:
        try:
            rows = index.rates(
                by=by, per=per, since=since, until=until, scope=scope(scope_text), utc_offset=offset
            )
        except ValueError as error:
            fail(str(error), 2)
    if as_json:
        print_json(rows)
        return
    figures = ["collected", "claimed", "closed", "withdrawn", "merged", "claim%", "done%", "on-time%",
               "satisf%", "escal.", "overdue"]  # fmt: skip
    labels = (["group"] if by else []) + (["period"] if per else [])
    console.print(
        table(
            "Rates"
            + (f" by {by}" if by else "")
            + (f" per {per}" if per else "")
            + (f", {period_text}" if period_text else ""),
            labels + figures,
            (
                ([r.key] if by else [])
                + ([r.period] if per else [])
                + [
                    r.collected,
                    r.claimed,
                    r.closed,
                    r.withdrawn,
                    r.merged,
                    percent(r.claim_rate),
                    percent(r.completion_rate),
                    percent(r.on_time_rate),
                    percent(r.satisfaction_rate),
                    r.escalations,
                    r.open_overdue,
                ]
                for r in rows
            ),
        )
    )
