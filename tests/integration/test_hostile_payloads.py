"""Property: whatever JSON arrives on a signal or an update, the workflow answers and no task fails."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from workflow_harness import Stack, open_stack, submission

from adapters.binaries import temporal_test_server
from adapters.settings import Settings
from engine.commands import SIGNALS, UPDATES
from engine.lifecycle import State
from workflows.demand import MicroDemandWorkflow

pytestmark = pytest.mark.integration

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=12,
)
PAYLOADS = st.one_of(
    JSON,
    st.fixed_dictionaries({"member": JSON, "unit": JSON}),  # close to a claim, wrong in its types
    st.fixed_dictionaries({"rating": st.sampled_from(["satisfied", "meh", "", 3])}),
)


@pytest.fixture(scope="module")
async def hostile(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Stack, WorkflowHandle[Any, Any]]]:
    """One collected demand on a real worker, for every example to throw things at.

    On a time-skipping server of its own: hundreds of messages leave activities in flight that
    would hold the shared server's clock for the tests after this one.
    """
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=str(temporal_test_server())
    )
    var = tmp_path_factory.mktemp("hostile")
    base = Settings(_env_file=None, var_dir=var, store="sqlite")  # type: ignore[call-arg]
    try:
        async with open_stack(env.client, base) as stack:
            yield stack, await stack.start(submission())
    finally:
        await env.shutdown()


async def still_well(handle: WorkflowHandle[Any, Any]) -> None:
    status = await handle.query(MicroDemandWorkflow.status)
    assert status.state in {State.COLLECTED, State.CLAIMED, State.HANDLED, State.FOLLOWED_UP, State.WITHDRAWN,
                            State.DISPATCHED, State.CLOSED}  # fmt: skip
    history = await handle.fetch_history()
    failed = [e for e in history.events if e.HasField("workflow_task_failed_event_attributes")]
    assert failed == [], failed[0].workflow_task_failed_event_attributes.failure.message


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from([*UPDATES, "no-such-update"]), payloads=st.lists(PAYLOADS, max_size=3))
async def test_any_update_payload_is_answered_with_a_typed_refusal_or_taken(
    hostile: tuple[Stack, WorkflowHandle[Any, Any]], name: str, payloads: list[Any]
) -> None:
    _, handle = hostile
    refusal: BaseException | None = None
    try:
        await handle.execute_update(name, args=payloads)
    except WorkflowUpdateFailedError as failure:
        refusal = failure.cause
    if refusal is not None:
        assert isinstance(refusal, ApplicationError)
        assert refusal.type in {"Invalid", "Refused"}, refusal
    await still_well(handle)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from([*SIGNALS, "absorb", "no-such-signal"]), payloads=st.lists(PAYLOADS, max_size=3))
async def test_any_signal_payload_leaves_the_demand_answering(
    hostile: tuple[Stack, WorkflowHandle[Any, Any]], name: str, payloads: list[Any]
) -> None:
    _, handle = hostile
    await handle.signal(name, args=payloads)
    # An update is taken in a workflow task after the signal before it: once it is answered, the
    # signal has been read, so what follows checks the demand after it, not before.
    with contextlib.suppress(WorkflowUpdateFailedError):
        await handle.execute_update("no-such-update")
    await still_well(handle)
