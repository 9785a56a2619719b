"""CLI verbs for analysts and integrators: a demand's history, the rates, the ticket list, schemas."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from adapters.cli_loop import DemandId, Json
from adapters.cli_operators import parse_scope
from adapters.console import console, fail, percent, print_json, settings, store_settings, table
from engine.application import DemandNotFoundError, Demands
from engine.commands import UPSTREAM_PAYLOADS
from engine.eventmodel import DomainEvent
from engine.lifecycle import State
from engine.status import DemandStatus
from engine.vocabulary import Priority
from projections.runner import open_index_view

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
            shown.append(
                f"{key}={json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value}"
            )
    return ", ".join(shown)


def register(app: typer.Typer) -> None:
    """Add the analysts' verbs to the CLI."""

    @app.command()
    def history(
        demand_id: DemandId,
        reveal: Annotated[
            bool, typer.Option(help="Show residents' phone and address (personal data).")
        ] = False,
        as_json: Json = False,
    ) -> None:
        """Every event of a demand from the event store, in order. Residents' data is masked."""
        store = Demands(env=store_settings().store_env(), limits=settings().time_limits)
        try:
            records = [event_record(e, reveal) for e in store.history(demand_id)]
        except DemandNotFoundError as error:
            fail(str(error))
        finally:
            store.close()
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

    @app.command()
    def rates(
        by: Annotated[
            str | None,
            typer.Option(
                help="Group by grid, community, street, district, city, channel, category, priority or post."
            ),
        ] = None,
        period: Annotated[
            str | None, typer.Option(help="Bucket by day, week, month or year of collection.")
        ] = None,
        as_json: Json = False,
    ) -> None:
        """Collected, claimed, closed; claim, completion, on-time and satisfaction rates."""
        offset = timedelta(hours=settings().report_utc_offset_hours)
        try:
            rows = open_index_view(store_settings()).rates(by=by, period=period, utc_offset=offset)
        except ValueError as error:
            fail(str(error), 2)
        if as_json:
            print_json(rows)
            return
        figures = ["collected", "claimed", "closed", "withdrawn", "claim%", "done%", "on-time%",
                   "satisf%", "escal.", "overdue"]  # fmt: skip
        labels = (["group"] if by else []) + (["period"] if period else [])
        console.print(
            table(
                "Rates" + (f" by {by}" if by else "") + (f" per {period}" if period else ""),
                labels + figures,
                (
                    ([r.key] if by else [])
                    + ([r.period] if period else [])
                    + [
                        r.collected,
                        r.claimed,
                        r.closed,
                        r.withdrawn,
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

    @app.command()
    def demands(
        state: Annotated[State | None, typer.Option(help="Only demands in this state.")] = None,
        open_only: Annotated[bool, typer.Option("--open", help="Only demands still open.")] = False,
        scope: Annotated[
            str | None, typer.Option(help="grid:G, community:C, street:S, district:D or city:X.")
        ] = None,
        priority: Annotated[Priority | None, typer.Option(help="Only this priority.")] = None,
        member: Annotated[str | None, typer.Option(help="Only demands held by this member.")] = None,
        limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many rows.")] = 50,
        as_json: Json = False,
    ) -> None:
        """The ticket index: demands by state, place, priority or holder, newest first."""
        rows = open_index_view(store_settings()).list_demands(
            state=state, open_only=open_only, scope=parse_scope(scope), priority=priority,
            claimant_member=member, limit=limit,
        )  # fmt: skip
        if as_json:
            print_json(rows)
            return
        console.print(
            table(
                f"Demands ({len(rows)}{'+' if len(rows) == limit else ''})",
                ["demand", "title", "state", "priority", "community", "level", "held by", "due", "collected"],
                (
                    (
                        r.demand_id,
                        r.title,
                        r.state.value,
                        r.priority.value,
                        r.community,
                        r.level.value,
                        r.claimant_member,
                        r.due_at if r.state.is_open else None,
                        r.collected_at,
                    )
                    for r in rows
                ),
            )
        )

    @app.command()
    def schema(
        out: Annotated[
            Path | None, typer.Option(help="Write one <name>.json per payload into this folder.")
        ] = None,
    ) -> None:
        """The JSON Schemas of the upstream payloads (signals, updates) and of the status query."""
        schemas = {name: model.model_json_schema() for name, model in UPSTREAM_PAYLOADS.items()}
        schemas["status"] = DemandStatus.model_json_schema()
        if out is None:
            print_json(schemas)
            return
        out.mkdir(parents=True, exist_ok=True)
        for name, body in schemas.items():
            (out / f"{name}.json").write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", "utf-8")
        console.print(f"wrote {len(schemas)} schemas to {out}")
