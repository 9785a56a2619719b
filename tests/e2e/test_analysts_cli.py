"""The analysts' verbs as typed: as-of, replay, whatif, export, and the report opened in a browser."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import typer
from browser import dom_of, screenshot
from cli_harness import configure_cli, forget_cached
from limits_harness import limits_toml
from points_harness import T0, Driver, location, points_runner
from typer.testing import CliRunner, Result

from adapters.bootstrap import System
from adapters.cli import app as commands
from adapters.settings import Settings
from engine.access import Identity, Role
from engine.commands import Claim, Submission
from engine.values import Resident
from engine.vocabulary import Channel, Kind

pytestmark = pytest.mark.integration
DAY = timedelta(days=1)
STRICT = limits_toml(handle={"general": "1h", "important": "1h", "major": "1h"})
"""The shipped limits, but everything must be resolved within the hour."""


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """The CLI, configured from MICRODEMAND_* variables, over a store with three demands and live views."""
    configure_cli(settings, monkeypatch)
    app = System(settings).open_store()
    driver = Driver(app)
    driver.close("1", member="wang", closed_at=T0)
    driver.close("2", member="li", unit="Branch B", closed_at=T0 + 2 * DAY)
    waiting = Submission(
        source="wechat", external_id="3", kind=Kind.APPEAL, title="The water keeps being cut off",
        channel=Channel.HOTLINE_12345, location=location(),
        resident=Resident(name="Zhang Wei", phone="13900139000", address="Unit 2, Room 5"),
    )  # fmt: skip
    driver.record(waiting.demand_id, waiting, T0 - 6 * timedelta(hours=1))
    driver.record(waiting.demand_id, Claim(member="zhou", unit="Branch C"), T0)
    app.close()
    with System(settings).projections() as running:
        running.wait_until_caught_up(timeout=60)
    with points_runner(settings):
        pass
    forget_cached()
    return commands


def invoke(cli: typer.Typer, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    return result


def at(moment: timedelta) -> str:
    return (T0 + moment).isoformat()


def test_history_as_of_shows_the_demand_as_it_stood(cli: typer.Typer) -> None:
    early = invoke(cli, "history", "demand-wechat-2", "--as-of", at(DAY), code=1)
    assert "was collected at" in early.output
    handled = json.loads(
        invoke(
            cli, "history", "demand-wechat-2", "--as-of", at(2 * DAY - 2 * timedelta(hours=1)), "--json"
        ).output
    )
    assert handled["status"]["state"] == "handled"
    assert handled["points"] == []
    closed = json.loads(invoke(cli, "history", "demand-wechat-2", "--as-of", at(3 * DAY), "--json").output)
    assert closed["status"]["state"] == "closed"
    assert {p["account"] for p in closed["points"]} == {"li", "Branch B"}
    shown = invoke(cli, "history", "demand-wechat-3", "--as-of", "2026-10-06").output
    assert "as of 2026-10-06 23:59 (UTC+8)" in shown
    assert "13900139000" not in shown


def test_figures_as_of_a_moment(cli: typer.Typer) -> None:
    [then] = json.loads(invoke(cli, "rates", "--as-of", at(DAY), "--json").output)
    [now] = json.loads(invoke(cli, "rates", "--json").output)
    assert (then["collected"], then["closed"]) == (2, 1)
    assert (now["collected"], now["closed"]) == (3, 2)
    board = json.loads(invoke(cli, "overdue", "--as-of", at(3 * DAY), "--json").output)
    assert [r["demand_id"] for r in board] == ["demand-wechat-3"]
    assert json.loads(invoke(cli, "overdue", "--as-of", at(DAY), "--json").output) == []
    li_then = json.loads(invoke(cli, "points", "li", "--as-of", at(DAY), "--json").output)
    li_now = json.loads(invoke(cli, "points", "li", "--json").output)
    assert (li_then["earned"], li_now["earned"]) == ("0.0", "6.0")
    ranking = json.loads(invoke(cli, "ranking", "--period", "2026-10", "--as-of", at(DAY), "--json").output)
    assert [r["account"] for r in ranking] == ["wang"]
    bad = invoke(cli, "rates", "--as-of", "yesterday", code=2)
    assert "not a moment" in bad.output


def test_replay_summarises_verifies_and_names_a_row_changed_by_hand(
    cli: typer.Typer, settings: Settings
) -> None:
    done = json.loads(invoke(cli, "replay", "--json").output)
    assert {r["view"] for r in done["rebuilt"]} == {"demand_index", "points"}
    assert all(r["events"] > 0 and r["events_per_second"] > 0 for r in done["rebuilt"])
    assert "events/s" in invoke(cli, "replay", "--view", "points").output
    assert "equals the live view" in invoke(cli, "replay", "--verify").output
    db = System(settings).views_database()
    schema = f'"{settings.postgres_schema}".' if settings.store == "postgres" else ""
    db.run([f"UPDATE {schema}demand_index SET escalations = 7 WHERE demand_id = 'demand-wechat-1'"])
    db.close()
    failed = invoke(cli, "replay", "--verify", "--view", "index", code=1)
    assert "demand_index: row demand-wechat-1" in failed.output
    assert "escalations is 7 live but 0 rebuilt" in failed.output
    invoke(cli, "replay", "--view", "index", "--swap")
    assert "equals the live view" in invoke(cli, "replay", "--verify", "--view", "index").output


def test_whatif_with_a_stricter_policy_file(cli: typer.Typer, tmp_path: Path) -> None:
    strict = tmp_path / "strict.toml"
    strict.write_text(STRICT)
    result = json.loads(
        invoke(
            cli,
            "whatif",
            "--period",
            "2026-10",
            "--timelimits",
            str(strict),
            "--as-of",
            at(5 * DAY),
            "--json",
        ).output
    )
    assert result["demands"] == 3
    assert result["whatif"]["ever_overdue"] > result["real"]["ever_overdue"]
    assert result["changes"]
    shown = invoke(
        cli, "whatif", "--period", "2026-10", "--timelimits", str(strict), "--as-of", at(5 * DAY)
    ).output
    assert "demands ever overdue" in shown
    assert "whose outcome changes most" in shown
    broken = tmp_path / "broken.toml"
    broken.write_text('[handle]\ngeneral = "soon"\n')
    refused = invoke(cli, "whatif", "--period", "2026-10", "--timelimits", str(broken), code=2)
    assert "not a valid time-limit policy" in refused.output


def test_export_writes_files_and_leaves_residents_out(
    cli: typer.Typer, tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "events.jsonl"
    assert "wrote 14 events rows" in invoke(cli, "export", "events", "--out", str(out)).output
    assert b"13900139000" not in out.read_bytes()
    revealed = tmp_path / "revealed.csv"
    invoke(
        cli,
        "export",
        "events",
        "--format",
        "csv",
        "--reveal",
        "--why",
        "audit of the export",
        "--out",
        str(revealed),
    )
    assert "13900139000" in revealed.read_text()
    piped = invoke(cli, "export", "index", "--scope", "community:Xinhua")
    assert len([json.loads(line)["demand_id"] for line in piped.stdout.splitlines()]) == 3
    with System(settings).directory() as directory:  # an analyst exports, but without residents
        directory.register(Identity(name="an-chen", role=Role.ANALYST))
        monkeypatch.setenv("MICRODEMAND_TOKEN", directory.issue("an-chen", "test"))
    forget_cached()
    theirs = tmp_path / "analyst.jsonl"
    assert "wrote 14 events rows" in invoke(cli, "export", "events", "--out", str(theirs)).output
    asked = ["export", "events", "--reveal", "--why", "curious", "--out", str(tmp_path / "no.jsonl")]
    refused_reveal = invoke(cli, *asked, code=3)
    assert "an-chen (analyst) may not reveal" in refused_reveal.output
    assert not (tmp_path / "no.jsonl").exists()
    assert len([json.loads(line)["demand_id"] for line in piped.stdout.splitlines()]) == 3
    refused = invoke(cli, "export", "points", "--format", "parquet", code=2)
    assert "give --out" in refused.output


def test_the_report_with_data_and_with_none_opens_in_a_browser_and_draws_its_charts(
    cli: typer.Typer, tmp_path: Path
) -> None:
    page = tmp_path / "reports" / "october.html"
    said = invoke(
        cli, "report", "--period", "2026-10", "--scope", "street:Yingbin", "--out", str(page)
    ).output
    assert "and 7 PNG charts beside it" in said
    assert sorted(p.name for p in page.parent.glob("october-*.png")) == [
        "october-escalations-by-rung.png", "october-on-time-and-overdue.png",
        "october-rates-by-community.png", "october-slowest-categories.png", "october-time-bank.png",
        "october-top-members.png", "october-top-units.png",
    ]  # fmt: skip
    html = page.read_text("utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)  # nothing to fetch
    assert not re.search(r"url\((?!#)", html)  # only the charts' own clip paths, inside the page
    assert "<script" not in html
    assert "<link" not in html
    dom = dom_of(page)
    assert dom.count("<svg") == 7
    assert "Micro-demands: 2026-10, street Yingbin" in dom
    assert dom.count("No data for this period and place") == 1  # nothing was escalated
    assert 'id="escalations-by-rung" class="chart empty"' in dom
    drawn = screenshot(page, tmp_path / "october.png")
    assert _chart_pixels(drawn) > 5000  # bars and lines in the charts' first colour, below the header

    empty = tmp_path / "reports" / "empty.html"
    invoke(cli, "report", "--period", "2024", "--out", str(empty))
    dom = dom_of(empty)
    assert dom.count("<svg") == 7
    assert dom.count("No data for this period and place") == 7
    assert "No demand was collected in 2024" in dom
    assert _chart_pixels(screenshot(empty, tmp_path / "empty.png")) == 0


def _chart_pixels(png: Path) -> int:
    """Pixels in the charts' first colour (party red, #c0392b) below the page's red header."""
    from PIL import Image

    with Image.open(png) as image:
        charts = image.convert("RGB").crop((0, 200, image.width, image.height))
        colours = charts.getcolors(maxcolors=charts.width * charts.height) or []
    return sum(
        n for n, (r, g, b) in colours if abs(r - 0xC0) < 16 and abs(g - 0x39) < 16 and abs(b - 0x2B) < 16
    )
