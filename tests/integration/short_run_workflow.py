"""The real MicroDemand workflow with a short run, to prove continue-as-new without thousands of events."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio import workflow
from temporalio.common import RawValue

from workflows.demand import MicroDemandWorkflow

with workflow.unsafe.imports_passed_through():
    from engine.status import DemandStatus


@workflow.defn(dynamic=True)
class ShortRunMicroDemand(MicroDemandWorkflow):
    """Continues as new after every two recorded commands."""

    records_per_run = 2

    @workflow.run
    async def run(self, args: Sequence[RawValue]) -> DemandStatus:
        """The inherited loop, unchanged."""
        return await super().run(args)
