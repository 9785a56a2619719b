"""The event-store application: records each accepted command exactly once, and reads histories."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from engine.commands import Absorb, Command, Submission
from engine.demand import MicroDemand, aggregate_id
from engine.eventmodel import DomainEvent, PydanticApplication
from engine.policies.timelimits import TimeLimits, load_time_limits
from engine.status import DemandStatus


class DemandNotFoundError(LookupError):
    """No demand with this id has been collected."""

    def __init__(self, demand_id: str) -> None:
        self.demand_id = demand_id
        super().__init__(f"demand {demand_id} not found")


class VersionGapError(RuntimeError):
    """The store is behind what the workflow expects: an event is missing. Never silently fixed."""


class Demands(PydanticApplication):
    """The store of micro-demands: a thin façade over the MicroDemand aggregate."""

    name = "Demands"

    def __init__(self, env: Mapping[str, str] | None = None, *, limits: TimeLimits | None = None) -> None:
        super().__init__(env)
        self.limits = limits if limits is not None else load_time_limits()

    def record(self, demand_id: str, command: Command, at: datetime, expected_version: int) -> DemandStatus:
        """Apply `command` to the demand at `expected_version` and store its events.

        Idempotent: if the demand is already past `expected_version`, this command was recorded
        by an earlier attempt (a retried activity, a replayed workflow), so nothing is written
        and the stored status is returned. Concurrent writers collide on the aggregate version.
        """
        demand = self._find(demand_id)
        current = demand.version if demand is not None else 0
        if current > expected_version:
            assert demand is not None
            return demand.status()
        if current < expected_version:
            raise VersionGapError(
                f"demand {demand_id} is at version {current} in the store, "
                f"but the workflow expected {expected_version}"
            )
        if isinstance(command, Submission):
            demand = MicroDemand.collect(command, at, self.limits)
        elif isinstance(command, Absorb):
            assert demand is not None
            demand.absorb(command, self.get(command.duplicate_id).reporters, at)
        else:
            assert demand is not None
            demand.apply(command, at, self.limits)
        try:
            self.save(demand)
        except IntegrityError:
            stored = self._find(demand_id)
            if stored is None or stored.version <= expected_version:
                raise
            return stored.status()  # another attempt recorded it first
        return demand.status()

    def reopen(self, demand_id: str, reason: str, at: datetime) -> DemandStatus:
        """Reopen a demand directly in the store (a late complaint on a closed demand)."""
        demand = self.get(demand_id)
        demand.reopen(reason, at, self.limits)
        self.save(demand)
        return demand.status()

    def get(self, demand_id: str) -> MicroDemand:
        """The demand's aggregate; DemandNotFoundError if it was never collected."""
        demand = self._find(demand_id)
        if demand is None:
            raise DemandNotFoundError(demand_id)
        return demand

    def status(self, demand_id: str) -> DemandStatus:
        """The demand's current standing, from its events."""
        return self.get(demand_id).status()

    def history(self, demand_id: str) -> list[DomainEvent]:
        """Every stored event of the demand, oldest first."""
        events: list[Any] = list(self.events.get(aggregate_id(demand_id)))
        if not events:
            raise DemandNotFoundError(demand_id)
        return events

    def _find(self, demand_id: str) -> MicroDemand | None:
        try:
            demand: MicroDemand = self.repository.get(aggregate_id(demand_id))
        except AggregateNotFoundError:
            return None
        return demand
