"""Forgetting a resident, and sealing what was stored before residents were sealed.

`forget` destroys a resident's keys (found by the keyed hash of their phone number or name): from
then on every stored event and every Temporal payload that held them reads as the forgotten
resident. Before it does, `reseal` seals whatever residents are still stored in plain text (events
written before sealing existed), so that nothing of the resident is left readable in the store.
The demands, their histories, rates and points are untouched: no event is removed or reordered.

`reseal` rewrites the stored state of those events in place, the only place anything stored is
ever changed: the event it decodes to is the same but for its residents, now sealed. It also wraps
every live key under the current codec key and hashes its owner with the current lookup key, so
it is the step that completes a rotation of either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import orjson
from eventsourcing.utils import resolve_topic

from engine.eventmodel import personal_fields
from engine.sealing import is_sealed

if TYPE_CHECKING:
    from adapters.bootstrap import System
    from engine.access import Identity
    from engine.application import Demands

PAGE = 1_000
RESEAL = "reseal"


@dataclass(frozen=True)
class Resealed:
    """What one `reseal` pass did."""

    scanned: int
    sealed: int
    rewrapped: int
    rehashed: int
    position: int


@dataclass(frozen=True)
class Forgetting:
    """A resident to forget: the keyed hashes that find them, and the live keys those find."""

    resident_ids: tuple[str, ...]
    kids: tuple[str, ...]

    @property
    def subject(self) -> str:
        """Whom, as the directory records it: the keyed hashes, never the phone or name."""
        return " ".join(self.resident_ids)


def reseal(system: System, store: Demands, on_page: Callable[[int], None] | None = None) -> Resealed:
    """Seal every resident still stored in plain text (from where the last pass stopped), then wrap
    and hash every live key with the current codec and lookup keys."""
    keyring, sealer = system.keyring, system.sealer
    position = start = keyring.progress(RESEAL)
    sealed = 0
    while page := store.recorder.select_notifications(start=position, limit=PAGE, inclusive_of_start=False):
        for notification in page:
            personal = personal_fields(resolve_topic(notification.topic))
            if not personal:
                continue
            data: dict[str, Any] = orjson.loads(notification.state)
            plain = [f for f in personal if isinstance(data.get(f), dict) and not is_sealed(data[f])]
            if plain:
                for name in plain:
                    data[name] = sealer.seal(data[name])
                _rewrite(store, notification.originator_id, notification.originator_version, data)
                sealed += 1
        position = page[-1].id
        keyring.advance(RESEAL, position)
        if on_page is not None:
            on_page(position)
    rewrapped, rehashed = keyring.refresh(system.resident_lookup)
    return Resealed(position - start, sealed, rewrapped, rehashed, position)


def _rewrite(store: Demands, originator_id: UUID | str, version: int, data: dict[str, Any]) -> None:
    """Replace one stored event's state (its residents sealed); nothing else about it changes."""
    recorder: Any = store.recorder
    state = orjson.dumps(data)
    with recorder.datastore.transaction(commit=True) as cursor:
        if hasattr(recorder.datastore, "schema"):  # PostgreSQL
            from psycopg.sql import SQL, Identifier

            cursor.execute(
                SQL(
                    "UPDATE {}.{} SET state = %s WHERE originator_id = %s AND originator_version = %s"
                ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)),
                (state, originator_id, version),
            )
        else:
            key = originator_id.hex if isinstance(originator_id, UUID) else originator_id
            cursor.execute(
                f"UPDATE {recorder.events_table_name} SET state = ? "
                "WHERE originator_id = ? AND originator_version = ?",
                (state, key, version),
            )


def find(system: System, phone: str | None, name: str | None) -> Forgetting:
    """The resident with this phone number or name, and their live keys (none: nothing to forget)."""
    lookup = system.resident_lookup
    ids = [i for i in (lookup.phone(phone or ""), lookup.name(name or "")) if i is not None]
    return Forgetting(tuple(ids), tuple(system.keyring.matching(ids)))


def forget(system: System, identity: Identity, who: Forgetting, why: str) -> int:
    """Seal what is still plain, destroy the resident's keys, and record it; how many keys went.

    Processes that read a key in the last `adapters.keyring.CACHE_SECONDS` keep it that long."""
    with system.store() as store:
        reseal(system, store)
    kids = system.keyring.matching(list(who.resident_ids))  # a key made meanwhile goes too
    hashes = system.keyring.owners(kids) | set(who.resident_ids)
    destroyed = system.keyring.forget(kids)
    with system.index_view() as index:
        index.forget_keys(sorted(hashes))  # nobody finds their demands by phone or name any more
    with system.directory() as directory:
        directory.record_erasure(identity, who.subject, len(destroyed.kids), why)
    return len(destroyed.kids)
