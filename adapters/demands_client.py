"""Talking to demands' workflows: push (signal-with-start), command (updates), ask (query).

The one place that turns Temporal's errors into the domain's: a refused command, an unknown
demand, an unreachable server. The CLI, the HTTP API and the seeder go through here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError, FailureError
from temporalio.service import RPCError, RPCStatusCode

from engine.application import DemandNotFoundError
from engine.commands import Command, Submission
from engine.status import DemandStatus
from workflows.demand import WORKFLOW_TYPE, MicroDemandWorkflow


class CommandRefusedError(Exception):
    """The demand refused the command; the message names the demand, its state and the step."""


class LoopEndedError(CommandRefusedError):
    """The demand's workflow has completed: no command can reach it any more."""


class DemandsClient:
    """Pushes demands and sends commands to their `MicroDemand` workflows."""

    def __init__(self, client: Client, task_queue: str) -> None:
        self.client = client
        self.task_queue = task_queue

    async def submit(self, submission: Submission) -> str:
        """Signal-with-start `submit`: a repeated push changes nothing. Returns the demand id."""
        await self.client.start_workflow(
            WORKFLOW_TYPE,
            id=submission.demand_id,
            task_queue=self.task_queue,
            start_signal=Submission.signal,
            start_signal_args=[submission],
        )
        return submission.demand_id

    async def command(self, demand_id: str, command: Command) -> DemandStatus:
        """Run the workflow update that `command` names; CommandRefusedError carries a refusal in one line."""
        if command.update is None:
            raise TypeError(f"{type(command).__name__} is not sent by callers")
        try:
            return await self._handle(demand_id).execute_update(
                command.update, command, result_type=DemandStatus
            )
        except WorkflowUpdateFailedError as error:
            raise CommandRefusedError(_reason(error)) from None
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            status = await self.status(demand_id)  # DemandNotFoundError if there is no workflow at all
            raise LoopEndedError(
                f"demand {demand_id} is {status.state.value}: cannot {command.verb}, its loop has ended"
            ) from None

    async def signal(self, demand_id: str, command: Command) -> None:
        """Send a command the workflow takes by signal (a resident's supplement, say); it answers
        nothing: a signal it cannot take is kept as a rejection (see `microdemand rejected`)."""
        if command.signal is None:
            raise TypeError(f"{type(command).__name__} is not sent by signal")
        try:
            await self._handle(demand_id).signal(command.signal, command)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise DemandNotFoundError(demand_id) from None
            raise

    async def command_many(
        self,
        demand_ids: Iterable[str],
        command: Command,
        *,
        concurrency: int = 16,
        on_done: Callable[[str, str], None] | None = None,
    ) -> dict[str, str]:
        """Send one command to many demands, each once (duplicates in `demand_ids` are dropped).

        Returns each demand's outcome: "ok", or the one-line refusal. A refusal of one demand
        never stops the others; `on_done(demand_id, outcome)` reports progress.
        """
        limit = asyncio.Semaphore(concurrency)
        outcomes: dict[str, str] = {}

        async def one(demand_id: str) -> None:
            async with limit:
                try:
                    await self.command(demand_id, command)
                    outcomes[demand_id] = "ok"
                except (CommandRefusedError, DemandNotFoundError) as error:
                    outcomes[demand_id] = str(error)
            if on_done is not None:
                on_done(demand_id, outcomes[demand_id])

        await asyncio.gather(*(one(d) for d in dict.fromkeys(demand_ids)))
        return outcomes

    async def status(self, demand_id: str) -> DemandStatus:
        """The `status` query of the demand's workflow; DemandNotFoundError if Temporal has none."""
        try:
            return await self._handle(demand_id).query(MicroDemandWorkflow.status)
        except WorkflowQueryFailedError as error:
            raise CommandRefusedError(f"demand {demand_id}: {error}") from None
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise DemandNotFoundError(demand_id) from None
            raise

    def _handle(self, demand_id: str) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(demand_id)


def _reason(error: WorkflowUpdateFailedError) -> str:
    cause: BaseException | None = error.cause
    while isinstance(cause, FailureError):
        if isinstance(cause, ApplicationError) or cause.cause is None:
            return cause.message
        cause = cause.cause
    return str(cause or error)
