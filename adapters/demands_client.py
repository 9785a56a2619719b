"""Talking to demands' workflows: push (signal-with-start), command (updates), ask (query).

The one place that turns Temporal's errors into the domain's: a refused command, an unknown
demand, an unreachable server. The CLI (and any other entry point) goes through here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError, FailureError
from temporalio.service import RPCError, RPCStatusCode

from engine.commands import Submission
from engine.settings import Settings
from engine.status import DemandStatus

WORKFLOW_TYPE = "MicroDemand"


class CommandRefusedError(Exception):
    """The demand refused the command; the message names the demand, its state and the step."""


class DemandNotFoundError(LookupError):
    """No workflow exists for this demand id."""


class DemandsClient:
    """Pushes demands and sends commands to their `MicroDemand` workflows."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self.client = client
        self.task_queue = settings.task_queue

    async def submit(self, submission: Submission) -> str:
        """Signal-with-start `submit`: a repeated push changes nothing. Returns the demand id."""
        await self.client.start_workflow(
            WORKFLOW_TYPE,
            id=submission.demand_id,
            task_queue=self.task_queue,
            start_signal="submit",
            start_signal_args=[submission],
        )
        return submission.demand_id

    async def command(self, demand_id: str, update: str, payload: BaseModel) -> DemandStatus:
        """Run one workflow update; CommandRefusedError carries the refusal in one line."""
        handle = self._handle(demand_id)
        try:
            return await handle.execute_update(update, payload, result_type=DemandStatus)
        except WorkflowUpdateFailedError as error:
            raise CommandRefusedError(_reason(error)) from None
        except RPCError as error:
            await self._explain_rpc_error(demand_id, update, error)
            raise

    async def command_many(
        self,
        demand_ids: Iterable[str],
        update: str,
        payload: BaseModel,
        *,
        concurrency: int = 16,
        on_done: Callable[[str, str], None] | None = None,
    ) -> dict[str, str]:
        """Send one update to many demands, each once (duplicates in `demand_ids` are dropped).

        Returns each demand's outcome: "ok", or the one-line refusal. A refusal of one demand
        never stops the others; `on_done(demand_id, outcome)` reports progress.
        """
        limit = asyncio.Semaphore(concurrency)
        outcomes: dict[str, str] = {}

        async def one(demand_id: str) -> None:
            async with limit:
                try:
                    await self.command(demand_id, update, payload)
                    outcomes[demand_id] = "ok"
                except (CommandRefusedError, DemandNotFoundError) as error:
                    outcomes[demand_id] = str(error)
            if on_done is not None:
                on_done(demand_id, outcomes[demand_id])

        await asyncio.gather(*(one(d) for d in dict.fromkeys(demand_ids)))
        return outcomes

    async def status(self, demand_id: str) -> DemandStatus:
        """The `status` query of the demand's workflow."""
        try:
            return await self._handle(demand_id).query("status", result_type=DemandStatus)
        except WorkflowQueryFailedError as error:
            raise CommandRefusedError(f"demand {demand_id}: {error}") from None
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise DemandNotFoundError(f"demand {demand_id} not found") from None
            raise

    async def _explain_rpc_error(self, demand_id: str, update: str, error: RPCError) -> None:
        if error.status != RPCStatusCode.NOT_FOUND:
            return
        try:
            status = await self.status(demand_id)
        except DemandNotFoundError:
            raise DemandNotFoundError(f"demand {demand_id} not found") from None
        step = update.replace("_", "-")
        raise CommandRefusedError(
            f"demand {demand_id} is {status.state.value}: cannot {step}, its loop has ended"
        ) from None

    def _handle(self, demand_id: str) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(demand_id)


def _reason(error: WorkflowUpdateFailedError) -> str:
    cause: BaseException | None = error.cause
    while isinstance(cause, FailureError):
        if isinstance(cause, ApplicationError) or cause.cause is None:
            return cause.message
        cause = cause.cause
    return str(cause or error)
