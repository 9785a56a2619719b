"""A real headless Chromium (Debian's `chromium`) driven by Playwright, and a console stack with data.

Playwright's own browser download is not used: it is pointed at the system's Chromium. In CI a
missing Chromium fails the run (`.ci/run` installs it); elsewhere the tests are skipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from api_harness import ApiStack, api_stack
from limits_harness import limits_toml
from machine import chromium
from temporalio.testing import WorkflowEnvironment

from adapters.settings import Settings
from engine.access import Role

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
"""Screenshots of every page at desktop and phone size: the tests' artefacts (git-ignored)."""
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--hide-scrollbars",
]  # fmt: skip

FAST_MAJOR_LIMITS = limits_toml(warn_fraction=0.5, claim={"major": "4s"}, handle={"major": "4s"})
"""The shipped time limits, but a major demand must be claimed, and resolved (the 2310 promise, on
which the overdue board stands), within four seconds."""


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium, one per test module."""
    from playwright.async_api import async_playwright

    path = chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=path, args=FLAGS, headless=True)
        yield launched
        await launched.close()


@pytest.fixture(scope="module")
async def console_stack(
    dev_server_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ApiStack]:
    """The stack with an operator, a member and an analyst, and demands around the loop."""
    var = tmp_path_factory.mktemp("console")
    limits = var / "timelimits.toml"
    limits.write_text(FAST_MAJOR_LIMITS)
    settings = Settings(_env_file=None, var_dir=var, store="sqlite", timelimits_file=limits)  # type: ignore[call-arg]
    async with api_stack(settings, dev_server_env) as stack:
        stack.identity("op-zhang", Role.OPERATOR, "street:Yingbin")
        stack.identity("li", Role.MEMBER, unit="Party branch 2")
        stack.identity("wang", Role.MEMBER, unit="Power Co. branch")
        stack.identity("analyst", Role.ANALYST)
        await _around_the_loop(stack)
        yield stack


async def _around_the_loop(stack: ApiStack) -> None:
    """Twelve demands in three communities; eight taken round the loop by two members."""
    communities = ("Xinhua", "Youyi", "Tianrun")
    async with stack.client(stack.admin) as admin:
        batch = [
            stack.demand(f"seed-{n}", title=f"需要帮助 #{n}: fix the stairwell light",
                         location={**stack.demand("x")["location"], "community": communities[n % 3]})
            for n in range(12)
        ]  # fmt: skip
        assert (await admin.post("/api/demands", json=batch)).status_code == 202
        await stack.indexed(stack.id("seed-11"))
        for n in range(8):
            demand_id = stack.id(f"seed-{n}")
            member, unit = (("li", "Party branch 2"), ("wang", "Power Co. branch"))[n % 2]
            steps = [
                ("claim", {"member": member, "unit": unit}),
                ("handle", {"hours": 1 + n % 3, "member": member}),
                ("follow-up", {"resolved": True}),
                ("evaluate", {"rating": "satisfied" if n % 4 else "basically_satisfied"}),
            ]
            for verb, body in steps:
                answer = await admin.post(f"/api/demands/{demand_id}/{verb}", json=body)
                assert answer.status_code == 200, answer.text
        await stack.indexed(stack.id("seed-7"), state="closed")


@pytest.fixture
def shots() -> Path:
    """Where screenshots go."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
