"""Who sent a command, as the application layer authenticated them, signed so the store can tell.

The CLI and the HTTP API sign each command they send for someone with a key the store also
holds; the store records the signer as the event's `actor` when the signature holds, and
`temporal` (whoever holds the namespace's credentials: the platform) when there is none.
Pure: HMAC from the standard library.
"""

from __future__ import annotations

import hashlib
import hmac

from engine.lifecycle import Step
from engine.values import Name, Value

UNSIGNED = "temporal"
"""The actor of a command that came straight over Temporal (the platform), not through our layer."""
SYSTEM = "system"
"""The actor of what the workflow does by itself (timers)."""


class Credential(Value):
    """The authenticated sender of one command on one demand: name, role and signature."""

    name: Name
    role: Name
    signature: str


def _digest(key: bytes, name: str, role: str, demand_id: str, step: Step) -> str:
    message = "\x1f".join((name, role, demand_id, step.value)).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign(key: bytes, name: str, role: str, demand_id: str, step: Step) -> Credential:
    """A credential for `name` acting as `role` on `demand_id`'s `step`."""
    return Credential(name=name, role=role, signature=_digest(key, name, role, demand_id, step))


def actor(key: bytes | None, credential: Credential | None, demand_id: str, step: Step) -> str:
    """What the store records as the actor: `name (role)` if the credential holds, else `temporal`."""
    if key is None or credential is None:
        return UNSIGNED
    expected = _digest(key, credential.name, credential.role, demand_id, step)
    if not hmac.compare_digest(expected, credential.signature):
        return f"{UNSIGNED} (an unverified claim to be {credential.name})"
    return f"{credential.name} ({credential.role})"
