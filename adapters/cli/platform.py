"""Verbs for integrators: the JSON Schemas of the upstream contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from adapters.cli.output import console, print_json

app = typer.Typer()
PANEL = "Integrators"


def contract_schemas() -> dict[str, dict[str, object]]:
    """The JSON Schema of every signal and update payload, and of the status query's answer."""
    from engine.commands import UPSTREAM_PAYLOADS
    from engine.status import DemandStatus

    schemas = {name: model.model_json_schema() for name, model in UPSTREAM_PAYLOADS.items()}
    schemas["status"] = DemandStatus.model_json_schema()
    return schemas


@app.command(rich_help_panel=PANEL)
def schema(
    out: Annotated[
        Path | None, typer.Option(help="Write one <name>.json per payload into this folder.")
    ] = None,
) -> None:
    """The JSON Schemas of the upstream payloads (signals, updates) and of the status query."""
    schemas = contract_schemas()
    if out is None:
        print_json(schemas)
        return
    out.mkdir(parents=True, exist_ok=True)
    for name, body in schemas.items():
        (out / f"{name}.json").write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", "utf-8")
    console.print(f"wrote {len(schemas)} schemas to {out}")
