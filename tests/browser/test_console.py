"""The console in a real headless Chromium, as its people use it: an operator at a desk escalates an
overdue demand from the board, a member claims and handles one on a phone, an analyst reads the
rates and their charts. Every page is photographed at desktop and phone size (var/screenshots/)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from api_harness import ApiStack

from adapters.http.console import lists

pytestmark = [pytest.mark.integration, pytest.mark.devserver]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


async def signed_in(
    browser: Any,
    stack: ApiStack,
    who: str,
    viewport: dict[str, int],
    lang: str = "zh",
    shots: Path | None = None,
) -> Any:
    """A fresh page of a browser context signed in as `who`; every request it makes is recorded
    (`shots`: the sign-in page photographed at this size and at a phone's)."""
    context = await browser.new_context(viewport=viewport, locale="zh-CN" if lang == "zh" else "en-GB")
    page = await context.new_page()
    page.asked = []  # type: ignore[attr-defined]
    page.on("request", lambda request: page.asked.append(request.url))  # type: ignore[attr-defined]
    await page.goto(f"{stack.url}/console/?lang={lang}")
    assert "/console/signin" in page.url
    if shots is not None:
        await photograph(page, shots, "signin-desktop")
        await page.set_viewport_size(PHONE)
        await photograph(page, shots, "signin-phone")
        await page.set_viewport_size(viewport)
    token = stack.admin if who == "admin" else stack.tokens[who]
    await page.fill("#token", token)
    await page.click("button[type=submit]")
    await page.wait_for_load_state("networkidle")
    return page


async def photograph(page: Any, shots: Path, name: str) -> None:
    """The page as drawn, whole, at the viewport's width."""
    await page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


async def open_action(page: Any, verb: str) -> None:
    """Unfold an action's form (the first one shows unfolded already)."""
    summary = page.locator(f"#act-{verb}").locator("xpath=..").locator("summary")
    if not await page.locator(f"#act-{verb}").is_visible():
        await summary.click()


def fetched_only_from(page: Any, stack: ApiStack) -> None:
    """Nothing the page loaded came from anywhere but the server itself."""
    elsewhere = [url for url in page.asked if not url.startswith(stack.url)]
    assert elsewhere == []


async def test_an_operator_finds_an_overdue_demand_on_the_board_escalates_it_and_sees_the_new_rung(
    console_stack: ApiStack, browser: Any, shots: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = console_stack
    urgent = stack.id("urgent")
    async with stack.client(stack.admin) as admin:
        body = stack.demand("urgent", priority="major", title="楼道漏水 Water leaking in the stairwell")
        assert (await admin.post("/api/demands", json=body)).status_code == 202
        await asyncio.sleep(1)  # the two after it are less late: the board lists them after it
        for n in (2, 3):
            later = stack.demand(f"urgent-{n}", priority="major", title=f"路灯不亮 #{n} Street light out")
            assert (await admin.post("/api/demands", json=later)).status_code == 202
    await stack.indexed(stack.id("urgent-3"), state="collected")
    await stack.stop_worker()  # nobody minds the timers for a while: the demands sit overdue
    await asyncio.sleep(6)
    monkeypatch.setattr(lists, "BOARD_PAGE", 2)  # pages of two, to see the next one

    page = await signed_in(browser, stack, "op-zhang", DESKTOP, shots=shots)
    assert page.url.endswith("/console/board")  # operators land on the board
    row = page.locator("#overdue tr", has_text="楼道漏水")
    await row.wait_for()
    assert await row.locator(".rung").inner_text() == "社区"
    assert await page.locator("#overdue tbody tr").count() == 2
    await photograph(page, shots, "board-desktop")
    await page.click("#board-pages a")  # the next page: the least late of the three
    await page.wait_for_load_state("networkidle")
    assert await page.locator("#overdue tbody tr").count() == 1
    assert "路灯不亮 #" in await page.locator("#overdue tbody").inner_text()
    assert await page.locator("#board-pages a").inner_text() in ("上一页", "Previous")
    await photograph(page, shots, "board-second-page-desktop")
    await page.click("#board-pages a")
    await page.wait_for_load_state("networkidle")
    await row.wait_for()  # back on the first page

    await stack.start_worker()  # the timer catches up: the demand goes up a rung by itself
    await stack.indexed(urgent, level="street")
    await row.locator("a").click()
    await page.wait_for_load_state("networkidle")
    assert "late" in (await page.locator("#promise").get_attribute("class") or "")  # its promise broke
    await photograph(page, shots, "demand-operator-desktop")
    await open_action(page, "escalate")
    await page.fill("#escalate-reason", "超期未认领，督办")
    await page.click("#act-escalate button[type=submit]")
    await page.wait_for_load_state("networkidle")
    assert "升级" in await page.locator(".flash.ok").inner_text()
    assert await page.locator("#rung .rung").inner_text() == "区"  # community → street (timer) → district
    timeline = await page.locator("#timeline").inner_text()
    assert "op-zhang" in timeline
    assert "超期未认领" in timeline
    await photograph(page, shots, "demand-escalated-desktop")
    fetched_only_from(page, stack)

    await page.goto(f"{stack.url}/console/board?refresh=3")
    before = await page.locator("#refreshed-at").inner_text()
    await page.wait_for_function(
        "was => document.querySelector('#refreshed-at').textContent !== was", arg=before, timeout=15_000
    )  # the board refreshes by itself
    await page.set_viewport_size(PHONE)
    await photograph(page, shots, "board-phone")
    await page.context.close()


async def test_a_member_claims_and_handles_a_demand_from_a_phone(
    console_stack: ApiStack, browser: Any, shots: Path
) -> None:
    stack = console_stack
    page = await signed_in(browser, stack, "li", PHONE)
    assert "/console/demands" in page.url  # members land on the open demands
    await photograph(page, shots, "demands-phone")
    wanted = stack.id("seed-9")
    await page.click(f"a[href='/console/demands/{wanted}']")
    await page.wait_for_load_state("networkidle")
    assert await page.locator("#claim-member").count() == 0  # a member claims as themselves
    await page.click("#act-claim button[type=submit]")
    await page.wait_for_load_state("networkidle")
    assert "li (Party branch 2)" in await page.locator("#holder").inner_text()
    await open_action(page, "handle")
    await page.fill("#handle-hours", "1.5")
    await page.fill("#handle-note", "已更换灯泡")
    await page.click("#act-handle button[type=submit]")
    await page.wait_for_load_state("networkidle")
    assert await page.locator("#state").inner_text() == "已办理"
    await photograph(page, shots, "demand-member-phone")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]  # nothing runs off a phone's screen
    await page.goto(f"{stack.url}/console/points/li")
    assert float(await page.locator("#balance").inner_text()) > 0
    await photograph(page, shots, "points-phone")
    await page.set_viewport_size(DESKTOP)
    await photograph(page, shots, "points-desktop")
    fetched_only_from(page, stack)
    await page.context.close()


async def test_an_analyst_opens_the_rates_and_the_charts_are_drawn(
    console_stack: ApiStack, browser: Any, shots: Path
) -> None:
    stack = console_stack
    page = await signed_in(browser, stack, "analyst", DESKTOP, lang="en")
    assert page.url.endswith("/console/rates")  # analysts land on the rates
    for chart in ("#rates-over-time", "#rates-by-community"):
        lines = page.locator(f"{chart} svg path")
        assert await lines.count() > 5, chart  # axes, ticks and the lines themselves
        box = await page.locator(f"{chart} svg").bounding_box()
        assert box is not None
        assert box["width"] > 300
        assert box["height"] > 100
    assert "Completion rate" in await page.locator("#rates-over-time").inner_text()
    assert "Xinhua" in await page.locator("#figures").inner_text()
    await photograph(page, shots, "rates-desktop")
    await page.set_viewport_size(PHONE)
    await photograph(page, shots, "rates-phone")
    await page.set_viewport_size(DESKTOP)
    await page.goto(f"{stack.url}/console/ranking")
    assert await page.locator("#ranking tr").count() >= 3
    await photograph(page, shots, "ranking-desktop")
    await page.set_viewport_size(PHONE)
    await photograph(page, shots, "ranking-phone")
    await page.set_viewport_size(DESKTOP)
    await page.goto(f"{stack.url}/console/demands?q=stairwell")
    assert await page.locator("#tickets tbody tr").count() >= 10
    await photograph(page, shots, "demands-desktop")
    refused = await page.goto(f"{stack.url}/console/board")
    assert refused is not None
    assert refused.status == 200
    fetched_only_from(page, stack)
    await page.context.close()
