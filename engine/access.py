"""Who may do what: identities, their roles and scopes, and the one role matrix. Pure: no I/O.

The CLI and the HTTP API ask `check` (through the application layer, `adapters/services.py`)
before they do anything for someone, so a rule is refused the same way wherever it is asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.lifecycle import Step
from engine.scope import Scope
from engine.values import Location, Name, Value
from engine.vocabulary import Act, Role

__all__ = ["MATRIX", "Act", "DemandSubject", "Forbidden", "Identity", "Role", "check", "places"]


_RESIDENT_STEPS = frozenset({Step.SUPPLEMENT, Step.WITHDRAW, Step.EVALUATE, Step.REOPEN, Step.COMMEND})
_MEMBER_STEPS = frozenset({Step.CLAIM, Step.RELEASE, Step.HANDLE})
_OPERATOR_STEPS = frozenset(Step) - {Step.WARN, Step.MARK_OVERDUE, Step.CLOSE, Step.ABSORB}

MATRIX: dict[Role, frozenset[str]] = {
    Role.PLATFORM: frozenset({Step.COLLECT, Step.AMEND, *_RESIDENT_STEPS, Act.READ}),
    Role.OPERATOR: frozenset({*_OPERATOR_STEPS, Act.READ, Act.REVEAL, Act.FIGURES, Act.POINTS}),
    Role.MEMBER: frozenset({*_MEMBER_STEPS, Act.READ, Act.POINTS, Act.REDEEM}),
    Role.ANALYST: frozenset({Act.READ, Act.FIGURES, Act.POINTS}),
    Role.RESIDENT: frozenset({*_RESIDENT_STEPS, Act.READ}),
    Role.ADMINISTRATOR: frozenset({*_OPERATOR_STEPS, *Act}),
}
"""What each role may do at all; `check` then limits it to the role's own demands, scope or account."""


class Identity(Value):
    """Someone the system knows, as authenticated: a name, a role, and what the role is limited to."""

    name: Name
    role: Role
    scope: Scope = Scope()
    """An operator's place on the ladder (everywhere for the other roles)."""
    unit: Name | None = None
    """A member's unit (for claims and dual points)."""
    resident_key: str | None = None
    """A resident's keyed phone hash: their own demands are those whose resident has it."""

    def __str__(self) -> str:
        place = f" of {self.scope}" if self.role is Role.OPERATOR and not self.scope.everywhere else ""
        return f"{self.name} ({self.role.value}{place})"


@dataclass(frozen=True)
class DemandSubject:
    """What the rules need to know of a demand someone wants to act on."""

    demand_id: str
    location: Location | None
    holders: tuple[str, ...] = ()
    residents: frozenset[str] = frozenset()
    """Keyed hashes (`engine.lookup`) of everyone who reported it, merged duplicates' reporters too."""


class Forbidden(PermissionError):
    """The identity may not do this; the message says who, what, and why not."""


def check(
    identity: Identity,
    act: Step | Act,
    *,
    demand: DemandSubject | None = None,
    account: str | None = None,
) -> None:
    """Raise Forbidden unless `identity` may do `act` (on `demand`, or for `account`)."""
    what = act.value.replace("_", "-")
    if act not in MATRIX[identity.role]:
        raise Forbidden(f"{identity} may not {what}")
    if identity.role is Role.ADMINISTRATOR:
        return
    if demand is not None:
        _demand_allowed(identity, act, what, demand)
    if account is not None and identity.role is Role.MEMBER and account != identity.name:
        raise Forbidden(f"{identity} may {what} only for their own account, not {account}'s")


def _demand_allowed(identity: Identity, act: Step | Act, what: str, demand: DemandSubject) -> None:
    role = identity.role
    if role is Role.OPERATOR and (demand.location is None or not identity.scope.contains(demand.location)):
        raise Forbidden(f"{identity} may not {what} {demand.demand_id}: it lies outside {identity.scope}")
    own = identity.resident_key is not None and identity.resident_key in demand.residents
    if role is Role.RESIDENT and not own:
        raise Forbidden(f"{identity} may {what} only their own demands, not {demand.demand_id}")
    if role is Role.MEMBER and act in (Step.RELEASE, Step.HANDLE) and identity.name not in demand.holders:
        raise Forbidden(f"{identity} may not {what} {demand.demand_id}: they do not hold it")


def places(identity: Identity, asked: Scope | None = None) -> tuple[Scope, ...]:
    """The places a listing or a figure for `identity` is limited to, all at once: the one asked
    for and, for an operator, their own (a street operator asking for a community gets that
    community within their street, and nothing of other streets)."""
    own = identity.scope if identity.role is Role.OPERATOR else None
    return tuple(dict.fromkeys(s for s in (asked, own) if s is not None and not s.everywhere))


def roles_that_may(act: Step | Act) -> Iterable[Role]:
    """The roles whose matrix holds `act` (for the documentation and the console)."""
    return [role for role, acts in MATRIX.items() if act in acts]
