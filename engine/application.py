"""The event-store application: records each accepted command exactly once, and reads histories."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from engine import rules
from engine.commands import TIMER_COMMANDS, Absorb, Amend, Command, Merge, Submission
from engine.credentials import SYSTEM, actor
from engine.demand import FOREIGN_EVENTS, MicroDemand, aggregate_id, step_of
from engine.eventmodel import ACTOR, COMMAND, DomainEvent, PydanticApplication
from engine.intake import Rejection
from engine.lifecycle import Refused, State, Step
from engine.policies.timelimits import TimeLimits, load_time_limits
from engine.sealing import Sealer
from engine.status import DemandStatus
from engine.values import Resident, clean_line


class DemandNotFoundError(LookupError):
    """No demand with this id has been collected."""

    def __init__(self, demand_id: str) -> None:
        self.demand_id = demand_id
        super().__init__(f"demand {demand_id} not found")


class VersionGapError(RuntimeError):
    """The store is behind what the workflow expects: an event is missing. Never silently fixed."""


class StaleCommandError(Refused):
    """The demand moved on in the store since the caller last saw it, by something else than this
    command: nothing was recorded. Carries the stored status, so the caller can catch up."""

    def __init__(self, demand: MicroDemand, step: Step, expected_version: int, status: DemandStatus) -> None:
        self.status = status
        super().__init__(
            demand.demand_id, demand.state, step,
            f"it changed meanwhile (version {demand.version}, the command expected {expected_version}); "
            "nothing was recorded",
        )  # fmt: skip


class Demands(PydanticApplication):
    """The store of micro-demands: a thin façade over the MicroDemand aggregate."""

    name = "Demands"
    attempts = 20

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        limits: TimeLimits | None = None,
        actor_key: bytes | None = None,
        sealer: Sealer | None = None,
    ) -> None:
        super().__init__(env, sealer=sealer)
        self.limits = limits if limits is not None else load_time_limits()
        self.actor_key = actor_key
        """Verifies the credentials the application layer signs commands with (engine.credentials)."""

    def record(
        self,
        demand_id: str,
        command: Command,
        at: datetime,
        expected_version: int,
        command_id: UUID | None = None,
    ) -> DemandStatus:
        """Apply `command` to the demand at `expected_version` and store its events.

        Idempotent: if the events after `expected_version` begin with this very command (a retried
        activity, a replayed workflow: the same `command_id`, or for commands without one the same
        step at the same time), nothing is written and the stored status is returned.
        Events another demand's merge wrote meanwhile (`DuplicateAbsorbed`) are stepped over and
        the command applies on top of them; anything else after `expected_version` is refused
        (StaleCommandError), never dropped. Concurrent writers collide on the aggregate version.
        Every event records its actor: the command's verified credential, or the system for timers.
        """
        if command.step in TIMER_COMMANDS or isinstance(command, Absorb):
            who = SYSTEM
        else:
            who = actor(self.actor_key, command.actor, demand_id, command.step)
        token, command_token = ACTOR.set(who), COMMAND.set(command_id)
        try:
            return self._record_command(demand_id, command, at, expected_version)
        finally:
            COMMAND.reset(command_token)
            ACTOR.reset(token)

    def _record_command(
        self, demand_id: str, command: Command, at: datetime, expected_version: int
    ) -> DemandStatus:
        for _ in range(self.attempts):
            demand = self._find(demand_id)
            if isinstance(command, Submission) and demand is not None:
                if expected_version == 0:  # collected already: this very push retried, or a new run's
                    end = self._end_of(demand, COMMAND.get(), 0)
                    return self._status(demand) if end is None else self._status_at(demand, end)
                command = Amend.of(command)  # a repeated push: the same content, or an amendment
            current = demand.version if demand is not None else 0
            if current < expected_version:
                raise VersionGapError(
                    f"demand {demand_id} is at version {current} in the store, "
                    f"but the workflow expected {expected_version}"
                )
            if demand is not None and current > expected_version:
                end = self._recorded(demand, command, at, expected_version)
                if end is not None:  # as the command left it: the caller goes on from there
                    return self._status(demand) if end == current else self._status_at(demand, end)
            try:
                return self._apply(demand_id, demand, command, at)
            except IntegrityError:
                continue  # another writer saved first: read again and decide again
        raise RuntimeError(f"demand {demand_id}: commands kept colliding; nothing was recorded")

    def _recorded(
        self, demand: MicroDemand, command: Command, at: datetime, expected_version: int
    ) -> int | None:
        """The version at which the events after `expected_version` that hold `command` end (it was
        recorded already), or None if there are only other demands' absorbed duplicates, on top of
        which it can apply. StaleCommandError if something else happened meanwhile."""
        later: list[Any] = list(self.events.get(demand.id, gt=expected_version))
        while later and type(later[0]).__name__ in FOREIGN_EVENTS and command.step is not Step.ABSORB:
            later.pop(0)
        if not later:
            return None
        first = later[0]
        wanted = COMMAND.get()
        if wanted is not None and first.command_id is not None:
            if first.command_id == wanted:
                return self._end(later)
        elif step_of(first) is command.step and first.timestamp == at:
            return self._end(later)
        if (
            command.step is Step.ABSORB
            and isinstance(command, Absorb)
            and command.duplicate_id in demand.duplicates
        ):
            return demand.version
        raise StaleCommandError(demand, command.step, expected_version, self._status(demand))

    def _end_of(self, demand: MicroDemand, command_id: UUID | None, after: int) -> int | None:
        """Where the events of command `command_id` recorded right after version `after` end, if so."""
        later: list[Any] = list(self.events.get(demand.id, gt=after, limit=50))
        if command_id is None or not later or later[0].command_id != command_id:
            return None
        return self._end(later)

    @staticmethod
    def _end(later: list[Any]) -> int:
        """The last version of the run of events one command wrote, at the head of `later`."""
        first = later[0]
        same = first.command_id if first.command_id is not None else first.timestamp
        end = first.originator_version
        for event in later[1:]:
            if (event.command_id if first.command_id is not None else event.timestamp) != same:
                break
            end = event.originator_version
        return int(end)

    def _status_at(self, demand: MicroDemand, version: int) -> DemandStatus:
        """The demand's standing as it was at `version`."""
        then: MicroDemand = self.repository.get(demand.id, version=version)
        return self._status(then)

    def _apply(
        self, demand_id: str, demand: MicroDemand | None, command: Command, at: datetime
    ) -> DemandStatus:
        if isinstance(command, Submission):
            demand = MicroDemand.collect(command, at, self.limits)
            self.save(demand)
            return self._status(demand)
        if demand is None:
            raise Refused(demand_id, State.NEW, command.step, "it has not been collected yet")
        if isinstance(command, Amend) and demand.holds(command):
            return self._status(demand)  # a repeated push: nothing changes
        if isinstance(command, Absorb):
            return self._absorb(demand, command, at)
        if isinstance(command, Merge):
            return self._merge(demand, command, at)
        demand.apply(command, at, self.limits)
        self.save(demand)
        return self._status(demand)

    def _merge(self, duplicate: MicroDemand, command: Merge, at: datetime) -> DemandStatus:
        """Close the duplicate as merged and give its reporters to the original, in one transaction,
        so two crossed merges (A into B, B into A) can never both succeed."""
        rules.check(duplicate.status(), command)  # open, and not into itself
        original = self._find(command.into)
        if original is None or not original.state.is_open:
            why = "no such demand" if original is None else f"it is {original.state.value}"
            raise Refused(duplicate.demand_id, duplicate.state, Step.MERGE, f"{command.into}: {why}")
        duplicate.apply(command, at, self.limits)
        original.absorb(Absorb(by=command.by, duplicate_id=duplicate.demand_id), duplicate.reporters, at)
        self.save(duplicate, original)
        return self._status(duplicate)

    def _absorb(self, original: MicroDemand, command: Absorb, at: datetime) -> DemandStatus:
        """Take in a duplicate's reporters only if the store says it was merged into this demand."""
        if command.duplicate_id in original.duplicates:
            return self._status(original)
        duplicate = self._find(command.duplicate_id)
        if duplicate is None or duplicate.merged_into != original.demand_id:
            raise Refused(
                original.demand_id, original.state, Step.ABSORB,
                f"{command.duplicate_id} was not merged into it",
            )  # fmt: skip
        original.absorb(command, duplicate.reporters, at)
        self.save(original)
        return self._status(original)

    def reject(self, rejection_id: UUID, demand_id: str, message: str, reason: str, at: datetime) -> None:
        """Keep a refused or unreadable message to a demand's workflow, once (by its id)."""
        rejection = Rejection(
            rejection_id=rejection_id, demand_id=clean_line(demand_id, 300), message=clean_line(message, 100),
            reason=clean_line(reason, 1000), timestamp=at,
        )  # fmt: skip
        with contextlib.suppress(IntegrityError):  # an earlier attempt kept it
            self.save(rejection)

    def known(self, demand_id: str) -> bool:
        """Whether a demand with this id was ever collected (one stored event read, not its history)."""
        return bool(self.recorder.select_events(aggregate_id(demand_id), limit=1))

    def get(self, demand_id: str) -> MicroDemand:
        """The demand's aggregate; DemandNotFoundError if it was never collected."""
        demand = self._find(demand_id)
        if demand is None:
            raise DemandNotFoundError(demand_id)
        return demand

    def status(self, demand_id: str) -> DemandStatus:
        """The demand's current standing, from its events."""
        return self._status(self.get(demand_id))

    def reporters(self, demand_id: str) -> list[Resident]:
        """Everyone who reported the demand (its merged duplicates' reporters too), as stored."""
        return list(self.get(demand_id).reporters)

    def history(self, demand_id: str) -> list[DomainEvent]:
        """Every stored event of the demand, oldest first."""
        events: list[Any] = list(self.events.get(aggregate_id(demand_id)))
        if not events:
            raise DemandNotFoundError(demand_id)
        return events

    def _status(self, demand: MicroDemand) -> DemandStatus:
        return demand.status(self.limits)

    def _find(self, demand_id: str) -> MicroDemand | None:
        try:
            demand: MicroDemand = self.repository.get(aggregate_id(demand_id))
        except AggregateNotFoundError:
            return None
        return demand
