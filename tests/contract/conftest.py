"""The contract suite's one fixture: a production worker process and a platform that speaks CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from platform_harness import WORKER, Platform
from temporalio.testing import WorkflowEnvironment

from adapters.bootstrap import System
from adapters.settings import Settings


@pytest.fixture(scope="module")
def platform(
    dev_server_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    """A production worker process (with projections) on its own task queue and store, and the CLI."""
    var = tmp_path_factory.mktemp("contract")
    address = dev_server_env.client.service_client.config.target_host
    task_queue = f"md-contract-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ, "MICRODEMAND_TEMPORAL_ADDRESS": address, "MICRODEMAND_TASK_QUEUE": task_queue,
        "MICRODEMAND_VAR_DIR": str(var), "MICRODEMAND_STORE": "sqlite", "MICRODEMAND_LOG_FORMAT": "json",
        "MICRODEMAND_LOG_LEVEL": "DEBUG",
    }  # fmt: skip
    log = var / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen([sys.executable, str(WORKER)], env=env, stdout=out, stderr=out)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, var_dir=var, store="sqlite", task_queue=task_queue, temporal_address=address
    )
    try:
        yield Platform(address=address, task_queue=task_queue, system=System(settings), log=log)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
