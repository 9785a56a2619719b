"""The contract suite's one fixture: a production worker process and a platform that speaks CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from deployed_keys import DEPLOYED_KEYS
from platform_harness import WORKER, Platform
from postgres_harness import PG_DB, PG_HOST, PG_PORT
from temporalio.testing import WorkflowEnvironment

from adapters.bootstrap import System
from adapters.settings import Settings


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def platform(
    request: pytest.FixtureRequest,
    dev_server_env: WorkflowEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Platform]:
    """A production worker process (with projections) on its own task queue and store, and the CLI:
    once on SQLite and once on PostgreSQL (whose text columns refuse what SQLite takes, NUL above all)."""
    var = tmp_path_factory.mktemp("contract")
    address = dev_server_env.client.service_client.config.target_host
    task_queue = f"md-contract-{uuid.uuid4().hex[:8]}"
    store: dict[str, str] = {"MICRODEMAND_STORE": request.param}
    if request.param == "postgres":
        schema = f"{request.getfixturevalue('postgres_schema')}_contract_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(host=PG_HOST, port=PG_PORT, dbname=PG_DB, user="postgres") as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        store |= {
            "MICRODEMAND_POSTGRES_HOST": PG_HOST, "MICRODEMAND_POSTGRES_PORT": str(PG_PORT),
            "MICRODEMAND_POSTGRES_DBNAME": PG_DB, "MICRODEMAND_POSTGRES_SCHEMA": schema,
            **{f"MICRODEMAND_{name.upper()}": value for name, value in DEPLOYED_KEYS.items()},
        }  # fmt: skip
    env = {
        **os.environ, "MICRODEMAND_TEMPORAL_ADDRESS": address, "MICRODEMAND_TASK_QUEUE": task_queue,
        "MICRODEMAND_VAR_DIR": str(var), "MICRODEMAND_LOG_FORMAT": "json", "MICRODEMAND_LOG_LEVEL": "DEBUG",
        **store,
    }  # fmt: skip
    log = var / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen([sys.executable, str(WORKER)], env=env, stdout=out, stderr=out)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, var_dir=var, task_queue=task_queue, temporal_address=address,
        **{k.removeprefix("MICRODEMAND_").lower(): v for k, v in store.items()},
    )  # fmt: skip
    try:
        yield Platform(address=address, task_queue=task_queue, system=System(settings), log=log)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
