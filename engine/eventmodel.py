"""Domain events as pydantic models, and the mapper that stores them as JSON.

eventsourcing 9.5.6 ships no pydantic aggregate module; this follows the library's own
`examples/aggregate8` pattern: the aggregate's base `Event` is a pydantic model, so every event
class that `@event` generates from a method signature is a pydantic model with explicit fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from datetime import datetime
from functools import cache
from typing import Any, ClassVar, cast
from uuid import UUID

import orjson
from eventsourcing.application import Application
from eventsourcing.domain import (
    BaseAggregate,
    CanInitAggregate,
    CanMutateAggregate,
    DomainEventProtocol,
    datetime_now_with_tzinfo,
)
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import Environment, get_topic, resolve_topic
from pydantic import BaseModel, ConfigDict, Field

from engine.sealing import PERSONAL_FIELDS, Sealer, forgotten_dump, is_sealed

ACTOR: ContextVar[str | None] = ContextVar("actor", default=None)
"""Who is acting, as the store verified it; every event triggered meanwhile records it."""

COMMAND: ContextVar[UUID | None] = ContextVar("command", default=None)
"""The id of the command being recorded; every event it triggers records it, so a retry of the
same command (even one that computes its time anew, as a local activity's does) is recognised."""


class DomainEvent(BaseModel):
    """Base of every stored event: immutable, with the aggregate's id, version, time and actor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    originator_id: UUID
    originator_version: int
    timestamp: datetime = Field(default_factory=datetime_now_with_tzinfo)
    actor: str | None = None
    command_id: UUID | None = None


class Aggregate(BaseAggregate[UUID]):
    """Base of event-sourced aggregates whose events are pydantic models, each recording its actor."""

    @classmethod
    def _create(cls, event_class: type[Any], *, id: UUID | None = None, **kwargs: Any) -> Any:
        kwargs.setdefault("actor", ACTOR.get())
        kwargs.setdefault("command_id", COMMAND.get())
        return super()._create(event_class, id=id, **kwargs)

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        """Trigger an event, recording who acts (see ACTOR)."""
        kwargs.setdefault("actor", ACTOR.get())
        kwargs.setdefault("command_id", COMMAND.get())
        super().trigger_event(event_class, **kwargs)

    class Event(DomainEvent, CanMutateAggregate[UUID]):
        """Base of the aggregate's events."""

    class Created(Event, CanInitAggregate[UUID]):
        """Base of the aggregate's first event."""

        originator_topic: str


class SealedResidentError(RuntimeError):
    """A stored event holds a sealed resident, but this store was opened without residents' keys."""


@cache
def personal_fields(event_class: type[Any]) -> frozenset[str]:
    """The fields of an event class that hold a resident."""
    fields = getattr(event_class, "model_fields", {})
    return frozenset(name for name in fields if name in PERSONAL_FIELDS)


class PydanticMapper(Mapper[UUID]):
    """Stores a pydantic event as its JSON dump, and rebuilds it from its topic.

    With a `sealer` (set by the application, see `PydanticApplication.sealer`), the residents an
    event holds are sealed with their own keys on the way in and opened on the way out; a resident
    whose key was destroyed reads as `FORGOTTEN`. Events stored in plain text still load as they are.
    """

    sealer: Sealer | None = None

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        """Dump, seal residents, transcode (then compress and encrypt when configured)."""
        data = cast(BaseModel, domain_event).model_dump(mode="json")
        personal = personal_fields(type(domain_event))
        if personal and self.sealer is not None:
            for name in personal:
                if isinstance(data.get(name), dict):
                    data[name] = self.sealer.seal(data[name])
        stored_state = self.transcoder.encode(data)
        if self.compressor:
            stored_state = self.compressor.compress(stored_state)
        if self.cipher:
            stored_state = self.cipher.encrypt(stored_state)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(type(domain_event)),
            state=stored_state,
        )

    def prefetch_keys(self, stored_events: Sequence[StoredEvent]) -> None:
        """Read the keys of every resident sealed in these events at once (a page about to be decoded),
        so decoding them one by one asks the keyring nothing more."""
        if self.sealer is None or self.cipher or self.compressor:
            return
        values: list[Any] = []
        for stored_event in stored_events:
            personal = personal_fields(resolve_topic(stored_event.topic))
            if personal:
                data = self.transcoder.decode(stored_event.state)
                values.extend(data.get(name) for name in personal)
        self.sealer.prefetch(values)

    def to_domain_event(
        self, stored_event: StoredEvent, *, residents: bool = True
    ) -> DomainEventProtocol[UUID]:
        """Decrypt, decompress, decode, open residents and validate back into the event class.

        Without `residents`, a sealed resident is not opened but read as forgotten (no key asked
        for, nothing decrypted): for a reader that never looks at residents (the points view)."""
        stored_state = stored_event.state
        event_class = resolve_topic(stored_event.topic)
        personal = personal_fields(event_class)
        fast = not self.cipher and not self.compressor and isinstance(self.transcoder, OrjsonTranscoder)
        if fast and not personal:
            # pydantic parses and validates JSON bytes in one pass: a third faster than
            # orjson into a dict and then validating the dict (replays decode every event).
            return cast(DomainEventProtocol[UUID], event_class.model_validate_json(stored_state))
        if self.cipher:
            stored_state = self.cipher.decrypt(stored_state)
        if self.compressor:
            stored_state = self.compressor.decompress(stored_state)
        data = self.transcoder.decode(stored_state)
        for name in personal:
            if is_sealed(data.get(name)):
                if not residents:
                    data[name] = forgotten_dump()
                    continue
                if self.sealer is None:
                    raise SealedResidentError(
                        f"{stored_event.topic} holds a sealed resident: open the store with residents' keys"
                    )
                data[name] = self.sealer.open(data[name])
        return cast(DomainEventProtocol[UUID], event_class(**data))


class OrjsonTranscoder(Transcoder):
    """JSON bytes via orjson: readable in the database, fast to write and read."""

    def encode(self, obj: Any) -> bytes:
        """Encode a JSON-ready dump."""
        return orjson.dumps(obj)

    def decode(self, data: bytes) -> Any:
        """Decode JSON bytes."""
        return orjson.loads(data)


class PydanticApplication(Application[UUID]):
    """An eventsourcing application that stores pydantic events as JSON (residents sealed, given keys)."""

    env: ClassVar[dict[str, str]] = {
        "TRANSCODER_TOPIC": get_topic(OrjsonTranscoder),
        "MAPPER_TOPIC": get_topic(PydanticMapper),
    }

    def __init__(self, env: Mapping[str, str] | None = None, *, sealer: Sealer | None = None) -> None:
        self.sealer = sealer
        """Seals and opens the residents in stored events; None stores them as they are."""
        super().__init__(env)

    def construct_env(self, name: str, env: Mapping[str, str] | None = None) -> Environment:
        """The application's settings: its class's and the `env` given, and nothing else.

        eventsourcing would mix in the process's environment, where a stray variable
        (`DEMANDS_PERSISTENCE_MODULE=eventsourcing.popo`) could silently move the store into
        memory; settings come from the composition root alone.
        """
        return Environment(name, {**type(self).env, **(env or {})})

    def construct_mapper(self) -> Mapper[UUID]:
        """The application's mapper, sealing residents with `sealer`."""
        mapper = super().construct_mapper()
        if isinstance(mapper, PydanticMapper):
            mapper.sealer = self.sealer
        return mapper
