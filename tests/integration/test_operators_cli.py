"""The operators' daily questions as typed: what is due, whose demand this is, what a member holds;
times in local time, said once; ids whole."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import typer
from cli_harness import configure_cli, forget_cached
from demand_stories import HOUR, Story, projected_index, submission
from typer.testing import CliRunner

from adapters.bootstrap import System
from adapters.cli import app as commands
from adapters.settings import Settings
from engine import commands as c
from engine.access import Identity, Role
from engine.values import Resident

pytestmark = pytest.mark.integration
ZONE = System(Settings()).local_zone
NOON = datetime.now(ZONE).replace(hour=12, minute=0, second=0, microsecond=0).astimezone(UTC)
"""Today at noon, local time: its day and the next are today and tomorrow at whatever hour the tests run."""


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """The CLI configured from MICRODEMAND_* variables, over demands collected today at noon."""
    configure_cli(settings, monkeypatch)
    with System(settings).store() as app:
        story = Story(app)
        story.collect(submission("waiting"), NOON)  # claim due tomorrow at noon, promise the day after
        group = story.collect(
            submission("group").model_copy(
                update={"resident": Resident(name="Zhou Min", phone="+86 139 0013 9000")}
            ),
            NOON,
        )
        claim = c.Claim(member="wang", unit="Branch 1", co_claimants=("li",))
        story.do(group, claim, NOON + HOUR)  # held: due by its promise, the day after tomorrow
    with projected_index(settings):
        pass  # the index is caught up; the CLI reads it as `microdemand projections` leaves it
    forget_cached()
    return commands


def ids(output: str) -> list[str]:
    return [row["demand_id"] for row in json.loads(output)]


def test_a_demand_is_found_by_the_residents_phone_or_name_as_typed(cli: typer.Typer) -> None:
    by_phone = CliRunner().invoke(cli, ["demands", "--phone", "139-0013-9000", "--json"])
    assert by_phone.exit_code == 0, by_phone.output
    assert ids(by_phone.output) == ["demand-wechat-group"]
    assert "139" not in json.dumps(json.loads(by_phone.output))  # the rows hold no phone number
    assert ids(CliRunner().invoke(cli, ["demands", "--resident-name", "li mei", "--json"]).output) == [
        "demand-wechat-waiting"
    ]
    none = CliRunner().invoke(cli, ["demands", "--phone", "13000000000", "--json"])
    assert json.loads(none.output) == []


def test_only_those_who_may_see_residents_find_demands_by_them(
    cli: typer.Typer, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with System(settings).directory() as directory:
        directory.register(Identity(name="an-chen", role=Role.ANALYST))
        monkeypatch.setenv("MICRODEMAND_TOKEN", directory.issue("an-chen", "test"))
    forget_cached()
    refused = CliRunner().invoke(cli, ["demands", "--phone", "139-0013-9000", "--json"])
    assert (refused.exit_code, "an-chen (analyst) may not reveal" in refused.output) == (3, True)
    listed = CliRunner().invoke(cli, ["demands", "--json"])  # listing without residents is theirs
    assert sorted(ids(listed.output)) == ["demand-wechat-group", "demand-wechat-waiting"]


def test_a_members_demands_include_those_held_as_co_claimant(cli: typer.Typer) -> None:
    assert ids(CliRunner().invoke(cli, ["demands", "--member", "li", "--open", "--json"]).output) == [
        "demand-wechat-group"
    ]


def test_what_is_due_tomorrow_in_local_time(cli: typer.Typer) -> None:
    tomorrow = NOON.astimezone(ZONE).date() + timedelta(days=1)
    due = CliRunner().invoke(cli, ["demands", "--due", "tomorrow", "--json"])
    assert due.exit_code == 0, due.output
    rows = json.loads(due.output)
    assert [r["demand_id"] for r in rows] == ["demand-wechat-waiting"]  # its claim deadline
    assert datetime.fromisoformat(rows[0]["next_due_at"]).astimezone(ZONE).date() == tomorrow
    week = CliRunner().invoke(cli, ["demands", "--due", "2999-01", "--json"])
    assert json.loads(week.output) == []
    bad = CliRunner().invoke(cli, ["demands", "--due", "someday"])
    assert bad.exit_code == 2
    assert "use today, tomorrow, week" in bad.output


def test_tables_show_local_times_labelled_once_and_whole_ids(cli: typer.Typer) -> None:
    shown = CliRunner().invoke(cli, ["demands"], terminal_width=80)
    assert shown.exit_code == 0, shown.output
    assert shown.output.count("times UTC+8") == 1
    collected = NOON.astimezone(ZONE).strftime("%Y-%m-%d %H:%M")
    assert collected in shown.output
    assert "demand-wechat-waiting" in shown.output  # never broken over two lines


def test_the_rates_table_shows_what_left_the_denominators(cli: typer.Typer) -> None:
    """Withdrawn and merged demands leave the completion rate's denominators: the table says how many."""
    shown = CliRunner().invoke(cli, ["rates", "--by", "community"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    header = next(line for line in shown.output.splitlines() if "collected" in line)
    assert header.split()[:7] == ["group", "collected", "claimed", "closed", "withdrawn", "merged", "claim%"]
    row = next(line for line in shown.output.splitlines() if line.split()[:1] == ["Xinhua"])
    assert row.split()[1:6] == ["2", "1", "0", "0", "0"]  # two collected today, one claimed


def test_a_history_shows_every_time_in_its_details_in_local_time(cli: typer.Typer) -> None:
    shown = CliRunner(env={"COLUMNS": "250"}).invoke(cli, ["history", "demand-wechat-group"])
    assert shown.exit_code == 0, shown.output
    promised = (NOON + timedelta(days=2)).astimezone(ZONE).strftime("%Y-%m-%d %H:%M")
    assert f"promised_by={promised}" in shown.output
    assert "+00:00" not in shown.output
    assert ":00Z" not in shown.output


def test_the_board_comes_a_page_at_a_time(cli: typer.Typer) -> None:
    later = (NOON + timedelta(days=5)).isoformat()
    whole = ids(CliRunner().invoke(cli, ["overdue", "--as-of", later, "--json"]).output)
    first = CliRunner().invoke(cli, ["overdue", "--as-of", later, "--limit", "1"])
    second = ids(
        CliRunner()
        .invoke(cli, ["overdue", "--as-of", later, "--limit", "1", "--offset", "1", "--json"])
        .output
    )
    assert len(whole) == 2
    assert second == whole[1:]
    assert "--offset 1" in first.output  # says how to see the rest
    assert whole[0] in first.output
