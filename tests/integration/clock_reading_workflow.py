"""A workflow that reads the machine's clock, which the sandbox must refuse (see test_sandbox.py)."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow


@workflow.defn(name="ClockReading", failure_exception_types=[Exception])
class ClockReading:
    """Reads `datetime.now()`, which is not deterministic; any error fails the workflow."""

    @workflow.run
    async def run(self) -> str:
        """The machine's time, which the sandbox should never let through."""
        return datetime.now().isoformat()
