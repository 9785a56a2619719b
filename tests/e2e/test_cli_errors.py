"""A user's mistake or an outage gets one clear line and a non-zero exit, never a stack trace."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from adapters.bootstrap import System
from adapters.settings import Settings
from engine.commands import Submission
from engine.values import Location, Resident
from engine.vocabulary import Channel, Kind, Priority

pytestmark = pytest.mark.e2e
CLI = str(Path(sys.executable).parent / "microdemand")


def run(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    var = tmp_path / "var"
    if not (var / "admin.token").exists():  # what `microdemand init` (or `make run`) leaves behind
        System(Settings(_env_file=None, var_dir=var)).ensure_administrator()  # type: ignore[call-arg]
    environment = {
        **os.environ,
        "MICRODEMAND_VAR_DIR": str(tmp_path / "var"),
        "MICRODEMAND_TEMPORAL_ADDRESS": "127.0.0.1:1",  # nothing listens there
        **env,
    }
    return subprocess.run(
        [CLI, *args], env=environment, capture_output=True, text=True, timeout=60, check=False
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    message = " ".join(lines)
    assert message.startswith("error:"), result.stderr
    for word in words:
        assert word in message


def test_an_unreachable_temporal_is_named(tmp_path: Path) -> None:
    result = run("status", "demand-wechat-1", tmp_path=tmp_path)
    assert_one_line_error(result, 2, "cannot reach Temporal at 127.0.0.1:1", "make run")


def test_a_malformed_demand_file_names_the_bad_fields(tmp_path: Path) -> None:
    demand = tmp_path / "demand.json"
    demand.write_text(json.dumps({"source": "wechat", "external_id": "1", "kind": "complaint"}))
    result = run("submit", str(demand), tmp_path=tmp_path)
    assert_one_line_error(result, 2, "kind", "title", "location")
    demand.write_text("{not json")
    assert_one_line_error(run("submit", str(demand), tmp_path=tmp_path), 2, "is not JSON")


def test_a_bad_duration_and_a_bad_scope_are_refused_before_anything_is_sent(tmp_path: Path) -> None:
    result = run("extend", "demand-wechat-1", "--by", "soon", "--reason", "r", tmp_path=tmp_path)
    assert_one_line_error(result, 2, "not a duration")
    assert_one_line_error(run("overdue", "--scope", "planet:earth", tmp_path=tmp_path), 2, "not a scope")
    for endless in ("9999999d", "999999999999d"):  # past the calendar's end, or past what Python holds
        result = run("overdue", "--due-within", endless, tmp_path=tmp_path)
        assert_one_line_error(result, 2, "not a duration", "longer than a hundred years")


@pytest.mark.parametrize(
    "args",
    [
        ["extend", "demand-wechat-1", "--by", "1d", "--reason", "r"],  # refused before it is sent
        ["rates", "--as-of", "2026-03-01"],  # a view verb, as of a moment: before the views are rebuilt
        ["whatif", "--period", "2026"],
    ],
    ids=lambda args: args[0],
)
def test_an_invalid_policy_file_is_refused_at_start_naming_the_field(tmp_path: Path, args: list[str]) -> None:
    policy = tmp_path / "limits.toml"
    shipped = Path(__file__).parents[2] / "engine/policies/timelimits.toml"
    policy.write_text(shipped.read_text().replace('major = "10d"', 'major = "ten days"'))
    result = run(*args, tmp_path=tmp_path, MICRODEMAND_TIMELIMITS_FILE=str(policy))
    assert_one_line_error(result, 2, str(policy), "handle.major")


def test_an_invalid_points_policy_is_refused_by_a_verb_that_prices_points(tmp_path: Path) -> None:
    policy = tmp_path / "points.toml"
    policy.write_text("version = [")
    result = run("ranking", "--as-of", "2026-03-01", tmp_path=tmp_path, MICRODEMAND_POINTS_FILE=str(policy))
    assert_one_line_error(result, 2, str(policy))


def test_a_bad_setting_is_named_as_it_is_set(tmp_path: Path) -> None:
    result = run("rates", tmp_path=tmp_path, MICRODEMAND_STORE="mysql")
    assert_one_line_error(result, 2, "MICRODEMAND_STORE", "'sqlite' or 'postgres'")


def test_a_missing_postgres_database_is_named_at_once(tmp_path: Path, postgres_schema: str) -> None:
    result = run(
        "rates",
        tmp_path=tmp_path,
        MICRODEMAND_STORE="postgres",
        MICRODEMAND_POSTGRES_DBNAME="md_no_such_db",
        MICRODEMAND_POSTGRES_PORT="5432",
    )
    assert_one_line_error(result, 2, "PostgreSQL md_no_such_db", "does not exist")
    # A command needs the database too now: who is asking, and whether they may, is kept there.
    claim = run(
        "claim", "demand-wechat-1", "--member", "li", "--unit", "u", tmp_path=tmp_path,
        MICRODEMAND_STORE="postgres", MICRODEMAND_POSTGRES_DBNAME="md_no_such_db",
    )  # fmt: skip
    assert_one_line_error(claim, 2, "PostgreSQL md_no_such_db", "does not exist")


def test_history_of_an_unknown_demand_is_a_plain_not_found(tmp_path: Path) -> None:
    assert_one_line_error(
        run("history", "demand-wechat-404", tmp_path=tmp_path), 1, "demand-wechat-404 not found"
    )


async def test_status_of_a_demand_whose_workflow_has_expired_comes_from_the_event_store(
    tmp_path: Path, time_skipping_env: WorkflowEnvironment
) -> None:
    var = tmp_path / "var"
    store = System(Settings(_env_file=None, var_dir=var)).open_store()  # type: ignore[call-arg]
    submission = Submission(
        source="hotline", external_id="2019-7", kind=Kind.APPEAL, title="Unpaid wages",
        channel=Channel.HOTLINE_12345, priority=Priority.IMPORTANT,
        location=Location(
            city="Karamay", district="Baijiantan", street="Sanping", community="Pingan", grid="G2"
        ),
        resident=Resident(name="Ma", phone="13912345678"),
    )  # fmt: skip
    store.record(submission.demand_id, submission, datetime(2019, 7, 1, 9, tzinfo=UTC), 0)
    store.close()  # recorded years ago; Temporal has long forgotten the workflow
    address = time_skipping_env.client.service_client.config.target_host
    result = await asyncio.to_thread(
        run, "status", submission.demand_id, "--json", tmp_path=tmp_path, MICRODEMAND_TEMPORAL_ADDRESS=address
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["state"] == "collected"
    late = await asyncio.to_thread(
        run, "claim", submission.demand_id, "--member", "li", "--unit", "u",
        tmp_path=tmp_path, MICRODEMAND_TEMPORAL_ADDRESS=address,
    )  # fmt: skip
    assert_one_line_error(
        late, 1, f"demand {submission.demand_id} is collected: cannot claim, its loop has ended"
    )
    missing = await asyncio.to_thread(
        run, "status", "demand-hotline-404", tmp_path=tmp_path, MICRODEMAND_TEMPORAL_ADDRESS=address
    )
    assert_one_line_error(missing, 1, "demand-hotline-404 not found")


def test_a_second_projections_process_on_the_same_views_is_refused_in_one_line(tmp_path: Path) -> None:
    var = tmp_path / "var"
    System(Settings(_env_file=None, var_dir=var)).ensure_administrator()  # type: ignore[call-arg]
    env = {**os.environ, "MICRODEMAND_VAR_DIR": str(var), "MICRODEMAND_LOG_FORMAT": "json"}
    first = subprocess.Popen(
        [CLI, "projections"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = datetime.now(UTC).timestamp() + 30
        while not list(var.glob("views.db.*.lock")) and datetime.now(UTC).timestamp() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # the first holds its writer locks
        second = run("projections", tmp_path=tmp_path)
        assert_one_line_error(second, 2, "is already written by another process", "microdemand projections")
        assert first.poll() is None  # the first keeps running
    finally:
        first.terminate()
        first.wait(timeout=30)


def _listening() -> socket.socket:
    """A socket listening on a free port, as another program holding it would."""
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen()
    return held


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("taken", ["temporal", "api"])
def test_a_taken_port_stops_make_run_with_one_line(tmp_path: Path, taken: str) -> None:
    with _listening() as held:
        port = held.getsockname()[1]
        temporal = port if taken == "temporal" else _free_port()
        api = port if taken == "api" else _free_port()
        result = run(
            "up", tmp_path=tmp_path, MICRODEMAND_TEMPORAL_ADDRESS=f"127.0.0.1:{temporal}",
            MICRODEMAND_UI_PORT=str(_free_port()), MICRODEMAND_API_PORT=str(api),
        )  # fmt: skip
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    said = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(said) == 1
    assert str(port) in said[0]
