"""The points CLI as a user types it: balance, redemption (and its refusal), rankings."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import typer
from cli_harness import configure_cli, forget_cached
from points_harness import T0, Driver, points_runner
from typer.testing import CliRunner

from adapters.bootstrap import System
from adapters.cli import app as commands
from adapters.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """The points commands, configured from MICRODEMAND_* variables, over a store with history."""
    configure_cli(settings, monkeypatch)
    app = System(settings).open_store()
    driver = Driver(app)
    driver.close("1", member="wang", unit="Branch A")  # 6.0
    driver.close("2", member="li", unit="Branch B", hours=4)  # 8.0
    driver.close("3", member="zhou", unit="Branch A", street="Minzhu")  # 6.0
    app.close()
    with points_runner(settings):
        pass  # the ledger is caught up; the CLI reads it as `microdemand projections` leaves it
    forget_cached()
    return commands


def test_points_shows_balance_and_recent_entries(cli: typer.Typer) -> None:
    shown = CliRunner().invoke(cli, ["points", "wang"])
    assert shown.exit_code == 0, shown.output
    assert "Time bank: wang" in shown.output
    assert "demand-wechat-1" in shown.output
    data = json.loads(CliRunner().invoke(cli, ["points", "wang", "--json"]).output)
    assert (data["earned"], data["redeemed"], data["balance"]) == ("6.0", "0.0", "6.0")
    assert [e["reason"] for e in data["recent"]] == ["closed"]


def test_redeem_records_and_a_refusal_is_one_clear_line_with_exit_code_1(cli: typer.Typer) -> None:
    done = CliRunner().invoke(cli, ["redeem", "wang", "2.5", "--for", "a haircut"])
    assert done.exit_code == 0, done.output
    assert "balance is 3.5" in done.output
    refused = CliRunner().invoke(cli, ["redeem", "wang", "5", "--for", "a coat"])
    assert refused.exit_code == 1
    assert refused.output.strip() == "error: wang has a balance of 3.5 points and cannot redeem 5.0"
    bad = CliRunner().invoke(cli, ["redeem", "wang", "1.25", "--for", "tea"])
    assert bad.exit_code == 2
    assert "tenths" in bad.output


def test_ranking_by_member_and_unit_in_a_street_and_month(cli: typer.Typer) -> None:
    members = CliRunner().invoke(
        cli, ["ranking", "--by", "member", "--scope", "street:Yingbin", "--period", "2026-10", "--json"]
    )
    assert members.exit_code == 0, members.output
    assert [(r["rank"], r["account"], r["points"]) for r in json.loads(members.output)] == [
        (1, "li", "8.0"), (2, "wang", "6.0"),
    ]  # fmt: skip
    units = CliRunner().invoke(cli, ["ranking", "--by", "unit", "--period", "2026"])
    assert units.exit_code == 0, units.output
    assert units.output.index("Branch A") < units.output.index("Branch B")  # 3.0 + 3.0 beats 4.0


def test_a_bad_period_or_scope_is_refused_with_exit_code_2(cli: typer.Typer) -> None:
    period = CliRunner().invoke(cli, ["ranking", "--period", "October"])
    assert period.exit_code == 2
    assert "not a period" in period.output
    scope = CliRunner().invoke(cli, ["ranking", "--scope", "planet:Earth"])
    assert scope.exit_code == 2
    assert "not a scope" in scope.output


def test_every_command_explains_itself(cli: typer.Typer) -> None:
    for command in ("points", "redeem", "ranking"):
        helped = CliRunner().invoke(cli, [command, "--help"])
        assert helped.exit_code == 0
        assert "Usage" in helped.output
    assert "--for" in CliRunner().invoke(cli, ["redeem", "--help"]).output


def test_points_lists_redemptions_beside_earnings_and_a_late_complaint_as_a_reversal(
    cli: typer.Typer, settings: Settings
) -> None:
    assert CliRunner().invoke(cli, ["redeem", "li", "2", "--for", "a haircut"]).exit_code == 0
    app = System(settings).open_store()
    Driver(app).reopen("demand-wechat-2", T0 + timedelta(days=3))  # li's demand: a late complaint
    app.close()
    with points_runner(settings):
        pass
    data = json.loads(CliRunner().invoke(cli, ["points", "li", "--json"]).output)
    assert [(e["reason"], e["tenths"]) for e in data["recent"]][:2] == [("reversed", -80), ("closed", 80)]
    assert [(r["points"], r["for_what"]) for r in data["redemptions"]] == [("2.0", "a haircut")]
    assert (data["earned"], data["balance"], data["owed"]) == ("0.0", "0.0", "2.0")
    shown = CliRunner().invoke(cli, ["points", "li"])
    assert shown.exit_code == 0, shown.output
    assert "Redemptions" in shown.output
    assert "a haircut" in shown.output
    assert "reversed" in shown.output


def test_a_units_account_shows_its_dual_points(cli: typer.Typer) -> None:
    data = json.loads(CliRunner().invoke(cli, ["points", "Branch A", "--unit", "--json"]).output)
    assert (data["unit"], data["earned"]) == ("Branch A", "6.0")  # 3.0 from wang's demand, 3.0 from zhou's
    assert {e["demand_id"] for e in data["recent"]} == {"demand-wechat-1", "demand-wechat-3"}
    shown = CliRunner().invoke(cli, ["points", "Branch A", "--unit"])
    assert "dual points" in shown.output


def test_an_unknown_member_or_unit_is_said_to_be_unknown_not_shown_as_zero(cli: typer.Typer) -> None:
    member = CliRunner().invoke(cli, ["points", "nobody"])
    assert member.exit_code == 1
    assert member.output.strip().startswith("error: unknown member: nobody")
    unit = CliRunner().invoke(cli, ["points", "wang", "--unit"])  # a member, not a unit
    assert unit.exit_code == 1
    assert "unknown unit: wang" in unit.output
