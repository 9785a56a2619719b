"""Time-limit policies for tests: the shipped file with a few limits changed, as TOML text."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import engine.policies

SHIPPED = Path(engine.policies.__file__).parent / "timelimits.toml"


def limits_toml(**changes: Any) -> str:
    """The shipped time limits with `changes` (a table's given keys, or a top-level value)."""
    policy: dict[str, Any] = tomllib.loads(SHIPPED.read_text())
    for key, value in changes.items():
        policy[key] = {**policy[key], **value} if isinstance(value, dict) else value
    lines = [f"{key} = {json.dumps(value)}" for key, value in policy.items() if not isinstance(value, dict)]
    for table, values in policy.items():
        if isinstance(values, dict):
            lines += [f"[{table}]", *(f"{key} = {json.dumps(value)}" for key, value in values.items())]
    return "\n".join(lines) + "\n"
