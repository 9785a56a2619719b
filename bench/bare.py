"""The baseline of the lifecycle benchmark: bare Temporal workflows answering the same signal and updates.

`BareDemand` takes the same `submit` signal and `claim`, `handle`, `follow_up` and `evaluate`
updates (the same pydantic payloads, validated by the same kind of validator) with no store at
all. Its `step` input adds one no-op activity per step, as a regular or a local activity, so the
gap between bare Temporal and microdemand can be split into "one more round trip" and "the store".
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Literal

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from engine.commands import Claim, Command, Evaluate, FollowUp, Handle, Submission

StepKind = Literal["none", "activity", "local"]
STEP_TIMEOUT = timedelta(seconds=15)
ORDER = {"collected": "claim", "claimed": "handle", "handled": "follow_up", "followed_up": "evaluate"}
_NEXT = {"claim": "claimed", "handle": "handled", "follow_up": "followed_up", "evaluate": "closed"}


@activity.defn(name="bare_step")
async def bare_step(step: str) -> str:
    """A no-op step: the cost of one activity round trip and nothing else."""
    return step


@workflow.defn(name="BareDemand")
class BareDemand:
    """A demand's loop with no store: state in the workflow only."""

    @workflow.init
    def __init__(self, step: StepKind = "none") -> None:
        self.kind = step
        self.state = "new"
        self.lock = asyncio.Lock()

    @workflow.run
    async def run(self, step: StepKind = "none") -> str:
        """Wait for the submission, then until the loop is closed."""
        await workflow.wait_condition(lambda: self.state != "new")
        await workflow.wait_condition(lambda: self.state == "closed" and workflow.all_handlers_finished())
        return self.state

    @workflow.signal
    async def submit(self, submission: Submission) -> None:
        """Collect once; repeats change nothing."""
        if self.state == "new":
            async with self.lock:
                await self._step("collect")
                self.state = "collected"

    async def _step(self, step: str) -> None:
        if self.kind == "activity":
            await workflow.execute_activity(bare_step, step, start_to_close_timeout=STEP_TIMEOUT)
        elif self.kind == "local":
            await workflow.execute_local_activity(bare_step, step, start_to_close_timeout=STEP_TIMEOUT)

    async def _apply(self, command: Command) -> str:
        await workflow.wait_condition(lambda: self.state != "new")
        async with self.lock:
            self._check(command)
            await self._step(command.step.value)
            self.state = _NEXT[command.step.value]
        return self.state

    def _check(self, command: Command) -> None:
        if self.state != "new" and ORDER.get(self.state) != command.step.value:
            raise ValueError(f"cannot {command.step.value} when {self.state}")

    @workflow.update
    async def claim(self, cmd: Claim) -> str:
        """Take the demand."""
        return await self._apply(cmd)

    @claim.validator
    def _validate_claim(self, cmd: Claim) -> None:
        self._check(cmd)

    @workflow.update
    async def handle(self, cmd: Handle) -> str:
        """Report it done."""
        return await self._apply(cmd)

    @handle.validator
    def _validate_handle(self, cmd: Handle) -> None:
        self._check(cmd)

    @workflow.update
    async def follow_up(self, cmd: FollowUp) -> str:
        """Check with the resident."""
        return await self._apply(cmd)

    @follow_up.validator
    def _validate_follow_up(self, cmd: FollowUp) -> None:
        self._check(cmd)

    @workflow.update
    async def evaluate(self, cmd: Evaluate) -> str:
        """Rate it; this closes the loop."""
        return await self._apply(cmd)

    @evaluate.validator
    def _validate_evaluate(self, cmd: Evaluate) -> None:
        self._check(cmd)
