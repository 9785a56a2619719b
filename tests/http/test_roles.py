"""The role matrix over HTTP: each role against each family of routes, allowed (any answer but 403)
or refused (403 with a message naming who and what), as `engine.access` decides for the CLI too."""

from __future__ import annotations

from typing import Any

import pytest
from api_harness import api_stack
from temporalio.testing import WorkflowEnvironment

from adapters.settings import Settings
from engine.access import Role

pytestmark = [pytest.mark.integration, pytest.mark.devserver]

ROLES = ("platform", "op-near", "op-far", "li", "analyst", "resident", "admin")
A, F = True, False
MATRIX: dict[str, tuple[bool, ...]] = {
    # route family:     platform op-near op-far member analyst resident admin
    "push":              (A,      A,      F,     F,     F,      F,       A),
    "list":              (A,      A,      A,     A,     A,      F,       A),
    "status":            (A,      A,      F,     A,     A,      F,       A),
    "timeline":          (A,      A,      F,     A,     A,      F,       A),
    "escalate":          (F,      A,      F,     F,     F,      F,       A),
    "claim":             (F,      A,      F,     A,     F,      F,       A),
    "supplement":        (A,      A,      F,     F,     F,      F,       A),
    "overdue":           (F,      A,      A,     F,     A,      F,       A),
    "rates":             (F,      A,      A,     F,     A,      F,       A),
    "rejected":          (F,      A,      A,     F,     A,      F,       A),
    "ranking":           (F,      A,      A,     A,     A,      F,       A),
    "points of li":      (F,      A,      A,     A,     A,      F,       A),
    "redeem for li":     (F,      F,      F,     A,     F,      F,       A),
    "reveal":            (F,      A,      F,     F,     F,      F,       A),
    "codec":             (F,      A,      A,     F,     F,      F,       A),
    "open311 requests":  (A,      A,      A,     A,     A,      F,       A),
    "health":            (A,      A,      A,     A,     A,      A,       A),
    "me":                (A,      A,      A,     A,     A,      A,       A),
    "due":               (F,      A,      A,     F,     A,      F,       A),
    "dispatch":          (F,      A,      F,     F,     F,      F,       A),
    "transfer":          (F,      A,      F,     F,     F,      F,       A),
    "reassign":          (F,      A,      F,     F,     F,      F,       A),
    "extend":            (F,      A,      F,     F,     F,      F,       A),
    "merge":             (F,      A,      F,     F,     F,      F,       A),
    "commend":           (A,      A,      F,     F,     F,      F,       A),
    "complain":          (A,      A,      F,     F,     F,      F,       A),
    "open311 push":      (A,      A,      F,     F,     F,      F,       A),
    "open311 request":   (A,      A,      F,     A,     A,      F,       A),
    "withdraw":          (A,      A,      F,     F,     F,      F,       A),  # last: it ends the demand
}  # fmt: skip
"""Every family of routes. Release and handle are left to the rules' own tests: whether a member
may take them depends on who holds the demand at that moment, which the families before change."""

OPEN311_REPORT = {
    "service_code": "stairwell-light", "description": "The light on floor 3 is out",
    "attribute[street]": "Yingbin", "attribute[community]": "Xinhua", "attribute[grid]": "G3",
}  # fmt: skip


def route(family: str, demand_id: str, body: dict[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
    """The method, path and JSON body of one route of a family."""
    on = f"/api/demands/{demand_id}"
    acts = {
        "dispatch": {"to": "Party branch 2"},
        "transfer": {"to_unit": "Water bureau", "reason": "mains pipe"},
        "reassign": {"member": "zhou", "unit": "Branch 3", "reason": "li is ill"},
        "extend": {"extra": "1d", "reason": "parts on order"},
        "merge": {"into": "demand-nowhere-1"},
        "commend": {"note": "thank you"},
        "complain": {"reason": "it broke again"},
        "withdraw": {"reason": "fixed it myself"},
    }
    if family in acts:
        return ("POST", f"{on}/{family}", acts[family])
    return {
        "push": ("POST", "/api/demands", body),
        "list": ("GET", "/api/demands", None),
        "status": ("GET", on, None),
        "timeline": ("GET", f"{on}/events", None),
        "escalate": ("POST", f"{on}/escalate", {"reason": "overdue"}),
        "claim": ("POST", f"{on}/claim", {"member": "li", "unit": "Party branch 2"}),
        "supplement": ("POST", f"{on}/supplement", {"text": "the light flickers too"}),
        "overdue": ("GET", "/api/overdue", None),
        "rates": ("GET", "/api/rates", None),
        "rejected": ("GET", "/api/rejected", None),
        "ranking": ("GET", "/api/ranking", None),
        "points of li": ("GET", "/api/points/li", None),
        "redeem for li": ("POST", "/api/points/li/redemptions", {"points": 0.1, "for": "tea"}),
        "reveal": ("GET", f"{on}/events?reveal=true&why=calling+back", None),
        "codec": ("POST", "/codec/decode", {"payloads": []}),
        "open311 requests": ("GET", "/open311/v2/requests.json", None),
        "health": ("GET", "/api/health", None),
        "me": ("GET", "/api/me", None),
        "due": ("GET", "/api/due", None),
        "open311 push": ("POST", "/open311/v2/requests.json", None),  # a form: see `ask`
        "open311 request": ("GET", f"/open311/v2/requests/{demand_id}.json", None),
    }[family]


async def test_every_role_may_use_exactly_the_routes_the_role_matrix_gives_it(
    dev_server_env: WorkflowEnvironment, sqlite_settings: Settings
) -> None:
    async with api_stack(sqlite_settings, dev_server_env) as stack:
        tokens = {
            "platform": stack.identity("platform", Role.PLATFORM),
            "op-near": stack.identity("op-near", Role.OPERATOR, "street:Yingbin"),
            "op-far": stack.identity("op-far", Role.OPERATOR, "street:Sanping"),
            "li": stack.identity("li", Role.MEMBER, unit="Party branch 2"),
            "analyst": stack.identity("analyst", Role.ANALYST),
            "resident": stack.identity("resident", Role.RESIDENT),
            "admin": stack.admin,
        }
        async with stack.client(stack.admin) as admin:
            assert (await admin.post("/api/demands", json=stack.demand("roles"))).status_code == 202
        demand_id = stack.id("roles")
        await stack.indexed(demand_id)

        wrong: list[str] = []
        for family, allowed in MATRIX.items():
            for role, may in zip(ROLES, allowed, strict=True):
                method, path, body = route(family, demand_id, stack.demand(f"by-{role}"))
                form = OPEN311_REPORT if family == "open311 push" else None
                async with stack.client(tokens[role]) as http:
                    answer = await http.request(method, path, json=body, data=form)
                refused = answer.status_code == 403
                if refused == may or answer.status_code >= 500:
                    wrong.append(f"{role} {family}: {answer.status_code} {answer.text[:160]}")
                if refused:  # the message names who asked (GeoReport's errors are a list)
                    said = answer.json()
                    message = said["error"] if isinstance(said, dict) else said[0]["description"]
                    assert message.startswith(f"{role} ("), message
        assert wrong == []


async def test_a_resident_acts_on_the_demands_reported_from_their_phone_and_on_no_other(
    dev_server_env: WorkflowEnvironment, sqlite_settings: Settings
) -> None:
    async with api_stack(sqlite_settings, dev_server_env) as stack:
        wang = stack.identity("wang-fang", Role.RESIDENT, phone="138 0013 8000")  # as the demand has it
        li = stack.identity("li", Role.MEMBER, unit="Party branch 2")
        neighbour = {"name": "Ma Lin", "phone": "13912345678", "address": "Building 2"}
        own, other = stack.id("own"), stack.id("other")
        async with (
            stack.client(stack.admin) as admin,
            stack.client(wang) as resident,
            stack.client(li) as member,
        ):
            assert (await admin.post("/api/demands", json=stack.demand("own"))).status_code == 202
            pushed = await admin.post("/api/demands", json=stack.demand("other", resident=neighbour))
            assert pushed.status_code == 202
            await stack.indexed(own)
            await stack.indexed(other)

            assert (await resident.get(f"/api/demands/{own}")).status_code == 200
            refused = await resident.get(f"/api/demands/{other}")
            assert refused.status_code == 403
            assert refused.json()["error"].startswith("wang-fang (resident) may read only their own demands")
            assert (await resident.get("/api/demands")).status_code == 403  # a list would show everyone's
            added = await resident.post(f"/api/demands/{own}/supplement", json={"text": "it flickers too"})
            assert added.status_code == 202, added.text
            refused = await resident.post(f"/api/demands/{other}/supplement", json={"text": "me too"})
            assert refused.status_code == 403

            assert (await member.post(f"/api/demands/{own}/claim", json={})).status_code == 200
            assert (await member.post(f"/api/demands/{own}/handle", json={"hours": 1})).status_code == 200
            followed = await admin.post(f"/api/demands/{own}/follow-up", json={"resolved": True})
            assert followed.json()["state"] == "followed_up"
            refused = await resident.post(
                f"/api/demands/{own}/claim", json={"member": "wang-fang", "unit": "Home"}
            )
            assert refused.status_code == 403  # a resident never claims
            evaluated = await resident.post(f"/api/demands/{own}/evaluate", json={"rating": "satisfied"})
            assert evaluated.status_code == 200, evaluated.text
            assert evaluated.json()["state"] == "closed"
            timeline = (await resident.get(f"/api/demands/{own}/events")).json()
            assert "Evaluated" in {e["event"] for e in timeline}
            assert timeline[-2]["details"]["actor"] == "wang-fang (resident)"


async def test_a_token_is_stored_only_as_its_digest_and_stops_working_once_revoked(
    dev_server_env: WorkflowEnvironment, sqlite_settings: Settings
) -> None:
    async with api_stack(sqlite_settings, dev_server_env) as stack:
        token = stack.identity("op-zhang", Role.OPERATOR, "street:Yingbin")
        async with stack.client(token) as http:
            me = await http.get("/api/me")
            assert me.status_code == 200, me.text
            assert me.json()["name"] == "op-zhang"
            stored = b"".join(path.read_bytes() for path in stack.system.settings.var_dir.rglob("*.db*"))
            assert token.encode() not in stored  # kept hashed: the database alone opens nothing
            assert token[12:].encode() not in stored
            with stack.system.directory() as directory:
                assert directory.revoke(token[:12], "phone lost") == 1
            gone = await http.get("/api/me")
        assert gone.status_code == 401
        assert "revoked" in gone.json()["error"]
