"""Residents' data leaves the process only encrypted: a Temporal payload codec (AES-256-GCM).

Every payload that carries a resident (a submission, an amendment, a merge's reporters) is
encrypted with the deployment's codec key before it reaches Temporal; payloads without one
(commands, statuses, timers) stay plain JSON, so operators and the Web UI can read them and a
platform in another language can speak the contract without a codec. Decoding passes plain
payloads through and opens encrypted ones. The worker, the CLI and the HTTP API all use it; the
HTTP API serves it to the Web UI as a codec endpoint, behind its authentication.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = b"microdemand-codec-1"
PERSONAL = (b'"resident"', b'"reporter"', b'"reporters"')
"""JSON keys of the fields that hold a resident's personal data (see engine.values.Resident)."""


class CodecError(ValueError):
    """An encrypted payload that cannot be opened: another key, or damaged."""


class ResidentCodec(PayloadCodec):
    """Encrypts payloads that carry residents' data; leaves the others as they are."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key[:32])

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encrypt each payload that names a resident."""
        return [self.seal(p) if self.personal(p) else p for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Open each encrypted payload; pass the rest through."""
        return [self.open(p) if p.metadata.get("encoding") == ENCODING else p for p in payloads]

    @staticmethod
    def personal(payload: Payload) -> bool:
        """Whether a payload holds a resident's data (and so must be encrypted)."""
        plain_json = payload.metadata.get("encoding") == b"json/plain"
        return plain_json and any(key in payload.data for key in PERSONAL)

    def seal(self, payload: Payload) -> Payload:
        """The payload, serialised and encrypted, with a fresh nonce."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, payload.SerializeToString(), KEY_ID)
        return Payload(metadata={"encoding": ENCODING, "encryption-key-id": KEY_ID}, data=nonce + sealed)

    def open(self, payload: Payload) -> Payload:
        """The original payload of an encrypted one; CodecError if this key cannot open it."""
        if payload.metadata.get("encryption-key-id") != KEY_ID:
            raise CodecError("the payload was encrypted with a key this deployment does not hold")
        try:
            plain = self._aead.decrypt(payload.data[:12], payload.data[12:], KEY_ID)
        except Exception:
            raise CodecError("the payload cannot be opened with this deployment's codec key") from None
        opened = Payload()
        opened.ParseFromString(plain)
        return opened
