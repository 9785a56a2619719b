"""The platform's side of the contract: a foreign client with nothing but the `temporal` CLI binary.

One dev server and one production worker process (its logs kept in a file, to be searched for
residents' data), shared by the contract suite; every message is raw JSON typed on a command line.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.binaries import temporal_cli
from adapters.bootstrap import System

WORKER = Path(__file__).with_name("contract_worker.py")
RESIDENT = {"name": "Zhao Xiaomei", "phone": "13912345678", "address": "Building 9, Room 1204"}
"""A resident whose data must never show in a log, in Temporal's history of a rejection, or in the views."""


def demand(external_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid submission as a platform writes it."""
    body: dict[str, Any] = {
        "source": "platform", "external_id": external_id, "kind": "appeal",
        "title": "The water keeps being cut off", "channel": "platform", "priority": "general",
        "location": {"city": "Karamay", "district": "Karamay District", "street": "Yingbin",
                     "community": "Xinhua", "grid": "G1"},
        "resident": RESIDENT,
    }  # fmt: skip
    body.update(overrides)
    return body


@dataclass
class Platform:
    """A platform in another language: it speaks to the worker through the `temporal` CLI only."""

    address: str
    task_queue: str
    system: System
    log: Path
    ids: list[str] = field(default_factory=list)

    def temporal(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the `temporal` CLI against the dev server."""
        result = subprocess.run(
            [str(temporal_cli()), *args, "--address", self.address, "--namespace", "default"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        if check and result.returncode != 0:
            raise AssertionError(f"temporal {' '.join(args[:3])} failed: {result.stderr or result.stdout}")
        return result

    def new_id(self) -> tuple[str, str]:
        """A fresh external id and the demand id it makes."""
        external = uuid.uuid4().hex[:10]
        self.ids.append(f"demand-platform-{external}")
        return external, f"demand-platform-{external}"

    def push(
        self, demand_id: str, *signal_inputs: str, start_inputs: tuple[str, ...] = (), meta: str | None = None
    ) -> None:
        """Signal-with-start `submit` with raw inputs (none, one, several), as a platform may."""
        args = ["workflow", "signal-with-start", "--type", "MicroDemand", "--task-queue", self.task_queue,
                "--workflow-id", demand_id, "--signal-name", "submit"]  # fmt: skip
        for n, value in enumerate(signal_inputs):
            if len(value) > 100_000:  # too long for a command line: from a file, as platforms do
                path = self.log.with_name(f"{demand_id}-{n}.json")
                path.write_text(value, "utf-8")
                args += ["--signal-input-file", str(path)]
            else:
                args += ["--signal-input", value]
        if meta is not None:
            args += ["--signal-input-meta", meta]
        for value in start_inputs:
            args += ["--input", value]
        self.temporal(*args)

    def signal(self, demand_id: str, name: str, *inputs: str) -> None:
        """Send a signal with raw inputs."""
        args = ["workflow", "signal", "--workflow-id", demand_id, "--name", name]
        for value in inputs:
            args += ["--input", value]
        self.temporal(*args)

    def update(self, demand_id: str, name: str, *inputs: str) -> subprocess.CompletedProcess[str]:
        """Execute an update with raw inputs; the completed process (it may have been refused)."""
        args = ["workflow", "update", "execute", "--workflow-id", demand_id, "--name", name]
        for value in inputs:
            args += ["--input", value]
        return self.temporal(*args, check=False)

    def status(self, demand_id: str) -> dict[str, Any]:
        """The workflow's `status` query, as JSON."""
        out = self.temporal("workflow", "query", "--workflow-id", demand_id, "--type", "status", "-o", "json")
        body = json.loads(out.stdout)
        result = body["queryResult"] if isinstance(body, dict) and "queryResult" in body else body
        return result[0] if isinstance(result, list) else result

    def eventually(self, demand_id: str, state: str, timeout: float = 30) -> dict[str, Any]:
        """Wait until the demand's workflow says it is in `state`."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.status(demand_id)
            if current["state"] == state:
                return current
            if time.monotonic() > deadline:
                raise AssertionError(f"{demand_id} is {current['state']}, not {state}")
            time.sleep(0.2)

    def history(self, demand_id: str) -> list[dict[str, Any]]:
        """Every event of the demand's workflow history (all runs), as the server keeps it."""
        out = self.temporal("workflow", "show", "--workflow-id", demand_id, "-o", "json")
        return list(json.loads(out.stdout).get("events", []))

    def task_failures(self, demand_id: str) -> list[str]:
        """The workflow task failures in the demand's history: there must be none."""
        return [
            json.dumps(e.get("workflowTaskFailedEventAttributes", {}))
            for e in self.history(demand_id)
            if "WORKFLOW_TASK_FAILED"
            in str(e.get("eventType", "")).upper().replace("WORKFLOWTASKFAILED", "WORKFLOW_TASK_FAILED")
        ]

    def events(self, demand_id: str) -> list[str]:
        """The names of the demand's events in the store."""
        from engine.application import DemandNotFoundError

        with self.system.store() as store:
            try:
                return [type(e).__name__ for e in store.history(demand_id)]
            except DemandNotFoundError:
                return []

    def rejections(self, demand_id: str, count: int = 1, timeout: float = 30) -> list[str]:
        """Wait until the store keeps `count` rejections for the demand; their reasons."""
        deadline = time.monotonic() + timeout
        while True:
            with self.system.store() as store:
                reasons = [
                    str(event.reason)
                    for n in store.recorder.select_notifications(start=1, limit=1_000_000)
                    if n.topic.endswith("Rejection.Rejected")
                    and (event := store.mapper.to_domain_event(n)).demand_id == demand_id  # type: ignore[attr-defined]
                ]
            if len(reasons) >= count or time.monotonic() > deadline:
                return reasons
            time.sleep(0.2)
