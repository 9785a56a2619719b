"""The closed loop as a pure transition table: the one place that says which step may follow which.

No I/O and no third-party imports, so the Temporal workflow sandbox, the event-sourced
aggregate and the projections all ask this same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    """Where a demand stands in the closed loop."""

    NEW = "new"  # the workflow exists but no submission has been recorded yet
    COLLECTED = "collected"
    DISPATCHED = "dispatched"
    CLAIMED = "claimed"
    HANDLED = "handled"
    FOLLOWED_UP = "followed_up"
    EVALUATED = "evaluated"  # transient: an evaluation is followed at once by close or reopen
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    MERGED = "merged"
    REJECTED = "rejected"  # the workflow's only: no valid submission ever came, nothing was collected

    @property
    def is_open(self) -> bool:
        """True while the demand still waits for someone to act."""
        return self in OPEN

    @property
    def is_final(self) -> bool:
        """True once nothing but a reopen can change the demand."""
        return self in FINAL


class Step(StrEnum):
    """Everything that can happen to a demand; each accepted step is one domain event."""

    COLLECT = "collect"
    AMEND = "amend"  # the platform pushed the demand again with changed content, before a claim
    SUPPLEMENT = "supplement"  # the resident adds text or a photo
    DISPATCH = "dispatch"
    CLAIM = "claim"
    RELEASE = "release"
    HANDLE = "handle"
    FOLLOW_UP = "follow_up"
    EVALUATE = "evaluate"
    CLOSE = "close"
    REOPEN = "reopen"
    WITHDRAW = "withdraw"
    MERGE = "merge"
    ABSORB = "absorb"  # the original of a merge takes in the duplicate's reporter
    ESCALATE = "escalate"
    TRANSFER = "transfer"
    REASSIGN = "reassign"
    EXTEND = "extend"
    WARN = "warn"
    MARK_OVERDUE = "mark_overdue"
    COMMEND = "commend"


OPEN = frozenset(
    {
        State.COLLECTED,
        State.DISPATCHED,
        State.CLAIMED,
        State.HANDLED,
        State.FOLLOWED_UP,
        State.EVALUATED,
    }
)
FINAL = frozenset({State.CLOSED, State.WITHDRAWN, State.MERGED})
UNCLAIMED = frozenset({State.COLLECTED, State.DISPATCHED})
PROMISED = frozenset(UNCLAIMED | {State.CLAIMED})
"""The states in which the promise to the resident ("2310") runs: from collection until handled."""
_ACTIVE = frozenset(OPEN - {State.EVALUATED})


@dataclass(frozen=True)
class Transition:
    """The states a step may start from and the state it leads to (None: the state stays)."""

    sources: frozenset[State]
    target: State | None


TRANSITIONS: dict[Step, Transition] = {
    Step.COLLECT: Transition(frozenset({State.NEW}), State.COLLECTED),
    Step.AMEND: Transition(UNCLAIMED, None),
    Step.SUPPLEMENT: Transition(_ACTIVE, None),
    Step.DISPATCH: Transition(UNCLAIMED, State.DISPATCHED),
    Step.CLAIM: Transition(UNCLAIMED, State.CLAIMED),
    Step.RELEASE: Transition(frozenset({State.CLAIMED}), State.COLLECTED),
    Step.HANDLE: Transition(frozenset({State.CLAIMED}), State.HANDLED),
    Step.FOLLOW_UP: Transition(frozenset({State.HANDLED}), State.FOLLOWED_UP),
    Step.EVALUATE: Transition(frozenset({State.FOLLOWED_UP}), State.EVALUATED),
    Step.CLOSE: Transition(frozenset({State.EVALUATED, State.FOLLOWED_UP}), State.CLOSED),
    # A reopen asked for is a late complaint about a closed demand; an unresolved follow-up and an
    # unsatisfied rating reopen a demand as part of their own step.
    Step.REOPEN: Transition(frozenset({State.CLOSED}), State.CLAIMED),
    Step.WITHDRAW: Transition(_ACTIVE, State.WITHDRAWN),
    Step.MERGE: Transition(_ACTIVE, State.MERGED),
    Step.ABSORB: Transition(_ACTIVE, None),
    Step.ESCALATE: Transition(_ACTIVE, None),
    Step.TRANSFER: Transition(_ACTIVE, None),
    Step.REASSIGN: Transition(frozenset({State.CLAIMED}), None),
    Step.EXTEND: Transition(_ACTIVE, None),
    Step.WARN: Transition(_ACTIVE, None),
    Step.MARK_OVERDUE: Transition(_ACTIVE, None),
    Step.COMMEND: Transition(frozenset({State.HANDLED, State.FOLLOWED_UP, State.CLOSED}), None),
}


class Refused(ValueError):
    """A command the demand cannot take now; the message names the demand, its state and the step."""

    def __init__(self, demand_id: str, state: State, step: Step, why: str) -> None:
        self.demand_id = demand_id
        self.state = state
        self.step = step
        self.why = why
        super().__init__(f"demand {demand_id} is {state.value}: cannot {step.value.replace('_', '-')}, {why}")


class TransitionRefused(Refused):
    """A step that the transition table does not allow from the demand's current state."""

    def __init__(self, demand_id: str, state: State, step: Step) -> None:
        sources = TRANSITIONS[step].sources
        if state is State.NEW:
            why = "it has not been collected yet"
        elif not sources:
            why = "it is never allowed"
        else:
            why = "only when " + " or ".join(s.value for s in sorted(sources, key=list(State).index))
        super().__init__(demand_id, state, step, why)


def allows(state: State, step: Step) -> bool:
    """Whether `step` may happen to a demand in `state`."""
    return state in TRANSITIONS[step].sources


def check(demand_id: str, state: State, step: Step) -> None:
    """Raise TransitionRefused unless `step` may happen to a demand in `state`."""
    if not allows(state, step):
        raise TransitionRefused(demand_id, state, step)


def next_state(state: State, step: Step) -> State:
    """The state a demand in `state` is in after `step` (which must be allowed)."""
    target = TRANSITIONS[step].target
    return state if target is None else target


def allowed_steps(state: State) -> list[Step]:
    """The steps a demand in `state` may take, in table order."""
    return [step for step in TRANSITIONS if allows(state, step)]
