"""Whether a command may be applied to a demand: the transition table plus the few rules beyond it.

Pure, like the table: the workflow's update validators and the aggregate's guards both call
`check`, so a command refused in one place is refused in the other with the same words.
"""

from __future__ import annotations

from engine import lifecycle
from engine.commands import Command, Escalate, Handle, Merge, Reassign, Release, Transfer
from engine.lifecycle import Refused
from engine.status import DemandStatus


def check(status: DemandStatus, command: Command) -> None:
    """Raise Refused (naming the demand, its state and the step) unless `command` may apply."""
    lifecycle.check(status.demand_id, status.state, command.step)
    problem = _problem(status, command)
    if problem:
        raise Refused(status.demand_id, status.state, command.step, problem)


def _problem(status: DemandStatus, command: Command) -> str | None:
    holders = status.claimant.members if status.claimant else ()
    match command:
        case Release(member=member) | Handle(member=member) if member not in holders:
            return f"{member} does not hold it (held by {', '.join(holders) or 'nobody'})"
        case Escalate() if status.level.above is None:
            return f"it is already at the top of the ladder ({status.level.value})"
        case Transfer(to_unit=unit) if unit == status.responsible_unit:
            return f"it is already with {unit}"
        case Merge(into=original) if original == status.demand_id:
            return "a demand cannot be merged into itself"
        case Reassign(member=member) if status.claimant and member == status.claimant.member:
            return f"{member} already holds it"
    return None
