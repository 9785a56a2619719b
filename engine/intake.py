"""Pushes and signals the platform sent that could not be taken: kept in the store, for operators.

Each rejection is an aggregate of its own with one event, its id chosen by the workflow (a
deterministic UUID), so a retried activity collides with its first attempt instead of
recording the rejection twice. Only the reason is kept, never the payload: a rejected
payload may carry a resident's personal data.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import event

from engine.eventmodel import Aggregate


class Rejection(Aggregate):
    """A message to a demand's workflow that was refused or could not be read, and why."""

    @staticmethod
    def create_id(rejection_id: UUID, demand_id: str, message: str, reason: str, timestamp: datetime) -> UUID:
        """The id the workflow chose for it."""
        return rejection_id

    @event("Rejected")
    def __init__(
        self, rejection_id: UUID, demand_id: str, message: str, reason: str, timestamp: datetime
    ) -> None:
        self.demand_id = demand_id
        self.message = message
        self.reason = reason
