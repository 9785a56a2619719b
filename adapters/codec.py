"""Residents' data leaves the process only encrypted: a Temporal payload codec (AES-256-GCM).

Every payload that carries a resident (a submission, an amendment, a merge's reporters) is sealed
twice before it reaches Temporal: each resident in it with that resident's own key
(`engine.sealing`, so `microdemand forget-resident` makes them unreadable in Temporal's history as
in the store), then the whole payload with the deployment's codec key. A payload whose text holds
a phone or ID-card number someone typed (a note) is encrypted whole too. The others (commands,
statuses, timers) stay plain JSON, so operators and the Web UI can read them and a platform in
another language can speak the contract without a codec. Decoding passes plain payloads through
and opens encrypted ones; a resident whose key was destroyed comes out as the forgotten
resident, so a workflow replays exactly as it ran. The worker, the CLI and the HTTP API
all use it; the HTTP API serves it to the Web UI as a codec endpoint, behind its authentication.

The codec key is named in each payload by its fingerprint, so after a rotation the previous keys
(`MICRODEMAND_CODEC_PREVIOUS_KEYS`) still open what they sealed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from engine.masking import free_text_holds_numbers
from engine.sealing import Sealer, has_residents

ENCODING = b"binary/encrypted"
LEGACY_KEY_ID = b"microdemand-codec-1"
"""The key id of payloads sealed before codec keys were named by fingerprint (any held key may open them)."""
PERSONAL = (b'"resident"', b'"reporter"', b'"reporters"')
"""JSON keys of the fields that hold a resident's personal data (see engine.values.Resident)."""
SEALED_RESIDENTS = b"sealed-residents"
"""Metadata of an inner payload whose residents are sealed with their own keys."""


class CodecError(ValueError):
    """An encrypted payload that cannot be opened: another key, or damaged."""


def key_id(key: bytes) -> bytes:
    """The public name of a codec key, carried by every payload it encrypts."""
    return b"microdemand-codec-" + hashlib.sha256(b"codec:" + key[:32]).hexdigest()[:16].encode()


class ResidentCodec(PayloadCodec):
    """Encrypts payloads that carry residents' data; leaves the others as they are."""

    def __init__(self, key: bytes, sealer: Sealer | None = None, previous: Sequence[bytes] = ()) -> None:
        self._key_id = key_id(key)
        self._aead = AESGCM(key[:32])
        self._keys = {key_id(k): AESGCM(k[:32]) for k in previous}
        self._keys[self._key_id] = self._aead
        self.sealer = sealer

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Seal the residents in each payload that names one, and encrypt it."""
        return [self.seal(await self._seal_residents(p)) if self.personal(p) else p for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Open each encrypted payload (and the residents in it); pass the rest through."""
        opened = []
        for payload in payloads:
            if payload.metadata.get("encoding") == ENCODING:
                payload = await self._open_residents(self.open(payload))
            opened.append(payload)
        return opened

    @staticmethod
    def personal(payload: Payload) -> bool:
        """Whether a payload holds a resident's data, or a phone or ID-card number someone typed into
        its text (a note: "call 138 0013 8000"), and so must be encrypted."""
        if payload.metadata.get("encoding") != b"json/plain":
            return False
        if any(key in payload.data for key in PERSONAL):
            return True
        try:
            return free_text_holds_numbers(json.loads(payload.data))
        except ValueError:
            return False

    def seal(self, payload: Payload) -> Payload:
        """The payload, serialised and encrypted, with a fresh nonce."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, payload.SerializeToString(), self._key_id)
        return Payload(
            metadata={"encoding": ENCODING, "encryption-key-id": self._key_id}, data=nonce + sealed
        )

    def open(self, payload: Payload) -> Payload:
        """The original payload of an encrypted one; CodecError if no key held here can open it."""
        named = payload.metadata.get("encryption-key-id", b"")
        if named == LEGACY_KEY_ID:
            candidates = list(self._keys.values())
        elif named in self._keys:
            candidates = [self._keys[named]]
        else:
            raise CodecError("the payload was encrypted with a key this deployment does not hold")
        for aead in candidates:
            try:
                plain = aead.decrypt(payload.data[:12], payload.data[12:], named)
            except Exception:
                continue
            opened = Payload()
            opened.ParseFromString(plain)
            return opened
        raise CodecError("the payload cannot be opened with this deployment's codec key")

    async def _seal_residents(self, payload: Payload) -> Payload:
        if self.sealer is None:
            return payload
        try:
            data = json.loads(payload.data)
        except ValueError:
            return payload  # not ours to read: encrypted whole all the same
        if not has_residents(data):
            return payload
        sealed = await asyncio.to_thread(self.sealer.seal_fields, data)
        metadata = {**payload.metadata, SEALED_RESIDENTS.decode(): b"1"}
        return Payload(metadata=metadata, data=_dumps(sealed))

    async def _open_residents(self, payload: Payload) -> Payload:
        if SEALED_RESIDENTS.decode() not in payload.metadata:
            return payload
        if self.sealer is None:
            raise CodecError("the payload's residents are sealed, and this codec holds no residents' keys")
        opened = await asyncio.to_thread(self.sealer.open_fields, json.loads(payload.data))
        metadata = {k: v for k, v in payload.metadata.items() if k != SEALED_RESIDENTS.decode()}
        return Payload(metadata=metadata, data=_dumps(opened))


def _dumps(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
