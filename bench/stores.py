"""Where a benchmark's store and views live: fresh SQLite files or a PostgreSQL schema, removed after."""

from __future__ import annotations

import base64
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from adapters.keys import NAMES
from adapters.settings import Settings

PG = {"host": "127.0.0.1", "port": 5432, "dbname": "test", "user": "postgres"}
"""The PostgreSQL server the benchmarks use (trust auth); each run gets a schema of its own."""

STORES = ("sqlite", "postgres")


def postgres_available() -> bool:
    """Whether the PostgreSQL server answers."""
    import psycopg

    try:
        psycopg.connect(**PG, connect_timeout=3).close()  # type: ignore[arg-type]
    except psycopg.OperationalError:
        return False
    return True


@contextmanager
def fresh_store(kind: str, **overrides: Any) -> Iterator[Settings]:
    """Settings for an empty store and views of `kind` (sqlite or postgres), removed on the way out."""
    root = Path(tempfile.mkdtemp(prefix=f"md-bench-{kind}-"))
    base: dict[str, Any] = {"var_dir": root, "store": kind, "task_queue": f"bench-{uuid.uuid4().hex[:8]}"}
    schema = f"md_bench_{uuid.uuid4().hex[:10]}"
    if kind == "postgres":
        import psycopg

        with psycopg.connect(**PG, autocommit=True) as conn:  # type: ignore[arg-type]
            conn.execute(f"CREATE SCHEMA {schema}")
        base |= {
            "postgres_host": PG["host"], "postgres_port": PG["port"], "postgres_dbname": PG["dbname"],
            "postgres_user": PG["user"], "postgres_schema": schema, "postgres_pool_size": 10,
        }  # fmt: skip
        # Keys are only made on the embedded SQLite stack; a PostgreSQL deployment must be given them.
        base |= {f"{name}_key": base64.b64encode(secrets.token_bytes(32)).decode() for name in NAMES}
    try:
        yield Settings(_env_file=None, **{**base, **overrides})
    finally:
        if kind == "postgres":
            import psycopg

            with psycopg.connect(**PG, autocommit=True) as conn:  # type: ignore[arg-type]
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        shutil.rmtree(root, ignore_errors=True)
