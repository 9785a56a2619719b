"""The console over HTTP, role by role: a demand's page offers exactly the acts the viewer's role
may do on it now, a form posted by someone who may not is refused and changes nothing, and the
forms take a demand round the loop (dispatch, claim, transfer, extend, handle, follow up, evaluate).
The browser tests (tests/browser) click through the same pages in Chromium."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from api_harness import ApiStack, api_stack
from temporalio.testing import WorkflowEnvironment

from adapters.http.auth import CSRF_COOKIE
from adapters.settings import Settings
from engine.access import Role

pytestmark = [pytest.mark.integration, pytest.mark.devserver]


async def signed_in(stack: ApiStack, token: str) -> httpx.AsyncClient:
    """A browser-like client of the console, signed in with `token` (its cookies kept)."""
    http = httpx.AsyncClient(base_url=stack.url, timeout=60)
    answer = await http.post("/console/signin", data={"token": token})
    assert answer.status_code == 303, answer.text
    return http


def forms(page: str) -> set[str]:
    """The acts a demand's page offers (its forms' verbs)."""
    return set(re.findall(r'id="act-([a-z-]+)"', page))


async def act(http: httpx.AsyncClient, demand_id: str, verb: str, **fields: str) -> tuple[bool, str]:
    """Post one act's form as the page would; (done, the one line the console says)."""
    answer = await http.post(
        f"/console/demands/{demand_id}/act/{verb}", data={"csrf": http.cookies[CSRF_COOKIE], **fields}
    )
    assert answer.status_code == 303, answer.text
    said = unquote(answer.cookies.get("md_flash", ""))
    return said[:1] == "1", said[1:]


async def state_of(stack: ApiStack, demand_id: str) -> dict[str, Any]:
    async with stack.client(stack.admin) as admin:
        answer = await admin.get(f"/api/demands/{demand_id}", params={"live": "true"})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_each_role_is_offered_only_its_acts_and_the_forms_take_a_demand_round_the_loop(
    dev_server_env: WorkflowEnvironment, sqlite_settings: Settings
) -> None:
    async with api_stack(sqlite_settings, dev_server_env) as stack:
        tokens = {
            "op-near": stack.identity("op-near", Role.OPERATOR, "street:Yingbin"),
            "op-far": stack.identity("op-far", Role.OPERATOR, "street:Sanping"),
            "li": stack.identity("li", Role.MEMBER, unit="Party branch 2"),
            "analyst": stack.identity("analyst", Role.ANALYST),
        }
        async with stack.client(stack.admin) as admin:
            assert (await admin.post("/api/demands", json=stack.demand("console"))).status_code == 202
        demand_id = stack.id("console")
        await stack.indexed(demand_id)
        near, far, li, analyst, boss = [
            await signed_in(stack, token) for token in (*tokens.values(), stack.admin)
        ]
        try:
            page = f"/console/demands/{demand_id}"
            offered = {name: forms((await http.get(page)).text) for name, http in
                       (("op-near", near), ("li", li), ("analyst", analyst))}  # fmt: skip
            assert {"dispatch", "claim", "escalate", "transfer", "extend", "merge"} <= offered["op-near"]
            assert offered["li"] == {"claim"}  # a member claims; nothing else on a collected demand
            assert offered["analyst"] == set()  # analysts read
            assert 'name="member"' not in (await li.get(page)).text  # a member claims as themselves
            assert (await far.get(page)).status_code == 403  # outside their street

            done, said = await act(analyst, demand_id, "escalate", reason="I want to")
            assert (done, said.startswith("analyst (analyst) may not escalate")) == (False, True)
            done, said = await act(far, demand_id, "escalate", reason="not mine")
            assert (done, "lies outside street:Sanping" in said) == (False, True)
            assert (await state_of(stack, demand_id))["escalations"] == 0  # refused: nothing written

            for http, verb, fields in [
                (near, "dispatch", {"to": "Party branch 2"}),
                (li, "claim", {}),
                (near, "transfer", {"to_unit": "Water bureau", "reason": "mains pipe"}),
                (near, "extend", {"extend_by": "1d", "reason": "parts on order"}),
                (li, "handle", {"hours": "1.5", "note": "fixed"}),
                (near, "follow-up", {"resolved": "yes", "note": "called the resident"}),
                (boss, "evaluate", {"rating": "satisfied"}),
            ]:
                done, said = await act(http, demand_id, verb, **fields)
                assert done, f"{verb}: {said}"
            status = await state_of(stack, demand_id)
            assert status["state"] == "closed"
            assert status["claimant"]["member"] == "li"
            assert status["responsible_unit"] == "Water bureau"
            await stack.indexed(demand_id, state="closed")  # the page reads the index, a moment behind
            closed_page = (await near.get(page)).text
            assert {"claim", "handle", "escalate"}.isdisjoint(forms(closed_page))  # the table says no
        finally:
            for http in (near, far, li, analyst, boss):
                await http.aclose()
