"""A verb answered from the views loads neither the Temporal client nor the aggregates.

Importing them is most of a second of a CLI call (docs/benchmarks.md, target 7); the start's
time is measured in the bench, and what it loads, which can regress silently, is held here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from points_harness import T0, Driver

from adapters.bootstrap import System
from adapters.settings import Settings

pytestmark = pytest.mark.e2e
HEAVY = (
    "temporalio",
    "engine.demand",
    "engine.application",
    "workflows.demand",
    "engine.policies.timelimits",
)
"""What a verb answered from the views has no need of (the time limits: its durations are parsed and
shown by engine.durations, its policy file is validated only by the verbs that use it)."""
LOADED = """
import json, sys
args, heavy = json.loads(sys.argv[1]), json.loads(sys.argv[2])
sys.argv = ["microdemand", *args]
from adapters.cli import command_for
code = 0
try:
    command_for(args)()  # as `main` runs it
except SystemExit as done:
    code = done.code
print(json.dumps({"code": code, "heavy": [m for m in heavy if m in sys.modules]}))
"""


@pytest.fixture(scope="module")
def var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with a demand closed, its views caught up, and the first administrator."""
    var = tmp_path_factory.mktemp("var")
    settings = Settings(_env_file=None, var_dir=var, store="sqlite")  # type: ignore[call-arg]
    app = System(settings).open_store()
    Driver(app).close("1", member="wang", closed_at=T0)
    app.close()
    with System(settings).projections() as running:
        running.wait_until_caught_up(timeout=60)
    System(settings).ensure_administrator()
    return var


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["status", "demand-wechat-1"],
        ["demands", "--open"],
        ["overdue", "--due-within", "1d"],
        ["rates", "--by", "community", "--period", "2026"],
        ["points", "wang"],
    ],
    ids=lambda args: args[0].strip("-"),
)
def test_a_verb_answered_from_the_views_does_not_load_temporal_or_the_aggregates(
    var: Path, args: list[str]
) -> None:
    env = {**os.environ, "MICRODEMAND_VAR_DIR": str(var), "MICRODEMAND_TEMPORAL_ADDRESS": "127.0.0.1:1"}
    probe = [sys.executable, "-c", LOADED, json.dumps(args), json.dumps(HEAVY)]
    done = subprocess.run(probe, env=env, capture_output=True, text=True, timeout=60, check=True)
    outcome = json.loads(done.stdout.splitlines()[-1])
    assert outcome["code"] in (0, None), done.stdout + done.stderr
    assert outcome["heavy"] == [], f"{args[0]} loaded {outcome['heavy']}"


def test_the_cli_builds_no_pydantic_model_before_main_runs() -> None:
    """main turns pydantic's plugin scan off before the first model: importing the CLI loads no pydantic."""
    probe = [sys.executable, "-c", "import sys, adapters.cli; print('pydantic' in sys.modules)"]
    done = subprocess.run(probe, capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "False", done.stderr
