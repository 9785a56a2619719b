"""Keyed hashes of residents' phone numbers and names: read views find a demand by them without
holding them.

The index keeps only an HMAC of each phone number and name a demand was reported with, under a
key kept apart from the views (see `adapters/keys.py`). Whoever holds the key can ask "which
demands did this number report?"; the views alone reveal nothing. Changing the key means
rebuilding the demand index.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from engine.values import Resident

_NOT_DIGITS = re.compile(r"\D")
_SPACES = re.compile(r"\s+")


def normal_phone(phone: str) -> str:
    """A phone number as its digits, without China's country code: `+86 138-0013-8000` -> `13800138000`."""
    digits = _NOT_DIGITS.sub("", phone)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11 and digits[len(prefix)] == "1":
            return digits[len(prefix) :]
    return digits


def normal_name(name: str) -> str:
    """A name as compared: compatible forms folded (full-width letters), case folded, spaces single."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", name)).strip().casefold()


class ResidentLookup:
    """HMAC-SHA256 of residents' phone numbers and names under one secret key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a lookup key needs at least 16 bytes")
        self._mac = hmac.new(key, digestmod=hashlib.sha256)  # keyed once; each hash copies it

    def _hash(self, kind: str, text: str) -> str | None:
        if not text:
            return None
        mac = self._mac.copy()
        mac.update(f"{kind}:{text}".encode())
        return f"{kind}:{mac.hexdigest()[:32]}"

    def phone(self, phone: str) -> str | None:
        """The index key of a phone number (None for none)."""
        return self._hash("phone", normal_phone(phone))

    def name(self, name: str) -> str | None:
        """The index key of a resident's name (None for none)."""
        return self._hash("name", normal_name(name))

    def keys(self, resident: Resident) -> set[str]:
        """The index keys of a resident: their phone number's and their name's (none once forgotten)."""
        if resident.forgotten:
            return set()
        return {k for k in (self.phone(resident.phone), self.name(resident.name)) if k is not None}
