"""The CLI against a started stack, as a user types it: a whole loop, a restart, nothing lost."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from api_harness import SUBMISSION as HTTP_SUBMISSION

pytestmark = pytest.mark.e2e
CLI = str(Path(sys.executable).parent / "microdemand")

SUBMISSION = {**HTTP_SUBMISSION, "source": "wechat", "external_id": "e2e-1"}
DEMAND = "demand-wechat-e2e-1"


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains `text`."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and text in (proc / "cmdline").read_bytes().decode(errors="replace"):
                pids.append(int(proc.name))
        except OSError:  # it ended while we looked
            continue
    return pids


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Stack:
    """`microdemand up` in a subprocess, with its own var/ and ports."""

    def __init__(self, var: Path) -> None:
        self.var = var
        self.env = {
            **os.environ,
            "MICRODEMAND_VAR_DIR": str(var),
            "MICRODEMAND_TEMPORAL_ADDRESS": f"127.0.0.1:{_free_port()}",
            "MICRODEMAND_UI_PORT": str(_free_port()),
            "MICRODEMAND_API_PORT": str(_free_port()),
            "MICRODEMAND_LOG_FORMAT": "json",
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log = var / "stack.log"

    def start(self) -> None:
        self.var.mkdir(parents=True, exist_ok=True)
        self.log.touch()
        offset = self.log.stat().st_size  # a restart appends: read only what this run writes
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([CLI, "up"], env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 90
        while "microdemand is running" not in self.log.read_text(errors="replace")[offset:]:
            assert self.process.poll() is None, self.log.read_text(errors="replace")
            assert time.monotonic() < deadline, "stack did not start"
            time.sleep(0.2)

    def interrupt(self) -> int:
        """Ctrl-C, as in the terminal; returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)

    def cli(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [CLI, *args], env=self.env, capture_output=True, text=True, timeout=60, check=False
        )
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.cli(*args, "--json").stdout)

    def eventually(self, *args: str, until: Any, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = self.json(*args)
            if until(value) or time.monotonic() > deadline:
                return value
            time.sleep(0.3)


def test_a_newcomer_takes_a_demand_through_its_life_and_finds_it_after_a_restart(
    stack: Stack, tmp_path: Path
) -> None:
    demand_file = tmp_path / "demand.json"
    demand_file.write_text(json.dumps(SUBMISSION))
    assert DEMAND in stack.cli("submit", str(demand_file)).stdout
    stack.cli("submit", str(demand_file))  # the platform pushes twice: nothing changes

    collected = stack.eventually("status", DEMAND, until=lambda s: s["state"] == "collected")
    assert collected["state"] == "collected"

    refused = stack.cli("handle", DEMAND, "--hours", "1", "--member", "li", ok=False)
    assert refused.returncode == 1
    assert f"demand {DEMAND} is collected: cannot handle" in refused.stderr
    assert "Traceback" not in refused.stderr

    stack.cli("claim", DEMAND, "--member", "li", "--unit", "Party branch 2")
    stack.cli("handle", DEMAND, "--hours", "1.5", "--note", "replaced the bulb")
    stack.cli("follow-up", DEMAND, "--resolved", "--note", "called the resident")
    closed = stack.json("evaluate", DEMAND, "satisfied")
    assert closed["state"] == "closed"

    events = [e["event"] for e in stack.json("history", DEMAND)]
    assert events == ["Collected", "Claimed", "Handled", "FollowedUp", "Evaluated", "Closed"]
    shown = stack.cli("history", DEMAND).stdout
    assert "13800138000" not in shown
    assert "Room 301" not in shown
    assert "[hidden]" in shown

    rates = stack.eventually("rates", until=lambda rows: rows and rows[0]["closed"] == 1)
    assert (rates[0]["collected"], rates[0]["claimed"], rates[0]["closed"]) == (1, 1, 1)

    health = stack.json("health")
    assert health["well"], health
    assert {part["name"] for part in health["parts"]} == {"worker", "store", "demand_index", "points"}

    with urllib.request.urlopen(f"http://127.0.0.1:{stack.env['MICRODEMAND_UI_PORT']}/", timeout=10) as ui:
        assert ui.status == 200  # the dev server's Web UI, where the demands' workflows show
    api = f"http://127.0.0.1:{stack.env['MICRODEMAND_API_PORT']}"
    assert f"HTTP API     {api}" in stack.log.read_text(errors="replace")  # the banner says where
    token = (stack.var / "admin.token").read_text().strip()
    asked = urllib.request.Request(
        f"{api}/api/demands/{DEMAND}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(asked, timeout=10) as answer:
        assert json.loads(answer.read())["state"] == "closed"  # the same demand over HTTP

    assert stack.interrupt() == 0
    assert processes_mentioning(str(stack.var)) == []  # Ctrl-C left no orphan behind
    assert (stack.var / "temporal.db").exists()

    stack.start()
    assert stack.json("status", DEMAND)["state"] == "closed"
    assert len(stack.json("history", DEMAND)) == 6
    after = stack.eventually("rates", until=lambda rows: rows and rows[0]["closed"] == 1)
    assert after[0]["closed"] == 1
    assert after[0]["collected"] == 1


def test_every_actor_is_known_and_acts_only_as_the_role_matrix_allows(stack: Stack, tmp_path: Path) -> None:
    assert (stack.var / "admin.token").exists()  # `make run` created the administrator, and said where
    deadline = time.monotonic() + 10
    while "Admin token" not in stack.log.read_text(errors="replace") and time.monotonic() < deadline:
        time.sleep(0.1)  # the banner is still being written
    assert "Admin token" in stack.log.read_text(errors="replace")
    demand_file = tmp_path / "demand.json"
    demand_file.write_text(json.dumps(SUBMISSION))
    stack.cli("submit", str(demand_file))
    stack.eventually("status", DEMAND, until=lambda s: s["state"] == "collected")

    stack.cli("identity", "add", "op-far", "--role", "operator", "--scope", "street:Sanping")
    stack.cli("identity", "add", "op-near", "--role", "operator", "--scope", "street:Yingbin")
    stack.cli("identity", "add", "li", "--role", "member", "--unit", "Party branch 2")
    far = stack.cli("token", "issue", "op-far").stdout.strip()
    near = stack.cli("token", "issue", "op-near").stdout.strip()
    li = stack.cli("token", "issue", "li").stdout.strip()

    def as_(token: str, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**stack.env, "MICRODEMAND_TOKEN": token}
        return subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=60, check=False)

    stack.cli("identity", "add", "wang", "--role", "resident", "--phone", "13800138000")  # the reporter
    resident = stack.cli("token", "issue", "wang").stdout.strip()
    assert as_(resident, "status", DEMAND, "--json").returncode == 0  # their own demand
    assert as_(resident, "escalate", DEMAND, "--reason", "faster").returncode == 3
    phoneless = as_(
        stack.cli("token", "issue", "admin").stdout.strip(), "identity", "add", "zhao", "--role", "resident"
    )
    assert (phoneless.returncode, "a resident needs one" in phoneless.stderr) == (2, True)

    outside = as_(far, "escalate", DEMAND, "--reason", "not mine")
    assert outside.returncode == 3
    assert f"op-far (operator of street:Sanping) may not escalate {DEMAND}: it lies outside" in outside.stderr
    escalate = as_(li, "escalate", DEMAND, "--reason", "members cannot")
    assert (escalate.returncode, "li (member) may not escalate" in escalate.stderr) == (3, True)
    claimed = as_(li, "claim", DEMAND, "--member", "someone-else", "--unit", "x", "--json")
    assert claimed.returncode == 0, claimed.stderr
    assert json.loads(claimed.stdout)["claimant"] == {
        "member": "li",
        "unit": "Party branch 2",
        "co_claimants": [],
    }
    assert as_(near, "escalate", DEMAND, "--reason", "supervision meeting").returncode == 0
    redeem = as_(near, "redeem", "li", "1", "--for", "a haircut")
    assert redeem.returncode == 3
    blind = as_(li, "history", DEMAND, "--reveal", "--why", "curious")
    assert blind.returncode == 3

    events = stack.json("history", DEMAND)
    actors = {e["event"]: e["details"].get("actor") for e in events}
    assert actors["Claimed"] == "li (member)"
    assert actors["Escalated"] == "op-near (operator)"
    assert actors["Collected"] == "admin (administrator)"

    seen = as_(near, "history", DEMAND, "--reveal", "--why", "calling the resident back")
    assert seen.returncode == 0, seen.stderr
    assert "13800138000" in seen.stdout
    kept = stack.json("disclosures")
    assert [(d["by"], d["demand_id"], d["why"]) for d in kept] == [
        ("op-near", DEMAND, "calling the resident back")
    ]

    stack.cli("token", "revoke", near[:12], "--reason", "phone lost")
    gone = as_(near, "status", DEMAND)
    assert (gone.returncode, "not authenticated: the token was revoked" in gone.stderr) == (2, True)
