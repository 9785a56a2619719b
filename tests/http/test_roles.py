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
}  # fmt: skip


def route(family: str, demand_id: str, body: dict[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
    """The method, path and JSON body of one route of a family."""
    on = f"/api/demands/{demand_id}"
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
                async with stack.client(tokens[role]) as http:
                    answer = await http.request(method, path, json=body)
                refused = answer.status_code == 403
                if refused == may or answer.status_code >= 500:
                    wrong.append(f"{role} {family}: {answer.status_code} {answer.text[:160]}")
                if refused:  # the message names who asked (GeoReport's errors are a list)
                    said = answer.json()
                    message = said["error"] if isinstance(said, dict) else said[0]["description"]
                    assert message.startswith(f"{role} ("), message
        assert wrong == []
