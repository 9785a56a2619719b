"""Target 7: the CLI's start, as whole processes, against `python -c pass`.

A store of about 5,000 demands (through the aggregates) and its views rebuilt, the first
administrator created (`microdemand init`, as `make run` does) and the project's bytecode written
(as `make run` and an installed package have it); then each verb is run as a user types it,
several times, and the median wall time is reported beside the interpreter's own start. A verb
that does not succeed is a failure of the bench, not a figure: an error path is quicker than an
answer.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from time import perf_counter

from adapters.bootstrap import PACKAGES, System, write_bytecode
from bench.figures import Report
from bench.history import COMMUNITIES, grow
from bench.stores import fresh_store

TARGET_SECONDS = 0.3


class VerbFailedError(RuntimeError):
    """A verb timed by the bench did not succeed."""


def wall(command: list[str], env: dict[str, str], repeat: int) -> float:
    """The median wall time of running `command` `repeat` times, in seconds; each must succeed."""
    times = []
    for _ in range(repeat):
        started = perf_counter()
        done = subprocess.run(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
        )
        times.append(perf_counter() - started)
        if done.returncode != 0:
            why = done.stderr.decode()[-500:]
            raise VerbFailedError(f"{' '.join(command)} exited {done.returncode}: {why}")
    return statistics.median(times)


def run(report: Report, repeat: int) -> None:
    """Time `--help`, `status` and the listings against a started interpreter doing nothing."""
    with fresh_store("sqlite") as settings:
        system = System(settings)
        with system.store() as app:
            grow(app, 27_000)  # about 5,000 demands
        with system.projections(follow=False) as running:
            running.wait_until_caught_up(timeout=600)
        env = {
            **os.environ,
            "MICRODEMAND_VAR_DIR": str(settings.var_dir),
            "MICRODEMAND_TEMPORAL_ADDRESS": "127.0.0.1:1",
        }
        cli = str(Path(sys.executable).parent / "microdemand")
        subprocess.run([cli, "init"], env=env, stdout=subprocess.DEVNULL, check=True)  # the administrator
        write_bytecode(PACKAGES)
        ranking = subprocess.run(
            [cli, "ranking", "--period", "2025", "--json"], env=env, capture_output=True, check=True
        )
        member = json.loads(ranking.stdout)[0]["account"]  # one who earned points
        base = report.value("cli.python_pass", wall([sys.executable, "-c", "pass"], env, repeat), "s")
        verbs = {
            "help": ["--help"],
            "status": ["status", "demand-bench-42"],
            "demands": ["demands", "--open", "--scope", f"community:{COMMUNITIES[3]}"],
            "overdue": ["overdue", "--due-within", "1d"],
            "rates_by_community_month": ["rates", "--by", "community", "--period", "2025-03"],
            "points": ["points", member],
        }
        for name, args in verbs.items():
            seconds = wall([cli, *args], env, repeat)
            report.value(
                f"cli.{name}", seconds, "s", target=f"< {TARGET_SECONDS} s", met=seconds < TARGET_SECONDS
            )
            report.value(f"cli.{name}_over_python", seconds - base.value, "s")
