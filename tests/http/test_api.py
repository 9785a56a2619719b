"""The HTTP API through real HTTP, against a worker on the dev server and the projections on a real
store (SQLite and PostgreSQL): a demand's whole loop, and every error as its status and one message."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from api_harness import api_stack
from temporalio.testing import WorkflowEnvironment

from adapters.settings import Settings
from engine.access import Role

pytestmark = [pytest.mark.integration, pytest.mark.devserver]


async def test_a_demand_goes_round_the_loop_over_http_and_every_mistake_gets_its_status(
    dev_server_env: WorkflowEnvironment, settings: Settings
) -> None:
    async with api_stack(settings, dev_server_env) as stack:
        member = stack.identity("li", Role.MEMBER, unit="Party branch 2")
        async with stack.client(stack.admin) as admin, stack.client(member) as li:
            loop = stack.id("loop")
            pushed = await admin.post("/api/demands", json=stack.demand("loop"))
            assert pushed.status_code == 202, pushed.text
            assert pushed.json() == {"accepted": [loop]}
            assert pushed.headers["location"] == f"/api/demands/{loop}"
            again = await admin.post("/api/demands", json=stack.demand("loop"))  # the platform retries
            assert again.status_code == 202
            await stack.indexed(loop, state="collected")

            refused = await li.post(f"/api/demands/{loop}/handle", json={"hours": 1})
            assert refused.status_code == 403  # li holds nothing yet
            refused = await admin.post(f"/api/demands/{loop}/handle", json={"hours": 1, "member": "li"})
            assert refused.status_code == 409
            assert refused.json()["error"] == (
                f"demand {loop} is collected: cannot handle, only when claimed"
            )

            claimed = await li.post(f"/api/demands/{loop}/claim", json={"member": "someone else"})
            assert claimed.status_code == 200, claimed.text
            assert claimed.json()["claimant"]["member"] == "li"  # a member claims as themselves
            assert claimed.json()["claimant"]["unit"] == "Party branch 2"
            handled = await li.post(f"/api/demands/{loop}/handle", json={"hours": 1.5, "note": "done"})
            assert handled.json()["state"] == "handled"
            followed = await admin.post(f"/api/demands/{loop}/follow-up", json={"resolved": True})
            assert followed.json()["state"] == "followed_up"
            closed = await admin.post(f"/api/demands/{loop}/evaluate", json={"rating": "satisfied"})
            assert closed.json()["state"] == "closed"

            events = (await admin.get(f"/api/demands/{loop}/events")).json()
            assert [e["event"] for e in events] == [
                "Collected", "Claimed", "Handled", "FollowedUp", "Evaluated", "Closed",
            ]  # fmt: skip
            assert "13800138000" not in str(events)  # residents masked
            assert events[1]["details"]["actor"] == "li (member)"

            await stack.indexed(loop, state="closed")
            rates = (await admin.get("/api/rates")).json()
            assert (rates[0]["collected"], rates[0]["closed"], rates[0]["completion_rate"]) == (1, 1, 1.0)
            account = await stack.until(
                lambda: _json(li.get("/api/points/li"), lambda a: a["earned"] != "0.0")
            )
            assert account["balance"] == account["earned"]
            ranking = (await admin.get("/api/ranking")).json()
            assert ranking[0]["account"] == "li"

            # each mistake: one status, one clear message
            async with stack.client() as nobody:
                unauthenticated = await nobody.get("/api/demands")
            assert unauthenticated.status_code == 401
            assert unauthenticated.headers["www-authenticate"] == "Bearer"
            async with stack.client("md_not-a-token") as stranger:
                assert (await stranger.get("/api/demands")).status_code == 401
            assert (await li.get("/api/points/someone-else")).status_code == 403
            missing = await admin.get("/api/demands/demand-web-nothing")
            assert (missing.status_code, missing.json()["error"]) == (
                404,
                "demand demand-web-nothing not found",
            )
            bad_scope = await admin.get("/api/demands", params={"scope": "planet:Mars"})
            assert bad_scope.status_code == 400
            assert bad_scope.json()["error"].startswith("scope: not a scope")
            bad_limit = await admin.get("/api/demands", params={"limit": 0})
            assert (bad_limit.status_code, bad_limit.json()["fields"][0]["field"]) == (400, "limit")
            not_json = await admin.post(
                "/api/demands", content=b"{", headers={"content-type": "application/json"}
            )
            assert not_json.status_code == 400
            no_grid = stack.demand("no-grid")
            no_grid["location"] = {k: v for k, v in no_grid["location"].items() if k != "grid"}
            invalid = await admin.post("/api/demands", json=[stack.demand("ok-1"), no_grid])
            assert invalid.status_code == 422
            assert invalid.json()["error"] == "1.location.grid: Field required"
            bad_phone = await admin.post(
                "/api/demands", json=stack.demand("x", resident={"name": "A", "phone": "abc"})
            )
            assert bad_phone.status_code == 422
            assert "abc" not in bad_phone.text  # the value sent is never echoed
            no_reason = await admin.post(f"/api/demands/{loop}/escalate", json={})
            assert (no_reason.status_code, no_reason.json()["error"]) == (422, "reason: Field required")
            overdrawn = await li.post("/api/points/li/redemptions", json={"points": 1000, "for": "a bicycle"})
            assert overdrawn.status_code == 409
            spent = await li.post("/api/points/li/redemptions", json={"points": 1, "for": "a haircut"})
            assert spent.status_code == 200, spent.text
            redeemed = (await li.get("/api/points/li")).json()["redemptions"]
            assert [(r["points"], r["for_what"]) for r in redeemed] == [("1.0", "a haircut")]
            unknown = await admin.get("/api/points/nobody")
            assert (unknown.status_code, unknown.json()["error"]) == (
                404,
                "unknown member: nobody (no points earned or redeemed)",
            )

            # a late complaint reopens the closed demand, and its points go back until it closes again
            reopened = await admin.post(f"/api/demands/{loop}/complain", json={"reason": "it leaks again"})
            assert reopened.status_code == 200, reopened.text
            assert reopened.json()["state"] == "claimed"


async def _json(request: object, ok: object) -> object:
    response = await request  # type: ignore[misc]
    body = response.json()
    return body if ok(body) else None  # type: ignore[operator]


async def test_the_ticket_list_pages_and_filters_and_the_boards_answer(
    dev_server_env: WorkflowEnvironment, sqlite_settings: Settings
) -> None:
    async with api_stack(sqlite_settings, dev_server_env) as stack, stack.client(stack.admin) as admin:
        batch = [stack.demand(f"list-{n}", priority="major" if n % 2 else "general") for n in range(7)]
        assert (await admin.post("/api/demands", json=batch)).status_code == 202
        await stack.indexed(stack.id("list-6"))
        await stack.until(lambda: _json(admin.get("/api/demands"), lambda p: len(p["items"]) == 7))
        first = (await admin.get("/api/demands", params={"limit": 3})).json()
        assert len(first["items"]) == 3
        assert first["next"]
        second = (await admin.get(first["next"])).json()
        assert {r["demand_id"] for r in first["items"]}.isdisjoint(r["demand_id"] for r in second["items"])
        majors = (await admin.get("/api/demands", params={"priority": "major"})).json()["items"]
        assert len(majors) == 3
        assert all(r["priority"] == "major" for r in majors)
        elsewhere = (await admin.get("/api/demands", params={"scope": "community:Youyi"})).json()
        assert elsewhere["items"] == []
        due = (await admin.get("/api/overdue", params={"due_within": "2d"})).json()
        assert len(due) == 4  # the general ones: promised within 2 days ("2310"); majors within 10
        assert {r["priority"] for r in due} == {"general"}
        whole = (await admin.get("/api/overdue", params={"due_within": "10d"})).json()
        assert len(whole) == 7
        pages = [
            (await admin.get("/api/overdue", params={"due_within": "10d", "limit": 3, "offset": n})).json()
            for n in (0, 3, 6)
        ]
        paged = [row["demand_id"] for page in pages for row in page]
        assert paged == [row["demand_id"] for row in whole]  # pages in the board's order
        refused = await admin.get("/api/overdue", params={"limit": 0})
        assert refused.status_code == 400  # a page holds at least one row
        for path in ("/api/overdue", "/api/due", "/api/demands"):  # deeper than a database's integer
            assert (await admin.get(path, params={"offset": 10**20})).status_code == 400, path
        assert (await admin.get("/api/overdue")).json() == []
        zone = stack.system.local_zone
        tomorrow = datetime.now(zone).date() + timedelta(days=1)
        everything = (await admin.get("/api/demands")).json()["items"]
        falling = {
            r["demand_id"]
            for r in everything
            if datetime.fromisoformat(r["next_due_at"]).astimezone(zone).date() == tomorrow
        }
        due_tomorrow = (await admin.get("/api/demands", params={"due": "tomorrow"})).json()["items"]
        assert {r["demand_id"] for r in due_tomorrow} == falling  # the claim clocks: a day, or 6 hours
        bad_due = await admin.get("/api/demands", params={"due": "someday"})
        assert (bad_due.status_code, bad_due.json()["error"].startswith("due: ")) == (400, True)
        assert isinstance((await admin.get("/api/due")).json(), list)
        by_community = (await admin.get("/api/rates", params={"by": "community", "per": "day"})).json()
        assert by_community[0]["key"] == "Xinhua"
        assert by_community[0]["collected"] == 7
        assert (await admin.get("/api/rates", params={"by": "planet"})).status_code == 400
        assert (await admin.get("/api/rejected")).status_code == 200
        health = await admin.get("/api/health")
        assert health.status_code == 200, health.text
        assert health.json()["well"] is True
        docs = await admin.get("/docs")
        assert docs.status_code == 200
        spec = (await admin.get("/openapi.json")).json()
        assert "/api/demands/{demand_id}/escalate" in spec["paths"]
