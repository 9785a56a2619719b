"""The seeds' rules as a user types them on a started stack: a year of history imported (twice), the
board and a bulk escalation nobody can take, a late complaint in the window and one too late."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli_stack import SUBMISSION, Stack

pytestmark = pytest.mark.e2e


def test_a_sample_year_imports_once_and_its_overdue_demands_sit_at_the_top(
    stack: Stack, tmp_path: Path
) -> None:
    year = tmp_path / "year.jsonl"
    wrote = stack.json("seed", "--year", "2025", "--count", "60", "--out", str(year))
    assert (wrote["demands"], wrote["sample"]) == (60, True)
    first = stack.json("import", str(year))
    assert (first["lines"], first["stored"], first["started"], first["sample"]) == (60, 59, 1, 60)
    again = stack.json("import", str(year))
    assert (again["stored"], again["started"], again["unchanged"]) == (0, 0, 60)
    shown = stack.cli("import", str(year)).stdout
    assert "already there" in shown
    assert "60 of them sample data" in " ".join(shown.split())

    board = stack.eventually("overdue", until=lambda rows: len(rows) == 1)
    [late] = board
    assert (late["level"], late["escalations"]) == ("city", 3)  # late since 2025, at the top
    refused = stack.cli("escalate", "--all-overdue", "--reason", "supervision meeting", ok=False)
    assert refused.returncode == 1  # every one refused: a script must not read that as success
    assert "already at the top of the ladder" in refused.stdout

    closed_long_ago = json.loads(year.read_text().splitlines()[0])["submission"]
    demand = f"demand-{closed_long_ago['source']}-{closed_long_ago['external_id']}"
    too_late = stack.cli("complain", demand, "--reason", "it broke again", ok=False)
    assert too_late.returncode == 1
    assert f"demand {demand} is closed: cannot complain, its loop has ended" in too_late.stderr


def test_a_late_complaint_reopens_a_closed_demand_within_its_window(stack: Stack, tmp_path: Path) -> None:
    demand_file = tmp_path / "demand.json"
    demand_file.write_text(json.dumps(SUBMISSION))
    stack.cli("submit", str(demand_file))
    demand = "demand-wechat-e2e-1"
    stack.eventually("status", demand, until=lambda s: s["state"] == "collected")
    stack.cli("claim", demand, "--member", "li", "--unit", "Party branch 2")
    stack.cli("handle", demand, "--hours", "1.5")
    stack.cli("follow-up", demand, "--resolved")
    assert stack.json("evaluate", demand, "satisfied")["state"] == "closed"
    refused = stack.cli("claim", demand, "--member", "wang", "--unit", "u", ok=False)
    assert "is closed: cannot claim" in refused.stderr
    reopened = stack.json("complain", demand, "--reason", "the light went out again")
    assert (reopened["state"], reopened["reopened"]) == ("claimed", 1)
    assert reopened["promise"] is not None
    complaints = [e["who"] for e in stack.json("history", demand) if e["event"] == "Reopened"]
    assert complaints == ["admin"]  # the authenticated identity complains, as in every verb
    ledger = stack.eventually(
        "points", "li", until=lambda p: any(e["reason"] == "reversed" for e in p["recent"])
    )
    assert [e["reason"] for e in ledger["recent"]] == ["reversed", "closed"]
