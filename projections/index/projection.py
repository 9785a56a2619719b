"""The demand index projection: one row per demand, kept from the MicroDemand events alone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.dispatch import singledispatchmethod

from engine.demand import MicroDemand, step_of
from engine.intake import Rejection
from engine.lifecycle import State, Step, next_state
from engine.lookup import ResidentLookup
from engine.masking import mask_text
from engine.values import Claimant, Clock, Resident
from engine.vocabulary import Level, Outcome
from projections.index.models import DemandRecord, RejectionRow, next_deadline
from projections.index.view import DemandIndexView
from projections.projection import Projection, UnhandledEventError
from projections.view import replaced

E: Any = MicroDemand  # its @event classes are generated at runtime, unseen by mypy
Rejected: Any = Rejection.Rejected  # type: ignore[attr-defined]


def _clock(clock: Clock | None) -> dict[str, Any]:
    """The step clock's columns. A new clock (or none) also clears the warning and overdue marks,
    as the aggregate does: they belong to the deadline that is gone."""
    return {
        "clock_stage": clock.stage if clock else None,
        "clock_on_due": clock.on_due if clock else None,
        "clock_started_at": clock.started_at if clock else None,
        "warn_at": clock.warn_at if clock else None,
        "due_at": clock.due_at if clock else None,
        "warned": False,
        "overdue": False,
    }


def _promise(promise: Clock | None, at: datetime) -> dict[str, Any]:
    """The promise's columns, if the event carries one (it is then new, or moved)."""
    if promise is None:
        return {}
    return {
        "promise_started_at": promise.started_at,
        "promise_warn_at": promise.warn_at,
        "promised_by": promise.due_at,
        "promise_warned": promise.warned_by(at),
    }


_ENDED = {**_clock(None), "late": False, "promise_warned": False}
"""What a demand that ends leaves running: nothing, and it is no longer late."""


MOVED_BY_STEP = frozenset({"Dispatched", "Supplemented", "Handled", "FollowedUp"})
"""Events whose whole effect on a demand's row is its step and the clock it carries (if any)."""


class DemandIndexProjection(Projection[DemandIndexView]):
    """Keeps DemandIndexView: each event moves its demand's row by the one transition table.

    The events of `MOVED_BY_STEP` move the row by their step (`engine.demand.EVENT_STEPS`) and
    take their clock if they carry one; any other event of the aggregate with no handler is refused.
    With a `lookup`, every resident who reported a demand is findable by keyed hashes of their
    phone number and name (never the data itself); its holders are findable by name.
    """

    name = DemandIndexView.name

    def __init__(self, view: DemandIndexView, lookup: ResidentLookup | None = None) -> None:
        super().__init__(view)
        self.lookup = lookup

    def _residents(self, e: Any, *residents: Resident) -> None:
        if self.lookup is not None:
            self.view.add_keys(e.originator_id, {k for r in residents for k in self.lookup.keys(r)})

    def _holders(self, e: Any, claimant: Claimant | None) -> None:
        members = claimant.members if claimant is not None else ()
        self.view.replace_keys(e.originator_id, "member", frozenset(f"member:{m}" for m in members))

    @singledispatchmethod
    def process_event(self, domain_event: Any, position: int) -> None:
        """The events that only move a demand by their step (and take their clock): `MOVED_BY_STEP`.
        Any other event of a demand with no handler of its own is refused: a new event must be
        given a handler, or be listed there on purpose."""
        if not isinstance(domain_event, MicroDemand.Event):
            return  # not a demand's event: nothing to index
        if type(domain_event).__name__ not in MOVED_BY_STEP:
            raise UnhandledEventError(self.name, domain_event)
        step = step_of(domain_event)
        clock = getattr(domain_event, "clock", None)
        self._step(domain_event, position, step, **(_clock(clock) if clock is not None else {}))

    @process_event.register(E.Collected)
    def _collected(self, e: Any, position: int) -> None:
        where = e.location
        record = DemandRecord(
            originator_id=e.originator_id, demand_id=e.demand_id, source=e.source,
            external_id=e.external_id, kind=e.kind, title=mask_text(e.title), channel=e.channel,
            category=e.category, priority=e.priority, post=e.post, city=where.city,
            district=where.district, street=where.street, community=where.community, grid=where.grid,
            state=next_state(State.NEW, Step.COLLECT), level=Level.COMMUNITY,
            responsible_unit=where.community, collected_at=e.timestamp, updated_at=e.timestamp,
            version=e.originator_version, last_notification_id=position, **_clock(e.clock),
            **_promise(e.promise, e.timestamp),
        )  # fmt: skip
        self.view.save(replaced(record, {"next_due_at": _next_due(record)}))
        self._residents(e, e.resident)

    @process_event.register(E.Amended)
    def _amended(self, e: Any, position: int) -> None:
        where = e.location
        changes: dict[str, Any] = {
            "kind": e.kind, "title": mask_text(e.title), "channel": e.channel, "category": e.category,
            "priority": e.priority, "post": e.post, "city": where.city, "district": where.district,
            "street": where.street, "community": where.community, "grid": where.grid,
            "responsible_unit": lambda r: (
                where.community if r.level is Level.COMMUNITY else r.responsible_unit
            ),
        }  # fmt: skip
        if e.clock is not None:
            changes |= {**_clock(e.clock), "warned": e.clock.warned_by(e.timestamp)}
        if self._step(e, position, Step.AMEND, **changes, **_promise(e.promise, e.timestamp)):
            self._residents(e, e.resident)  # the one it was reported with before stays findable

    @process_event.register(Rejected)
    def _rejected(self, e: Any, position: int) -> None:
        self.view.reject(
            RejectionRow(
                rejection_id=e.originator_id,
                demand_id=e.demand_id,
                message=e.message,
                reason=e.reason,
                at=e.timestamp,
                notification_id=position,
            )
        )

    @process_event.register(E.Claimed)
    def _claimed(self, e: Any, position: int) -> None:
        if self._step(
            e, position, Step.CLAIM, **_clock(e.clock), claimant_member=e.claimant.member,
            claimant_unit=e.claimant.unit, claimed_at=lambda r: r.claimed_at or e.timestamp,
        ):  # fmt: skip
            self._holders(e, e.claimant)

    @process_event.register(E.Released)
    def _released(self, e: Any, position: int) -> None:
        if self._step(e, position, Step.RELEASE, **_clock(e.clock), claimant_member=None, claimant_unit=None):
            self._holders(e, None)

    @process_event.register(E.Evaluated)
    def _evaluated(self, e: Any, position: int) -> None:
        # The latest rating stays through a reopen, so unsatisfied residents count in the rate.
        self._step(e, position, Step.EVALUATE, rating=e.rating)

    @process_event.register(E.Closed)
    def _closed(self, e: Any, position: int) -> None:
        self._step(e, position, Step.CLOSE, outcome=e.outcome, on_time=e.on_time, closed_at=e.timestamp)

    @process_event.register(E.Reopened)
    def _reopened(self, e: Any, position: int) -> None:
        self._step(
            e, position, Step.REOPEN, **_clock(e.clock), **_promise(e.promise, e.timestamp), outcome=None,
            on_time=None, closed_at=None, reopened=lambda r: r.reopened + 1,
        )  # fmt: skip

    @process_event.register(E.Withdrawn)
    def _withdrawn(self, e: Any, position: int) -> None:
        self._step(e, position, Step.WITHDRAW, outcome=Outcome.WITHDRAWN, withdrawn_at=e.timestamp)

    @process_event.register(E.Merged)
    def _merged(self, e: Any, position: int) -> None:
        self._step(e, position, Step.MERGE, outcome=Outcome.MERGED, merged_into=e.into)

    @process_event.register(E.DuplicateAbsorbed)
    def _absorbed(self, e: Any, position: int) -> None:
        # Only the count: the absorbed reporter is personal data and stays in the store.
        if self._step(e, position, Step.ABSORB, duplicates=lambda r: r.duplicates + 1):
            self._residents(e, e.reporter)

    @process_event.register(E.Escalated)
    def _escalated(self, e: Any, position: int) -> None:
        self._step(
            e, position, Step.ESCALATE, **_clock(e.clock), level=e.to_level, responsible_unit=e.to_unit,
            escalations=lambda r: r.escalations + 1,
        )  # fmt: skip

    @process_event.register(E.Transferred)
    def _transferred(self, e: Any, position: int) -> None:
        self._step(e, position, Step.TRANSFER, responsible_unit=e.to_unit)

    @process_event.register(E.Reassigned)
    def _reassigned(self, e: Any, position: int) -> None:
        if self._step(
            e, position, Step.REASSIGN, claimant_member=e.claimant.member, claimant_unit=e.claimant.unit
        ):
            self._holders(e, e.claimant)

    @process_event.register(E.Extended)
    def _extended(self, e: Any, position: int) -> None:
        moved = {**_clock(e.clock), "warned": e.clock.warned_by(e.timestamp)} if e.clock is not None else {}
        self._step(e, position, Step.EXTEND, **moved, **_promise(e.promise, e.timestamp))

    @process_event.register(E.Warned)
    def _warned(self, e: Any, position: int) -> None:
        self._step(e, position, Step.WARN, **{"promise_warned" if e.promise else "warned": True})

    @process_event.register(E.Overdue)
    def _overdue(self, e: Any, position: int) -> None:
        # Past the promise, the demand is late until it ends; past a step clock's deadline, only
        # that clock is spent (an escalation follows, with a fresh one, unless at the top).
        self._step(e, position, Step.MARK_OVERDUE, **{"late" if e.promise else "overdue": True})

    @process_event.register(E.Commended)
    def _commended(self, e: Any, position: int) -> None:
        self._step(e, position, Step.COMMEND, commendations=lambda r: r.commendations + 1)

    def _step(self, e: Any, position: int, step: Step, **changes: Any) -> bool:
        """Move the demand's row by `step`; callables in `changes` compute from the current row.
        False if the row holds the event already (a replayed notification)."""
        record = self.view.record(e.originator_id)
        if record is None:
            raise LookupError(
                f"{type(e).__name__} for aggregate {e.originator_id}, which was never collected"
            )
        if e.originator_version <= record.version:
            return False  # already in the row (a replayed notification): count it once
        state = next_state(record.state, step)
        update = {k: v(record) if callable(v) else v for k, v in changes.items()}
        if state.is_final and not record.state.is_final:
            update = {**_ENDED, **update}
        update |= {
            "state": state, "updated_at": e.timestamp, "version": e.originator_version,
            "last_notification_id": position,
        }  # fmt: skip
        row = record.__dict__ | update  # the moved row's values, read without building it twice
        update["next_due_at"] = next_deadline(
            row["state"], row["promised_by"], row["late"], row["due_at"], row["clock_on_due"], row["overdue"]
        )
        self.view.save(replaced(record, update))
        return True


def _next_due(r: DemandRecord) -> datetime | None:
    return next_deadline(r.state, r.promised_by, r.late, r.due_at, r.clock_on_due, r.overdue)
