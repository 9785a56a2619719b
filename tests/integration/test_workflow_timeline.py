"""`history --workflow`: the store's events beside the Temporal workflow's history, each marked by source."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

import pytest
from cli_harness import forget_cached
from short_run_workflow import ShortRunMicroDemand
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner
from workflow_harness import LIFECYCLE, open_stack, stored_events

from adapters.bootstrap import System
from adapters.cli import app as commands
from adapters.settings import Settings
from adapters.workflow_history import workflow_timeline
from engine.commands import Claim, Evaluate, FollowUp, Handle
from engine.status import DemandStatus
from engine.vocabulary import Rating

pytestmark = pytest.mark.integration


async def test_history_beside_the_workflow_follows_every_run_and_never_shows_payloads(
    time_skipping_env: WorkflowEnvironment, sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = time_skipping_env
    # A run continues as new after two records, so the demand's history spans several runs.
    async with open_stack(env.client, sqlite_settings, workflows=[ShortRunMicroDemand]) as stack:
        handle = await stack.start()
        await env.sleep(timedelta(hours=20))  # the claim warning fires: a timer in the history
        await handle.execute_update(
            "claim", Claim(member="wang", unit="Party branch 1"), result_type=DemandStatus
        )
        await handle.execute_update("handle", Handle(member="wang", hours=1), result_type=DemandStatus)
        await handle.execute_update(
            "follow_up", FollowUp(worker="zhao", resolved=True), result_type=DemandStatus
        )
        await handle.execute_update("evaluate", Evaluate(rating=Rating.SATISFIED), result_type=DemandStatus)
        assert await stored_events(stack.app, handle.id) == [*LIFECYCLE[:1], "Warned", *LIFECYCLE[1:]]
        await handle.result()  # closed, then kept for the complaint window: skip to its end

        lines = await workflow_timeline(env.client, handle.id)
        runs = {line.run for line in lines}
        assert len(runs) >= 3  # every run, oldest first, followed back through continue-as-new
        assert lines[0].what == "workflow_execution_started"
        assert lines[-1].what == "workflow_execution_completed"
        details = [line.details for line in lines]
        assert "signal submit" in details
        assert "update claim" in details
        assert any(d.startswith("activity record") for d in details)
        assert any(d.startswith("timer") and "(warn)" in d for d in details)
        assert all("13800138000" not in d and "Building 3" not in d for d in details)

        for name, value in {
            "VAR_DIR": str(stack.settings.var_dir), "STORE": "sqlite",
            "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
            "TEMPORAL_NAMESPACE": env.client.namespace,
        }.items():  # fmt: skip
            monkeypatch.setenv(f"MICRODEMAND_{name}", value)
        System(stack.settings).ensure_administrator()  # the CLI acts as a known identity
        forget_cached()
        shown = await asyncio.to_thread(
            CliRunner().invoke, commands, ["history", handle.id, "--workflow", "--json"]
        )
    assert shown.exit_code == 0, shown.output
    timeline = json.loads(shown.output)
    sources = [line["source"] for line in timeline]
    assert sources.count("store") == 7
    assert sources.count("temporal") == len(lines)
    stored = [line["what"] for line in timeline if line["source"] == "store"]
    assert stored == ["Collected", "Warned", "Claimed", "Handled", "FollowedUp", "Evaluated", "Closed"]
    # Compared as times: ISO text leaves out a whole second's fraction, so "…29Z" sorts after "…29.024Z".
    times = [datetime.fromisoformat(line["at"]) for line in timeline]
    assert times == sorted(times)  # one timeline, in time order
