"""Residents' own keys, kept apart from the events: the table `resident_keys` of a database of its own.

One live key per resident (`engine.sealing`), found by the keyed hash of their phone number (or
name), made the first time a process seals them. Each key is stored wrapped (AES-256-GCM) by a key
derived from the deployment's codec key, so a copy of the database opens nothing by itself. To
forget a resident, their rows lose the wrapped key and the sealed owner and keep only the tombstone
(`forgotten_at`): every event and payload sealed with it reads as a forgotten resident from then on.

Every process of a deployment shares the table (the SQLite file `keyring.db` beside the events on
the embedded default; the store's PostgreSQL schema at scale) and keeps what it read for
`CACHE_SECONDS`: a process that holds a key keeps opening with it until then, so forgetting takes
effect everywhere within that time.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from time import monotonic
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from engine.lookup import ResidentLookup
from engine.sealing import open_who, seal_who

CACHE_SECONDS = 30.0
"""How long a process trusts what it read of a key (so a forgotten key is gone everywhere after this)."""

CACHE_ENTRIES = 20_000
"""How many keys (and residents' live keys) a process keeps at most, the longest held going first:
a replay reads every resident's key once, and would otherwise keep them all. Four times the keys a
rebuild's page can ask for at once (`REBUILD_PAGE_SIZE` events), so the keys a page read together
are still there when its events are decoded."""

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS {t} (
        kid TEXT PRIMARY KEY, resident TEXT NOT NULL, name TEXT NOT NULL, wrapped {blob},
        wrapped_by TEXT, who TEXT, created_at TEXT NOT NULL, forgotten_at TEXT)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS {i}_live ON {t} (resident) WHERE forgotten_at IS NULL",
    "CREATE INDEX IF NOT EXISTS {i}_name ON {t} (name)",
    "CREATE TABLE IF NOT EXISTS {t}_progress (what TEXT PRIMARY KEY, position BIGINT NOT NULL)",
)


class KeyringError(RuntimeError):
    """A resident's key cannot be unwrapped: it was wrapped by a codec key this deployment lacks."""


def wrapping_key(codec_key: bytes) -> bytes:
    """The key that wraps residents' keys, derived from the codec key (one secret, two uses, apart)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"microdemand resident keys").derive(
        codec_key[:32]
    )


def fingerprint(key: bytes) -> str:
    """A short public name for a key: which one wrapped (or encrypted) something."""
    return hashlib.sha256(key).hexdigest()[:16]


@dataclass(frozen=True)
class Forgotten:
    """What one `forget` destroyed: the keys' ids."""

    kids: tuple[str, ...]


class ResidentKeyring:
    """`engine.sealing.ResidentKeys` in an SQLite file or a PostgreSQL schema, keys wrapped."""

    def __init__(
        self,
        *,
        codec_key: bytes,
        previous_codec_keys: Sequence[bytes] = (),
        sqlite_path: Path | None = None,
        postgres: dict[str, Any] | None = None,
        schema: str = "",
        pool_size: int = 4,
    ) -> None:
        current = wrapping_key(codec_key)
        self._wrap_id = fingerprint(current)
        self._wrappers = {fingerprint(k): AESGCM(k) for k in map(wrapping_key, previous_codec_keys)}
        self._wrappers[self._wrap_id] = AESGCM(current)
        self._table = f"{schema}.resident_keys" if schema else "resident_keys"
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._postgres = postgres is not None
        if postgres is not None:
            from psycopg.rows import dict_row
            from psycopg_pool import ConnectionPool

            self._pool: Any = ConnectionPool(
                kwargs={**postgres, "autocommit": True, "row_factory": dict_row},
                min_size=0, max_size=pool_size, max_idle=60, open=True, check=ConnectionPool.check_connection,
            )  # fmt: skip
            blob = "BYTEA"
        else:
            assert sqlite_path is not None
            sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            self._sqlite = sqlite3.connect(
                sqlite_path, timeout=10, isolation_level=None, check_same_thread=False
            )
            self._sqlite.row_factory = sqlite3.Row
            self._sqlite.execute("PRAGMA journal_mode=WAL")
            blob = "BLOB"
        for statement in _SCHEMA:
            self._run(statement.format(t=self._table, i=self._table.replace(".", "_"), blob=blob))

    # ---- engine.sealing.ResidentKeys ------------------------------------------------------------

    def current(self, resident_id: str, name_id: str, who: bytes) -> tuple[str, bytes]:
        """The resident's live key `(kid, key)`, made now (with `who` sealed under it) if there is none."""
        cached = self._cached(f"r:{resident_id}")
        if cached is not None:
            return cached
        found = self._live(resident_id)
        if found is None:
            kid, key = uuid.uuid4().hex, os.urandom(32)
            self._run(
                f"INSERT INTO {self._table} (kid, resident, name, wrapped, wrapped_by, who, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (kid, resident_id, name_id, self._wrap(kid, key), self._wrap_id, seal_who(key, kid, who),
                 _now()),
            )  # fmt: skip
            found = self._live(resident_id)  # ours, or the one another process made first
            assert found is not None
        self._keep(f"r:{resident_id}", found)
        self._keep(f"k:{found[0]}", found[1])
        return found

    def find(self, kid: str) -> bytes | None:
        """The key `kid`, unwrapped; None once it was destroyed."""
        cached = self._cache.get(f"k:{kid}")
        if cached is not None and monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        rows = self._run(f"SELECT kid, wrapped, wrapped_by FROM {self._table} WHERE kid = ?", (kid,))
        key = self._unwrap(rows[0]) if rows and rows[0]["wrapped"] is not None else None
        self._keep(f"k:{kid}", key)
        return key

    def find_many(self, kids: Sequence[str]) -> dict[str, bytes | None]:
        """The keys `kids`, unwrapped (None for each destroyed), read in a few queries and kept as
        `find` keeps what it reads."""
        found: dict[str, bytes | None] = {}
        wanted = []
        for kid in dict.fromkeys(kids):
            cached = self._cache.get(f"k:{kid}")
            if cached is not None and monotonic() - cached[0] < CACHE_SECONDS:
                found[kid] = cached[1]
            else:
                wanted.append(kid)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = self._run(
                f"SELECT kid, wrapped, wrapped_by FROM {self._table} WHERE kid IN ({marks})", chunk
            )
            held = {str(row["kid"]): row for row in rows}
            for kid in chunk:
                row = held.get(kid)
                key = self._unwrap(row) if row is not None and row["wrapped"] is not None else None
                self._keep(f"k:{kid}", key)
                found[kid] = key
        return found

    # ---- forgetting, and keeping the keys current ------------------------------------------

    def matching(self, resident_ids: Sequence[str]) -> list[str]:
        """The ids of the live keys of residents with any of these keyed hashes (phone, or name)."""
        if not resident_ids:
            return []
        marks = ", ".join("?" for _ in resident_ids)
        rows = self._run(
            f"SELECT kid FROM {self._table} WHERE forgotten_at IS NULL "
            f"AND (resident IN ({marks}) OR name IN ({marks}))",
            (*resident_ids, *resident_ids),
        )
        return sorted(str(r["kid"]) for r in rows)

    def owners(self, kids: Sequence[str]) -> set[str]:
        """Every keyed hash (phone and name) the owners of these keys are found by."""
        found: set[str] = set()
        for kid in kids:
            for row in self._run(f"SELECT resident, name FROM {self._table} WHERE kid = ?", (kid,)):
                found.update(str(v) for v in (row["resident"], row["name"]) if v)
        return found

    def forget(self, kids: Sequence[str]) -> Forgotten:
        """Destroy these keys (and the owners sealed under them); a tombstone of each stays."""
        destroyed = []
        for kid in kids:
            rows = self._run(
                f"UPDATE {self._table} SET wrapped = NULL, who = NULL, wrapped_by = NULL, forgotten_at = ? "
                "WHERE kid = ? AND forgotten_at IS NULL RETURNING kid",
                (_now(), kid),
            )
            destroyed += [str(r["kid"]) for r in rows]
        with self._lock:
            self._cache.clear()
        return Forgotten(tuple(destroyed))

    def refresh(self, lookup: ResidentLookup) -> tuple[int, int]:
        """Wrap every live key under the current codec key and hash its owner with the current lookup
        key (after a rotation of either); how many keys were rewrapped and how many rehashed."""
        rewrapped = rehashed = 0
        for row in self._run(f"SELECT * FROM {self._table} WHERE forgotten_at IS NULL"):
            kid, key = str(row["kid"]), self._unwrap(row)
            owner = open_who(key, kid, str(row["who"]))
            resident = lookup.phone(owner.phone) or lookup.name(owner.name) or row["resident"]
            name = lookup.name(owner.name) or resident
            if row["wrapped_by"] != self._wrap_id:
                rewrapped += 1
            elif (resident, name) == (row["resident"], row["name"]):
                continue
            else:
                rehashed += 1
            self._run(
                f"UPDATE {self._table} SET wrapped = ?, wrapped_by = ?, resident = ?, name = ? WHERE kid = ?",
                (self._wrap(kid, key), self._wrap_id, resident, name, kid),
            )
        with self._lock:
            self._cache.clear()
        return rewrapped, rehashed

    def progress(self, what: str) -> int:
        """How far through the store a pass (`reseal`) has come: the last notification it saw."""
        rows = self._run(f"SELECT position FROM {self._table}_progress WHERE what = ?", (what,))
        return int(rows[0]["position"]) if rows else 0

    def advance(self, what: str, position: int) -> None:
        """Remember how far a pass has come."""
        self._run(
            f"INSERT INTO {self._table}_progress (what, position) VALUES (?, ?) "
            "ON CONFLICT (what) DO UPDATE SET position = excluded.position",
            (what, position),
        )

    def count(self) -> tuple[int, int]:
        """How many keys live, and how many were destroyed."""
        rows = self._run(
            f"SELECT COUNT(*) AS n, COUNT(forgotten_at) AS f FROM {self._table}",
        )
        total, forgotten = int(rows[0]["n"]), int(rows[0]["f"])
        return total - forgotten, forgotten

    def close(self) -> None:
        """Close the connections."""
        if self._postgres:
            self._pool.close()
        else:
            self._sqlite.close()

    # ---- inside --------------------------------------------------------------------------------

    def _live(self, resident_id: str) -> tuple[str, bytes] | None:
        rows = self._run(
            f"SELECT kid, wrapped, wrapped_by FROM {self._table} WHERE resident = ? AND forgotten_at IS NULL",
            (resident_id,),
        )
        return (str(rows[0]["kid"]), self._unwrap(rows[0])) if rows else None

    def _wrap(self, kid: str, key: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._wrappers[self._wrap_id].encrypt(nonce, key, kid.encode())

    def _unwrap(self, row: Any) -> bytes:
        wrapper = self._wrappers.get(str(row["wrapped_by"]))
        if wrapper is None:
            raise KeyringError(
                f"resident key {row['kid']} was wrapped by a codec key this deployment does not hold "
                "(set MICRODEMAND_CODEC_PREVIOUS_KEYS)"
            )
        wrapped = bytes(row["wrapped"])
        try:
            return wrapper.decrypt(wrapped[:12], wrapped[12:], str(row["kid"]).encode())
        except InvalidTag:
            raise KeyringError(f"resident key {row['kid']} cannot be unwrapped: damaged") from None

    def _cached(self, name: str) -> Any:
        found = self._cache.get(name)
        return found[1] if found is not None and monotonic() - found[0] < CACHE_SECONDS else None

    def _keep(self, name: str, value: Any) -> None:
        with self._lock:
            self._cache[name] = (monotonic(), value)
            self._cache.move_to_end(name)
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)

    def _run(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self._cursor() as cursor:
            if self._postgres:
                sql = sql.replace("?", "%s")
            cursor.execute(sql, params)
            return list(cursor.fetchall()) if cursor.description is not None else []

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        if self._postgres:
            with self._pool.connection() as conn, conn.cursor() as cursor:
                yield cursor
            return
        with self._lock:
            cursor = self._sqlite.cursor()
            try:
                yield cursor
            finally:
                cursor.close()


def _now() -> str:
    return datetime.now(UTC).isoformat()
