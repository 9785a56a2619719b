"""Residents' personal data sealed with a key of each resident's own, so that destroying the key
forgets them everywhere their data was written, and nothing else.

A resident (name, phone, address) is sealed as `{"sealed": <base64 nonce + AES-256-GCM>, "kid":
<the key's id>}`. The key belongs to the resident: it is found by a keyed hash of their phone number
(or of their name when they gave no phone, `engine.lookup`), so all of one resident's demands share
it. Once it is destroyed, opening gives `FORGOTTEN`, a valid resident that says so, never an error:
the event still loads, the workflow still replays, every figure still counts.

The store's mapper (`engine.eventmodel`) seals the `resident` and `reporter` fields of the events
it writes; the Temporal payload codec (`adapters/codec.py`) seals the residents inside every
payload before encrypting the whole with the deployment's codec key. Where keys are kept (a table
of their own, wrapped by a deployment key) is the adapters' business: `ResidentKeys`.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import orjson

from engine.lookup import ResidentLookup
from engine.values import FORGOTTEN, Resident

PERSONAL_FIELDS = frozenset({"resident", "reporter"})
"""The fields that hold one resident (events: `Collected`, `Amended`, `DuplicateAbsorbed`)."""
PERSONAL_LISTS = frozenset({"reporters"})
"""The fields that hold a list of residents (a demand's reporters, wherever they travel)."""
SEALED = "sealed"
FORGOTTEN_MARK = "forgotten"
_FORGOTTEN_DUMP = FORGOTTEN.model_dump(mode="json")


class SealError(ValueError):
    """A sealed resident that cannot be opened although its key exists: damaged, or not ours."""


class ResidentKeys(Protocol):
    """Where residents' keys are kept: one live key per resident, destroyed to forget them."""

    def current(self, resident_id: str, name_id: str, who: bytes) -> tuple[str, bytes]:
        """The live key of the resident `resident_id` as `(kid, key)`, made now if they have none.

        `name_id` is the keyed hash of their name (so they can be forgotten by name too) and `who`
        their phone and name, sealed by the caller once the key is known (see `Sealer.who`)."""
        ...

    def find(self, kid: str) -> bytes | None:
        """The key `kid`, or None once it was destroyed (or never existed)."""
        ...

    def find_many(self, kids: Sequence[str]) -> dict[str, bytes | None]:
        """The keys `kids` at once (None for each destroyed); later `find`s of them may be answered
        from what this read (a replay asks for a page's keys in one query, not one per event)."""
        ...


def forgotten_dump() -> dict[str, Any]:
    """`FORGOTTEN`'s JSON, as opening a resident whose key is gone gives it."""
    return dict(_FORGOTTEN_DUMP)


def is_sealed(value: Any) -> bool:
    """Whether a resident's JSON is sealed (or marked forgotten) rather than plain."""
    return isinstance(value, dict) and (SEALED in value or FORGOTTEN_MARK in value)


class Sealer:
    """Seals and opens residents' JSON with the residents' own keys."""

    def __init__(self, keys: ResidentKeys, lookup: ResidentLookup) -> None:
        self.keys = keys
        self.lookup = lookup

    def resident_id(self, resident: dict[str, Any]) -> str:
        """Whose key seals this resident: their phone number's keyed hash, or their name's if none."""
        found = self.lookup.phone(str(resident.get("phone") or "")) or self.lookup.name(
            str(resident.get("name") or "")
        )
        if found is None:
            raise SealError("a resident with neither a phone number nor a name cannot be sealed")
        return found

    def seal(self, resident: dict[str, Any]) -> dict[str, Any]:
        """A plain resident's JSON sealed with their key (made now if they have none)."""
        if is_sealed(resident):
            return resident
        if resident == _FORGOTTEN_DUMP:
            return {FORGOTTEN_MARK: True}
        resident_id = self.resident_id(resident)
        name_id = self.lookup.name(str(resident.get("name") or "")) or resident_id
        plain = orjson.dumps(resident)
        who = orjson.dumps({"phone": resident.get("phone") or "", "name": resident.get("name") or ""})
        kid, key = self.keys.current(resident_id, name_id, who)
        return {SEALED: _encrypt(key, kid, plain), "kid": kid}

    def open(self, value: dict[str, Any]) -> dict[str, Any]:
        """A resident's plain JSON: opened if sealed, `FORGOTTEN`'s if their key is gone, else as it is."""
        if not is_sealed(value):
            return value
        kid = value.get("kid")
        key = self.keys.find(kid) if isinstance(kid, str) and SEALED in value else None
        if key is None:
            return forgotten_dump()
        opened = orjson.loads(_decrypt(key, kid, str(value[SEALED])))  # type: ignore[arg-type]
        if not isinstance(opened, dict):
            raise SealError(f"sealed resident {kid} does not hold a resident")
        return opened

    def prefetch(self, values: Sequence[Any]) -> None:
        """Read the keys of every sealed resident among `values` in one go, so opening them asks no more."""
        kids = sorted(
            {
                v["kid"]
                for v in values
                if isinstance(v, dict) and SEALED in v and isinstance(v.get("kid"), str)
            }
        )
        if kids:
            self.keys.find_many(kids)

    def seal_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        """`data` with every resident in it sealed (at any depth: a command inside a request)."""
        return _walk(data, self.seal)

    def open_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        """`data` with every sealed resident in it opened (or forgotten)."""
        return _walk(data, self.open)


def has_residents(data: Any) -> bool:
    """Whether JSON data holds a resident anywhere (plain or sealed)."""
    if isinstance(data, dict):
        return any(
            (k in PERSONAL_FIELDS and isinstance(v, dict))
            or (k in PERSONAL_LISTS and isinstance(v, list))
            or has_residents(v)
            for k, v in data.items()
        )
    if isinstance(data, list):
        return any(has_residents(v) for v in data)
    return False


def _walk(data: Any, change: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    if isinstance(data, dict):
        walked: dict[str, Any] = {}
        for k, v in data.items():
            if k in PERSONAL_FIELDS and isinstance(v, dict):
                walked[k] = change(v)
            elif k in PERSONAL_LISTS and isinstance(v, list):
                walked[k] = [change(r) if isinstance(r, dict) else r for r in v]
            else:
                walked[k] = _walk(v, change)
        return walked
    if isinstance(data, list):
        return [_walk(v, change) for v in data]
    return data


def _encrypt(key: bytes, kid: str, plain: bytes) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # only when a resident is sealed

    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, plain, kid.encode())).decode()


def _decrypt(key: bytes, kid: str, sealed: str) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        raw = base64.b64decode(sealed)
        return AESGCM(key).decrypt(raw[:12], raw[12:], kid.encode())
    except (InvalidTag, ValueError):
        raise SealError(f"sealed resident {kid} cannot be opened with its key: damaged") from None


def seal_who(key: bytes, kid: str, who: bytes) -> str:
    """A key's owner (phone and name) sealed under the key itself: readable only while it lives, so the
    keyed hashes can be computed again when the lookup key changes, and gone once it is destroyed."""
    return _encrypt(key, kid, who)


def open_who(key: bytes, kid: str, sealed: str) -> Resident:
    """The owner of a key, as sealed by `seal_who` (phone and name only)."""
    return Resident.model_validate(orjson.loads(_decrypt(key, kid, sealed)))
