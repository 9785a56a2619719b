"""A forgotten resident is unreadable in Temporal's history too, and their demand's workflow goes on.

The codec seals each resident inside a payload with the resident's own key before it encrypts the
whole with the codec key: destroying the resident's key leaves the codec key able to open the
payload but not the resident in it, who then reads as forgotten. The workflow never branches on a
resident, so its history replays exactly, and the demand can still go round its loop.
"""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer
from workflow_harness import collected, queue_settings, running_worker, submission, submit, terminate_quietly

from adapters.bootstrap import System
from adapters.codec import ENCODING, ResidentCodec
from adapters.forgetting import find, forget
from adapters.sandbox import workflow_runner
from adapters.settings import Settings
from engine.access import Identity, Role
from engine.commands import Claim, Evaluate, FollowUp, Handle
from engine.lifecycle import State
from engine.status import DemandStatus
from engine.values import FORGOTTEN_NAME, Resident
from workflows.demand import MicroDemandWorkflow

pytestmark = [pytest.mark.integration, pytest.mark.devserver]
ADMIN = Identity(name="admin", role=Role.ADMINISTRATOR)


def payloads(history: WorkflowHistory) -> list[Payload]:
    """Every payload of the history's signals, updates and inputs, as Temporal keeps them."""
    found: list[Payload] = []
    for event in history.events:
        for attributes in (
            event.workflow_execution_started_event_attributes.input,
            event.workflow_execution_signaled_event_attributes.input,
        ):
            found += list(attributes.payloads)
        found += list(
            event.workflow_execution_update_accepted_event_attributes.accepted_request.input.args.payloads
        )
    return found


async def readable(codec: ResidentCodec, history: WorkflowHistory) -> bytes:
    """All that the codec makes of the history's payloads."""
    opened = await codec.decode(payloads(history))
    return b"\n".join(p.data for p in opened)


async def test_a_forgotten_resident_is_unreadable_in_temporal_and_the_workflow_replays_on(
    dev_server_env: WorkflowEnvironment, sqlite_settings: Settings
) -> None:
    address = dev_server_env.client.service_client.config.target_host
    settings = queue_settings(sqlite_settings.model_copy(update={"temporal_address": address}))
    system = System(settings)
    client = await system.temporal()  # the codec, with residents' keys
    # Values that cannot occur by chance in base64 text (a bare "Li" does, now and then).
    person = Resident(name="Wang Xiuying", phone="13912345678", address="Building 7, flat 12")
    sub = submission().model_copy(update={"resident": person})
    resident = [sub.resident.name, sub.resident.phone, sub.resident.address]
    # No workflow cache: every activation replays the history from the start, through the codec.
    async with running_worker(client, settings, max_cached_workflows=0):
        handle = await submit(client, sub, settings.task_queue)
        try:
            await collected(handle)
            await handle.execute_update("claim", Claim(member="wang", unit="Party branch 1"))
            history = await handle.fetch_history()
            raw = history.to_json()
            assert ENCODING.decode() in str([p.metadata for p in payloads(history)])
            assert not any(value in raw for value in resident)
            codec_key_only = ResidentCodec(system.keys.codec)
            outer = b"\n".join(
                codec_key_only.open(p).data
                for p in payloads(history)
                if p.metadata.get("encoding") == ENCODING
            )
            assert sub.title.encode() in outer  # the codec key opens the payload ...
            assert not any(value.encode() in outer for value in resident)  # ... not the resident in it
            full: Any = client.data_converter.payload_codec
            before = await readable(full, history)
            assert all(value.encode() in before for value in resident)

            assert forget(system, ADMIN, find(system, sub.resident.phone, None), "erasure request") == 1

            fresh: Any = (await System(settings).temporal()).data_converter.payload_codec
            after = await readable(fresh, history)
            assert FORGOTTEN_NAME.encode() in after
            assert not any(value.encode() in after for value in resident)
            replayer = Replayer(
                workflows=[MicroDemandWorkflow], data_converter=client.data_converter,
                workflow_runner=workflow_runner(),
            )  # fmt: skip
            replayed = await replayer.replay_workflow(
                await handle.fetch_history(), raise_on_replay_failure=False
            )
            assert replayed.replay_failure is None

            for update, command in (
                ("handle", Handle(member="wang", hours=1, note="fixed")),
                ("follow_up", FollowUp(worker="zhao", resolved=True)),
                ("evaluate", Evaluate(rating="satisfied")),
            ):
                status = await handle.execute_update(update, command, result_type=DemandStatus)
            assert status.state is State.CLOSED
        finally:
            await terminate_quietly(handle)
