"""The real MicroDemand workflow with a five-second submission grace, for the contract suite."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RawValue

from workflows.demand import MicroDemandWorkflow

with workflow.unsafe.imports_passed_through():
    from engine.status import DemandStatus


@workflow.defn(dynamic=True)
class QuickGraceMicroDemand(MicroDemandWorkflow):
    """A push that never becomes a valid submission ends rejected within seconds."""

    submission_grace = timedelta(seconds=5)

    @workflow.run
    async def run(self, args: Sequence[RawValue]) -> DemandStatus:
        """The inherited loop, unchanged."""
        return await super().run(args)
