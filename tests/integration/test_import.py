"""`microdemand import` on real parts: past demands into the store (SQLite and PostgreSQL), open ones
handed to workflows on the time-skipping server, a re-import that changes nothing, and the sample
Karamay year read back as 100.0% claimed and 98.3% completed."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment
from workflow_harness import eventually, open_stack, submission

from adapters.bootstrap import System
from adapters.demands_client import DemandsClient
from adapters.importing import import_file
from adapters.seeding import write_sample_year
from adapters.settings import Settings
from engine import commands as c
from engine.lifecycle import State
from engine.past import PastDemand, PastStep
from projections.index.view import DemandIndexView
from workflows.demand import MicroDemandWorkflow

pytestmark = pytest.mark.integration
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def line(external_id: str, collected_at: datetime, *steps: tuple[timedelta, c.Command]) -> str:
    return PastDemand(
        submission=submission(external_id), collected_at=collected_at,
        steps=tuple(PastStep(at=collected_at + t, command=cmd) for t, cmd in steps),
    ).model_dump_json()  # fmt: skip


async def test_past_demands_are_stored_open_ones_run_on_and_a_second_import_changes_nothing(
    time_skipping_env: WorkflowEnvironment, settings: Settings, tmp_path: Path
) -> None:
    env = time_skipping_env
    async with open_stack(env.client, settings) as stack:
        now = await env.get_current_time()
        claim = c.Claim(member="wang", unit="Branch 1")
        lines = [
            line("old-closed", now - 40 * DAY, (HOUR, claim), (5 * HOUR, c.Handle(member="wang", hours=1)),
                 (6 * HOUR, c.FollowUp(worker="z", resolved=True)),
                 (7 * HOUR, c.Evaluate(rating="satisfied"))),
            line("lately-closed", now - 5 * DAY, (HOUR, claim), (5 * HOUR, c.Handle(member="wang", hours=1)),
                 (6 * HOUR, c.FollowUp(worker="z", resolved=True)),
                 (7 * HOUR, c.Evaluate(rating="satisfied"))),  # within the 30-day complaint window
            line("old-withdrawn", now - 40 * DAY, (HOUR, c.Withdraw(reason="solved it myself"))),
            line("still-open", now - 30 * HOUR, (HOUR, claim)),  # the promise warns at 38.4 hours
            line("refused", now - DAY, (HOUR, c.Handle(member="wang", hours=1))),  # never claimed
            "{not json",
            json.dumps({"submission": {"source": "x"}, "collected_at": now.isoformat()}),
        ]  # fmt: skip
        source = tmp_path / "past.jsonl"
        source.write_text("\n".join(lines) + "\n\n", "utf-8")
        system = System(stack.settings)
        client = DemandsClient(env.client, stack.settings.task_queue)

        async def connect() -> DemandsClient:
            return client

        report = await import_file(system, source, connect, now=now)
        assert (report.lines, report.stored, report.started, report.unchanged) == (7, 2, 2, 0)
        assert [(r.line, r.demand_id) for r in report.refused] == [
            (5, "demand-wechat-refused"), (6, None), (7, None),
        ]  # fmt: skip
        assert "is collected: cannot handle, only when claimed" in report.refused[0].why
        assert await asyncio.to_thread(stack.app.known, "demand-wechat-old-closed")
        assert not await asyncio.to_thread(stack.app.known, "demand-wechat-refused")

        handle = env.client.get_workflow_handle("demand-wechat-still-open")
        stack.handles.append(handle)

        async def adopted() -> bool:
            return (await handle.query(MicroDemandWorkflow.status)).state is State.CLAIMED

        await eventually(adopted)
        stored = await asyncio.to_thread(stack.app.status, "demand-wechat-still-open")
        assert await handle.query(MicroDemandWorkflow.status) == stored  # it adopted the demand as stored
        positions = await asyncio.to_thread(stack.app.recorder.max_notification_id)

        again = await import_file(system, source, connect, now=now)
        assert (again.stored, again.started, again.unchanged, len(again.refused)) == (0, 0, 4, 3)
        await handle.query(MicroDemandWorkflow.status)  # the push reached it, and changed nothing
        assert await asyncio.to_thread(stack.app.recorder.max_notification_id) == positions

        # closed 5 days ago, it waits for a late complaint in a workflow of its own: one reopens it
        closed = env.client.get_workflow_handle("demand-wechat-lately-closed")
        stack.handles.append(closed)
        reopened = await client.command("demand-wechat-lately-closed", c.Complain(reason="it broke again"))
        assert reopened.state is State.CLAIMED

        await env.sleep(10 * HOUR)  # its timers run on in the workflow: the promise warns at 38.4 hours

        async def warned() -> bool:
            return (await handle.query(MicroDemandWorkflow.status)).promise_warned

        await eventually(warned)


@pytest.fixture
def ram_settings(tmp_path: Path) -> Iterator[Settings]:
    """SQLite files in RAM where the machine offers it: the test is about counting, not fsync."""
    ram = Path("/dev/shm")
    with tempfile.TemporaryDirectory(
        dir=ram if ram.is_dir() and os.access(ram, os.W_OK) else tmp_path
    ) as var:
        yield Settings(_env_file=None, var_dir=Path(var), store="sqlite")  # type: ignore[call-arg]


async def test_the_sample_karamay_year_imports_to_100_percent_claimed_and_98_3_percent_completed(
    time_skipping_env: WorkflowEnvironment, ram_settings: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "sample-year-2025.jsonl"
    assert await asyncio.to_thread(write_sample_year, source, 2025) == 6185
    async with open_stack(time_skipping_env.client, ram_settings) as stack:
        system = System(stack.settings)
        client = DemandsClient(time_skipping_env.client, stack.settings.task_queue)

        async def connect() -> DemandsClient:
            return client

        now = await time_skipping_env.get_current_time()
        report = await import_file(system, source, connect, now=now)
        assert (report.stored, report.started, report.sample, report.refused) == (6079, 106, 6185, [])
        stack.handles += [
            time_skipping_env.client.get_workflow_handle(f"demand-sample-2025-2026-{n}")
            for n in range(6079, 6185)
        ]
        index_only = tuple(spec for spec in system.projection_specs() if spec.view is DemandIndexView)
        with system.projections(specs=index_only) as running:
            await asyncio.to_thread(running.wait_until_caught_up, 120)
        with system.index_view() as index:
            [year] = index.rates(since=datetime.fromisoformat("2025-01-01T00:00+08:00"),
                                 until=datetime.fromisoformat("2026-01-01T00:00+08:00"), now=now)  # fmt: skip
    assert (year.collected, year.claimed, year.closed) == (6185, 6185, 6079)
    assert (f"{year.claim_rate:.1%}", f"{year.completion_rate:.1%}") == ("100.0%", "98.3%")
