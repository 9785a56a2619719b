"""Record MicroDemand workflow histories for the replay test: `.venv/bin/python tests/histories/record.py`.

Without `--all` only the newest scenario's history is written: the others are kept as the code of
their day recorded them (a history of older code in the same version is a demand that may still
be in flight).

Run it when the workflow changes *on purpose* in a way running demands may not see (and then
think about how running demands will be migrated: `workflow.patched`). The JSON files beside this
script are histories of real runs on the time-skipping server; `tests/integration/test_replay.py`
replays each with the current code and fails on any nondeterminism.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE.parent / "integration")]

from workflow_harness import open_stack, submission  # noqa: E402

from adapters.binaries import temporal_test_server  # noqa: E402
from adapters.demands_client import DemandsClient  # noqa: E402
from adapters.settings import Settings  # noqa: E402
from engine import commands as c  # noqa: E402

VERSION = "v2"
"""The workflow version these recordings are of: the hardened contract (`contract-v2`) and the
overdue board's meaning (`overdue-by-promise`). Histories of older versions stay beside them (the
files without a version, before `contract-v2`): demands of that version may still be in flight."""


async def scenarios(env: WorkflowEnvironment, settings: Settings) -> list[str]:
    """Drive the demands whose histories are kept; returns their workflow ids."""
    async with open_stack(env.client, settings) as stack:
        client = DemandsClient(env.client, stack.settings.task_queue)
        loop = await stack.start(submission(f"replay-{VERSION}-loop"))
        await env.client.get_workflow_handle(loop.id).signal("supplement", {"text": "it flickers too"})
        await env.client.get_workflow_handle(loop.id).signal("evaluation", {"rating": "meh"})  # rejected
        for command in [
            c.Claim(member="wang", unit="Party branch 1", co_claimants=("li",)),
            c.Handle(member="wang", hours=2, note="fixed"),
            c.FollowUp(worker="zhao", resolved=True),
            c.Evaluate(rating="unsatisfied", comment="it broke again"),
            c.Handle(member="li", hours=1),
            c.FollowUp(worker="zhao", resolved=True),
            c.Commend(by="resident", note="thank you"),
            c.Evaluate(rating="satisfied"),
            c.Complain(reason="the light went out again"),  # a late complaint, in the window
            c.Handle(member="wang", hours=1),
            c.FollowUp(worker="zhao", resolved=True),
            c.Evaluate(rating="satisfied"),
        ]:
            await client.command(loop.id, command)
        await env.sleep(timedelta(days=31))  # past the complaint window: the workflow completes
        ladder = await stack.start(submission(f"replay-{VERSION}-ladder"))
        await client.command(ladder.id, c.Transfer(by="op", to_unit="Water bureau", reason="pipes"))
        await env.sleep(timedelta(hours=20))
        await client.command(ladder.id, c.Extend(by="op", extra=timedelta(hours=6), reason="holiday"))
        await env.sleep(timedelta(days=4))  # warned, overdue, escalated up the ladder to the city
        original = await stack.start(submission(f"replay-{VERSION}-original"))
        duplicate = await stack.start(submission(f"replay-{VERSION}-duplicate"))
        await client.command(duplicate.id, c.Merge(by="op", into=original.id))
        await client.command(original.id, c.Withdraw(reason="solved by a neighbour"))
        await env.sleep(timedelta(seconds=1))
        rejected = await env.client.start_workflow(  # a malformed push: refused, then the grace runs out
            "MicroDemand", id=f"demand-wechat-replay-{VERSION}-rejected",
            task_queue=stack.settings.task_queue, start_signal="submit",
            start_signal_args=[{"source": "wechat", "title": 5}],
        )  # fmt: skip
        await env.sleep(timedelta(days=1))
        await rejected.result()
        ids = [loop.id, ladder.id, original.id, duplicate.id, rejected.id]
        await save(env.client, ids if "--all" in sys.argv else ids[-1:])
        return ids


async def save(client: Client, workflow_ids: list[str]) -> None:
    """Write each workflow's history as JSON beside this script."""
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        (HERE / f"{workflow_id}.json").write_text(history.to_json(), "utf-8")
        print(f"recorded {workflow_id}: {len(history.events)} events")


async def main() -> None:
    """Record on a fresh time-skipping server and a temporary store."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=str(temporal_test_server())
    )
    try:
        with tempfile.TemporaryDirectory() as var:
            await scenarios(env, Settings(_env_file=None, var_dir=Path(var)))  # type: ignore[call-arg]
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
