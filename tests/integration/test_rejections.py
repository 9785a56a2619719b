"""A malformed push and a malformed signal, sent as a platform sends them, leave rejections that
`microdemand rejected` and `GET /api/rejected` both list: the demand, the message and the reason,
never the payload's resident data."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from api_harness import SUBMISSION, ApiStack, api_stack
from cli_harness import configure_cli
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from adapters.cli import app as commands
from adapters.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.devserver]

RESIDENT = SUBMISSION["resident"]
PHONE = RESIDENT["phone"]


async def rejections_of(stack: ApiStack, *demand_ids: str) -> list[dict[str, Any]]:
    """Wait until `GET /api/rejected` lists a rejection for each demand; its rows of them."""

    async def listed() -> list[dict[str, Any]] | None:
        async with stack.client(stack.admin) as admin:
            answer = await admin.get("/api/rejected")
        assert answer.status_code == 200, answer.text
        rows = [r for r in answer.json() if r["demand_id"] in demand_ids]
        return rows if {r["demand_id"] for r in rows} == set(demand_ids) else None

    return await stack.until(listed)


def reasons(rows: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Each demand's first rejection, as (message, reason)."""
    found: dict[str, tuple[str, str]] = {}
    for row in sorted(rows, key=lambda r: r["at"]):
        found.setdefault(row["demand_id"], (row["message"], row["reason"]))
    return found


async def test_a_malformed_push_and_signal_are_listed_with_their_reason_and_no_resident_data(
    dev_server_env: WorkflowEnvironment, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with api_stack(settings, dev_server_env) as stack:
        client = await stack.system.temporal()
        pushed = stack.id("bad-push")  # signal-with-start, a resident in it and a priority that is none
        await client.start_workflow(
            "MicroDemand", id=pushed, task_queue=stack.system.settings.task_queue, start_signal="submit",
            start_signal_args=[stack.demand("bad-push", priority="urgent")],
        )  # fmt: skip
        signalled = stack.id("bad-signal")
        async with stack.client(stack.admin) as admin:
            assert (await admin.post("/api/demands", json=stack.demand("bad-signal"))).status_code == 202
        await stack.indexed(signalled, state="collected")
        rating = {"rating": "meh", "comment": f"call me on {PHONE}"}
        await client.get_workflow_handle(signalled).signal("evaluation", rating)

        over_http = await rejections_of(stack, pushed, signalled)
        configure_cli(stack.system.settings, monkeypatch)
        typed = await asyncio.to_thread(CliRunner().invoke, commands, ["rejected", "--json"])
        assert typed.exit_code == 0, typed.output
        over_cli = [r for r in json.loads(typed.output) if r["demand_id"] in (pushed, signalled)]
        only = await asyncio.to_thread(
            CliRunner().invoke, commands, ["rejected", "--demand", signalled, "--json"]
        )

    for rows in (over_http, over_cli):
        assert reasons(rows) == {
            pushed: ("submit", "submit: priority: Input should be 'general', 'important' or 'major'"),
            signalled: (
                "evaluation",
                "evaluation: rating: Input should be 'satisfied', 'basically_satisfied' or 'unsatisfied'",
            ),
        }
        listed = json.dumps(rows, ensure_ascii=False)
        for personal in (RESIDENT["name"], PHONE, RESIDENT["address"]):
            assert personal not in listed
    assert [r["demand_id"] for r in json.loads(only.output)] == [signalled]


async def test_a_hostile_field_or_signal_name_is_kept_printable_and_bounded_and_the_index_goes_on(
    dev_server_env: WorkflowEnvironment, settings: Settings
) -> None:
    """Names a sender chose (unknown fields) are quoted in the reason: with NUL, terminal escapes
    and thousands of characters they once stopped the index on PostgreSQL."""
    async with api_stack(settings, dev_server_env) as stack:
        client = await stack.system.temporal()
        target = stack.id("hostile")
        async with stack.client(stack.admin) as admin:
            assert (await admin.post("/api/demands", json=stack.demand("hostile"))).status_code == 202
        await stack.indexed(target, state="collected")
        handle = client.get_workflow_handle(target)
        hostile_key = "sur\x00\x1b[2J" + "k" * 5000
        await handle.signal("evaluation", {"rating": "satisfied", hostile_key: 1})
        await handle.signal("supplement", {"text": "more", "\x00" + "k" * 3000: 1})

        async def both_listed() -> list[dict[str, Any]] | None:
            async with stack.client(stack.admin) as admin:
                answer = await admin.get("/api/rejected", params={"demand": target})
            assert answer.status_code == 200, answer.text
            rows = answer.json()
            return rows if len(rows) >= 2 else None

        rows = await stack.until(both_listed)
        after = stack.id("after-hostile")  # the index still takes what comes next
        async with stack.client(stack.admin) as admin:
            assert (await admin.post("/api/demands", json=stack.demand("after-hostile"))).status_code == 202
        await stack.indexed(after, state="collected")

    for row in rows:
        for text in (row["message"], row["reason"]):
            assert "\x00" not in text, text
            assert "\x1b" not in text, text
            assert len(text) <= 1000
    assert any(row["reason"].startswith("evaluation: sur[2Jkkk") for row in rows), rows  # ESC and NUL gone
