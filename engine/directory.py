"""The directory: the identities the system knows, their bearer tokens, and every reveal of a
resident's personal data. Event-sourced, in an application of its own, so who was given what,
and who saw whom, is kept as a history like everything else.

Tokens are stored as their SHA-256 digest only; the token itself is shown once, when issued.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from typing import Any, cast
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import event

from engine.access import Identity, Role
from engine.eventmodel import Aggregate, PydanticApplication
from engine.scope import Scope

TOKEN_PREFIX = "md_"


class UnauthenticatedError(PermissionError):
    """No valid token: missing, unknown, revoked, or its identity disabled."""


class UnknownIdentityError(LookupError):
    """No identity of that name."""


def digest(token: str) -> str:
    """How a token is stored and looked up: its SHA-256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


class Principal(Aggregate):
    """An identity: a name, a role and what the role is limited to."""

    @staticmethod
    def create_id(name: str) -> UUID:
        """One principal per name."""
        return uuid5(NAMESPACE_URL, f"microdemand:principal:{name}")

    @event("Registered")
    def __init__(
        self, name: str, role: Role, scope: Scope, unit: str | None, resident_key: str | None
    ) -> None:
        self.name, self.role, self.scope, self.unit, self.resident_key = name, role, scope, unit, resident_key
        self.disabled = False

    @event("Changed")
    def change(self, role: Role, scope: Scope, unit: str | None, resident_key: str | None) -> None:
        """Give the identity another role or scope."""
        self.role, self.scope, self.unit, self.resident_key = role, scope, unit, resident_key

    @event("Disabled")
    def disable(self, reason: str) -> None:
        """No token of this identity is accepted any more."""
        self.disabled = True

    def identity(self) -> Identity:
        """The identity as the access rules see it."""
        return Identity(
            name=self.name, role=self.role, scope=self.scope, unit=self.unit, resident_key=self.resident_key
        )


class Token(Aggregate):
    """A bearer token of a principal, kept as its digest."""

    @staticmethod
    def create_id(token_digest: str) -> UUID:
        """One aggregate per token, found by its digest."""
        return uuid5(NAMESPACE_URL, f"microdemand:token:{token_digest}")

    @event("Issued")
    def __init__(self, token_digest: str, prefix: str, principal: str, label: str) -> None:
        self.token_digest, self.prefix, self.principal, self.label = token_digest, prefix, principal, label
        self.revoked = False

    @event("Revoked")
    def revoke(self, reason: str) -> None:
        """The token is no longer accepted."""
        self.revoked = True


class Disclosure(Aggregate):
    """One reveal of a resident's personal data: who, on which demand, why."""

    @staticmethod
    def create_id(by: str, role: Role, demand_id: str, why: str) -> UUID:
        """Each reveal is a record of its own."""
        return uuid4()

    @event("Revealed")
    def __init__(self, by: str, role: Role, demand_id: str, why: str) -> None:
        self.by, self.role, self.demand_id, self.why = by, role, demand_id, why


class Directory(PydanticApplication):
    """Identities, tokens and disclosures."""

    name = "Directory"

    def register(self, identity: Identity) -> None:
        """Add an identity, or change the role and scope of an existing one."""
        found = self._principal(identity.name)
        if found is None:
            found = Principal(
                name=identity.name, role=identity.role, scope=identity.scope, unit=identity.unit,
                resident_key=identity.resident_key,
            )  # fmt: skip
        else:
            found.change(
                role=identity.role,
                scope=identity.scope,
                unit=identity.unit,
                resident_key=identity.resident_key,
            )
        self.save(found)

    def identity(self, name: str) -> Identity:
        """The identity of that name; UnknownIdentityError otherwise."""
        found = self._principal(name)
        if found is None:
            raise UnknownIdentityError(f"no identity named {name}")
        return found.identity()

    def disable(self, name: str, reason: str) -> None:
        """Refuse every token of the identity from now on."""
        found = self._principal(name)
        if found is None:
            raise UnknownIdentityError(f"no identity named {name}")
        found.disable(reason=reason)
        self.save(found)

    def issue(self, name: str, label: str = "") -> str:
        """A new bearer token for the identity; shown now, and never again (only its digest is kept)."""
        self.identity(name)  # UnknownIdentityError if there is none
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.save(Token(token_digest=digest(token), prefix=token[:12], principal=name, label=label))
        return token

    def revoke(self, prefix: str, reason: str) -> int:
        """Revoke every token whose text starts with `prefix` (at least 8 characters); how many."""
        if len(prefix) < 8:
            raise ValueError("give at least the first 8 characters of the token")
        revoked = 0
        for token in self._tokens():
            if not token.revoked and (token.prefix.startswith(prefix) or prefix.startswith(token.prefix)):
                token.revoke(reason=reason)
                self.save(token)
                revoked += 1
        return revoked

    def authenticate(self, token: str) -> Identity:
        """The identity a bearer token stands for; UnauthenticatedError if it stands for none."""
        try:
            found: Token = self.repository.get(Token.create_id(digest(token.strip())))
        except AggregateNotFoundError:
            raise UnauthenticatedError("unknown token") from None
        if found.revoked:
            raise UnauthenticatedError("the token was revoked")
        principal = self._principal(found.principal)
        if principal is None or principal.disabled:
            raise UnauthenticatedError(f"the identity {found.principal} is disabled")
        return principal.identity()

    def record_disclosure(self, identity: Identity, demand_id: str, why: str) -> None:
        """Keep a reveal of a resident's data (before it is shown)."""
        self.save(Disclosure(by=identity.name, role=identity.role, demand_id=demand_id, why=why))

    def identities(self) -> list[tuple[Identity, bool, int]]:
        """Every identity, whether it is disabled, and how many live tokens it has."""
        live: dict[str, int] = {}
        for token in self._tokens():
            if not token.revoked:
                live[token.principal] = live.get(token.principal, 0) + 1
        return [(p.identity(), p.disabled, live.get(p.name, 0)) for p in self._all(Principal)]

    def disclosures(self) -> list[dict[str, Any]]:
        """Every reveal, oldest first."""
        return [
            {"at": d.created_on, "by": d.by, "role": d.role.value, "demand_id": d.demand_id, "why": d.why}
            for d in self._all(Disclosure)
        ]

    def has_administrator(self) -> bool:
        """Whether any enabled identity is an administrator."""
        return any(p.role is Role.ADMINISTRATOR and not p.disabled for p in self._all(Principal))

    def _principal(self, name: str) -> Principal | None:
        try:
            return cast(Principal, self.repository.get(Principal.create_id(name)))
        except AggregateNotFoundError:
            return None

    def _tokens(self) -> list[Token]:
        return list(self._all(Token))

    def _all(self, kind: type[Any]) -> Iterator[Any]:
        """Every aggregate of a kind, by reading the directory's notifications (it stays small)."""
        prefix = f"{kind.__module__}:{kind.__qualname__}."
        seen: dict[UUID, None] = {}
        start = 1
        while True:
            page = self.recorder.select_notifications(start=start, limit=500)
            for notification in page:
                if notification.topic.startswith(prefix):
                    seen.setdefault(notification.originator_id, None)  # type: ignore[arg-type]
            if len(page) < 500:
                break
            start = page[-1].id + 1
        for aggregate_id in seen:
            yield self.repository.get(aggregate_id)
