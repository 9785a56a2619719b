"""Processes of a deployment started at once on a fresh PostgreSQL schema: each creates the tables
it needs (`CREATE ... IF NOT EXISTS`), and none is refused for another doing the same."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from deployed_keys import DEPLOYED_KEYS

from adapters.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

OPEN_EVERYTHING = textwrap.dedent(
    """
    import sys
    from adapters.bootstrap import System
    from adapters.settings import Settings

    system = System(Settings(_env_file=None))
    with system.store(), system.directory(), system.time_bank():
        pass
    print("opened")
    """
)
"""What a worker, the projections and an API process each do first: open the store, the keyring,
the directory and the time bank."""


def test_processes_started_at_once_on_a_fresh_schema_all_open_their_tables(
    postgres_settings: Settings,
) -> None:
    s = postgres_settings
    env = {
        "MICRODEMAND_STORE": "postgres", "MICRODEMAND_POSTGRES_HOST": s.postgres_host,
        "MICRODEMAND_POSTGRES_PORT": str(s.postgres_port), "MICRODEMAND_POSTGRES_DBNAME": s.postgres_dbname,
        "MICRODEMAND_POSTGRES_SCHEMA": s.postgres_schema, "MICRODEMAND_VAR_DIR": str(s.var_dir),
        **{f"MICRODEMAND_{name.upper()}": value for name, value in DEPLOYED_KEYS.items()},
    }  # fmt: skip
    command = [sys.executable, "-c", OPEN_EVERYTHING]
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    answers = [process.communicate(timeout=120) for process in processes]
    refused = [err.strip().splitlines()[-1] for out, err in answers if "opened" not in out]
    assert refused == []
