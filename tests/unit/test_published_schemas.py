"""The JSON Schemas committed under docs/schema/ are the contract's: a change to a payload must show there."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.cli.platform import contract_schemas

PUBLISHED = Path(__file__).parents[2] / "docs" / "schema"


def test_the_committed_schemas_are_exactly_what_the_models_say() -> None:
    current = contract_schemas()
    committed = {path.stem: json.loads(path.read_text("utf-8")) for path in PUBLISHED.glob("*.json")}
    assert set(committed) == set(current), "run `microdemand schema --out docs/schema/` and commit it"
    for name, schema in current.items():
        assert committed[name] == schema, (
            f"docs/schema/{name}.json is out of date: run `microdemand schema --out docs/schema/`"
        )
