"""The real MicroDemand workflow with a short run, to prove continue-as-new without thousands of events."""

from __future__ import annotations

from temporalio import workflow

from workflows.demand import MicroDemandWorkflow

with workflow.unsafe.imports_passed_through():
    from engine.status import DemandStatus


@workflow.defn(name="MicroDemand")
class ShortRunMicroDemand(MicroDemandWorkflow):
    """Continues as new after every two recorded commands."""

    records_per_run = 2

    @workflow.run
    async def run(self, carry: DemandStatus | None = None) -> DemandStatus:
        """The inherited loop, unchanged."""
        return await super().run(carry)
