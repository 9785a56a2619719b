"""After a full run, no resident's data and no number typed into free text is readable anywhere but
through an allowed reveal; an administrator forgets a resident and every figure stays."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from test_cli_stack import CLI, DEMAND, SUBMISSION, Stack

from adapters.binaries import temporal_cli

pytestmark = pytest.mark.e2e

TYPED_PHONE, TYPED_ID = "13912345678", "65020319800101123X"
RESIDENT = list(SUBMISSION["resident"].values())  # type: ignore[union-attr]
DEMAND_WITH_NUMBERS = {
    **SUBMISSION,
    "title": f"Wheelchair, call my son {TYPED_PHONE}",
    "description": f"My ID card is {TYPED_ID}",
}


def temporal_show(stack: Stack) -> str:
    """What Temporal itself shows of the demand's history, with no codec."""
    address = stack.env["MICRODEMAND_TEMPORAL_ADDRESS"]
    command = [
        str(temporal_cli()),
        "workflow",
        "show",
        "--workflow-id",
        DEMAND,
        "-o",
        "json",
        "--address",
        address,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout


def around_the_loop(stack: Stack, tmp_path: Path) -> None:
    demand_file = tmp_path / "demand.json"
    demand_file.write_text(json.dumps(DEMAND_WITH_NUMBERS))
    stack.cli("submit", str(demand_file))
    stack.eventually("status", DEMAND, until=lambda s: s["state"] == "collected")
    stack.cli("claim", DEMAND, "--member", "li", "--unit", "Party branch 2")
    stack.cli("handle", DEMAND, "--hours", "1", "--note", f"her son answered on {TYPED_PHONE}")
    stack.cli("follow-up", DEMAND, "--resolved", "--note", "called the resident")
    stack.cli("evaluate", DEMAND, "satisfied", "--comment", f"thanks, ID {TYPED_ID}")
    stack.eventually("rates", until=lambda rows: rows and rows[0]["closed"] == 1)


def test_after_a_full_run_no_residents_data_is_readable_outside_an_allowed_reveal(
    stack: Stack, tmp_path: Path
) -> None:
    around_the_loop(stack, tmp_path)
    secrets = [*RESIDENT, TYPED_PHONE, TYPED_ID]
    shown = {
        "history": stack.cli("history", DEMAND).stdout,
        "history --json": stack.cli("history", DEMAND, "--json").stdout,
        "status": stack.cli("status", DEMAND, "--json").stdout,
        "demands": stack.cli("demands", "--json").stdout,
        "export events": stack.cli("export", "events").stdout,
        "export index": stack.cli("export", "index").stdout,
        "workflow": stack.cli("history", DEMAND, "--workflow").stdout,
        "temporal workflow show": temporal_show(stack),
        "the views' database": (stack.var / "views.db").read_bytes().decode("utf-8", "replace"),
        "the log": stack.log.read_text("utf-8", errors="replace"),
    }
    for where, text in shown.items():
        for value in secrets:
            assert value not in text, f"{value!r} is readable in {where}"
    assert "[phone]" in shown["history"]
    assert "[ID card]" in shown["history --json"]
    events_db = (stack.var / "events.db").read_bytes()
    assert not any(value.encode() in events_db for value in RESIDENT)  # sealed, with keys kept apart

    revealed = stack.cli("history", DEMAND, "--reveal", "--why", "calling her back", "--json").stdout
    assert all(value in revealed for value in secrets)


def test_an_administrator_forgets_a_resident_and_every_figure_stays(stack: Stack, tmp_path: Path) -> None:
    around_the_loop(stack, tmp_path)
    rates = stack.json("rates")
    stack.cli("identity", "add", "ana", "--role", "analyst")
    analyst = stack.cli("token", "issue", "ana").stdout.strip()
    refused = subprocess.run(
        [CLI, "forget-resident", "--phone", "13800138000", "--why", "x", "--yes"],
        env={**stack.env, "MICRODEMAND_TOKEN": analyst}, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert (refused.returncode, "ana (analyst) may not forget" in refused.stderr) == (3, True)

    kept = subprocess.run(
        [CLI, "forget-resident", "--phone", "13800138000", "--why", "erasure request 17"],
        env=stack.env, input="n\n", capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert kept.returncode == 1
    assert "nothing was forgotten" in kept.stderr
    gone = stack.cli("forget-resident", "--phone", "138 0013 8000", "--why", "erasure request 17", "--yes")
    assert "1 key destroyed" in gone.stdout

    revealed = stack.cli("history", DEMAND, "--reveal", "--why", "checking the erasure", "--json").stdout
    assert "[forgotten]" in revealed
    assert not any(value in revealed for value in RESIDENT)
    assert [e["event"] for e in json.loads(revealed)][-1] == "Closed"
    assert stack.json("rates") == rates
    assert stack.cli("replay", "--verify").returncode == 0  # rebuilt from event zero: the same rows
    [erasure] = stack.json("disclosures", "--forgotten")
    assert (erasure["by"], erasure["keys"], erasure["why"]) == ("admin", 1, "erasure request 17")
    again = stack.cli("forget-resident", "--phone", "13800138000", "--why", "twice", "--yes", ok=False)
    assert again.returncode == 1
