"""Reading what callers send the workflow: raw payloads in, validated commands (or a reason) out.

The workflow takes every start input, signal and update payload raw, so no payload can fail a
workflow task before our code sees it; here each is decoded and validated, and a bad one becomes
an `Invalid` error that names the field and the problem (never the value: it may be personal).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TypeVar

from pydantic import ValidationError
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

from engine.commands import Command
from engine.lifecycle import Refused
from engine.values import field_errors

C = TypeVar("C", bound=Command)

REFUSED = "Refused"
"""Error type of a command the demand cannot take in its state; never retried."""

INVALID = "Invalid"
"""Error type of a payload that is not what the message takes (a field missing or wrong)."""

STALE = "Stale"
"""Error type of a command the store found the demand had moved past; carries the stored status."""

VERSION_GAP = "VersionGap"
"""Error type of a store that lacks events the workflow has seen; never retried, never papered over."""


class InvalidPayload(ValueError):
    """A payload that cannot be taken; the message names the message, the field and the problem."""


def parse(model: type[C], message: str, args: Sequence[RawValue]) -> C:
    """The one JSON object `message` carries, validated as `model`; InvalidPayload otherwise."""
    if len(args) != 1:
        raise InvalidPayload(f"{message} takes one JSON object ({model.__name__}), not {len(args)} payloads")
    return parse_one(model, message, args[0])


def parse_one(model: type[C], message: str, raw: RawValue) -> C:
    """One raw payload, decoded from JSON and validated as `model`; InvalidPayload otherwise."""
    payload = raw.payload
    encoding = payload.metadata.get("encoding", b"").decode("utf-8", "replace")
    if encoding != "json/plain":
        raise InvalidPayload(
            f"{message}: the payload must be JSON (encoding json/plain), not {encoding or 'none'}"
        )
    try:
        data = json.loads(payload.data)
    except ValueError:
        raise InvalidPayload(f"{message}: the payload is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidPayload(f"{message}: the payload must be a JSON object ({model.__name__})")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidPayload(f"{message}: {field_errors(error)}") from None


def invalid(error: InvalidPayload) -> ApplicationError:
    """The error an update's caller gets for a payload it cannot take."""
    return ApplicationError(str(error), type=INVALID, non_retryable=True)


def refusal(error: Refused | str) -> ApplicationError:
    """The error an update's caller gets for a command the demand cannot take."""
    return ApplicationError(str(error), type=REFUSED, non_retryable=True)
