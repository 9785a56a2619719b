"""Where the tests' PostgreSQL is: the machine's own server, trust authentication, database `test`."""

from __future__ import annotations

PG_HOST, PG_PORT, PG_DB = "127.0.0.1", 5432, "test"
