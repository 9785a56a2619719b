"""Workflow code stays replay-safe: recorded histories of real runs replay with the current code.

Demands live for weeks; a change to the workflow that would make their histories
nondeterministic breaks every demand in flight. The histories under tests/histories were
recorded by `tests/histories/record.py` (a full loop with a reopen, an escalation up the ladder
with a transfer and an extension, a merge), once before the hardened contract and once after it
(`*-v2-*`: a supplement, a rejected signal, a late complaint in the window and the workflow's end
after it; a malformed push refused until its grace ran out, with a patch decided after a store
write); a change that breaks them fails here, not in production. Changing behaviour on purpose
means `workflow.patched`, then recording anew.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from adapters.sandbox import workflow_runner
from workflows.demand import MicroDemandWorkflow

pytestmark = pytest.mark.integration
HISTORIES = sorted((Path(__file__).parents[1] / "histories").glob("*.json"))


def test_there_are_histories_to_replay() -> None:
    assert len(HISTORIES) >= 8
    assert any("-v2-" in p.stem for p in HISTORIES)  # today's workflow code is held to its histories too


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays_with_the_current_workflow_code(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, await asyncio.to_thread(path.read_text, "utf-8"))
    replayer = Replayer(
        workflows=[MicroDemandWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),  # the worker's sandbox
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
