"""The API's other faces: Open311 GeoReport v2 for civic-reporting clients, and the codec endpoint
that lets Temporal's Web UI show residents' payloads to those who may see them."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess

import pytest
from api_harness import api_stack
from temporalio.api.common.v1 import Payload
from temporalio.testing import WorkflowEnvironment

from adapters.binaries import temporal_cli
from adapters.codec import ENCODING, ResidentCodec
from adapters.settings import Settings
from engine.access import Role

pytestmark = [pytest.mark.integration, pytest.mark.devserver]

REPORT = {
    "service_code": "stairwell-light",
    "description": "The light on floor 3 is out",
    "first_name": "Fang",
    "last_name": "Wang",
    "phone": "13800138000",
    "address_string": "Building 7, Room 301",
    "attribute[street]": "Yingbin",
    "attribute[community]": "Xinhua",
    "attribute[grid]": "G3",
}


async def test_a_civic_client_reports_and_follows_a_request_through_open311(
    dev_server_env: WorkflowEnvironment, settings: Settings
) -> None:
    async with api_stack(settings, dev_server_env) as stack:
        # A request's id comes from its content and day: this stack's own, on a dev server shared
        # by the tests (one deployment has one store; tests on both stores must not meet).
        report = {**REPORT, "description": f"{REPORT['description']} ({stack.source})"}
        platform = stack.identity("city-app", Role.PLATFORM)
        async with stack.client() as http:
            services = (await http.get("/open311/v2/services.json")).json()
            assert {"service_code": "stairwell-light", "metadata": True}.items() <= services[0].items()
            definition = (await http.get("/open311/v2/services/stairwell-light.json")).json()
            assert [a["code"] for a in definition["attributes"]] == [
                "street",
                "community",
                "grid",
                "district",
            ]

            created = await http.post("/open311/v2/requests.json", data={**report, "api_key": platform})
            assert created.status_code == 201, created.text
            request_id = created.json()[0]["service_request_id"]
            assert request_id.startswith("demand-open311-")
            retried = await http.post("/open311/v2/requests.json", data={**report, "api_key": platform})
            assert retried.json()[0]["service_request_id"] == request_id  # a retry makes no second demand

            await stack.indexed(request_id)
            one = (
                await http.get(f"/open311/v2/requests/{request_id}.json", params={"api_key": platform})
            ).json()
            assert one[0]["status"] == "open"
            assert one[0]["service_code"] == "stairwell-light"
            assert one[0]["agency_responsible"] == "Xinhua"
            assert one[0]["address"] is None
            assert "13800138000" not in json.dumps(one)
            listed = (
                await http.get(
                    "/open311/v2/requests.json",
                    params={"api_key": platform, "service_code": "stairwell-light", "status": "open"},
                )
            ).json()
            assert [r["service_request_id"] for r in listed] == [request_id]

            teleport = {**report, "api_key": platform, "service_code": "teleport"}
            unknown = await http.post("/open311/v2/requests.json", data=teleport)
            assert unknown.status_code == 400
            assert unknown.json() == [{"code": 400, "description": "service_code: no service teleport"}]
            no_grid = {k: v for k, v in report.items() if k != "attribute[grid]"}
            missing = await http.post("/open311/v2/requests.json", data={**no_grid, "api_key": platform})
            assert missing.status_code == 400
            assert "grid" in missing.json()[0]["description"]
            anonymous = await http.post("/open311/v2/requests.json", data=report)
            assert anonymous.status_code == 401
            assert anonymous.json()[0]["code"] == 401
            nothing = await http.get(
                "/open311/v2/requests/demand-open311-nothing.json", params={"api_key": platform}
            )
            assert nothing.status_code == 404


def _wire(payload: Payload) -> dict[str, object]:
    return {
        "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
        "data": base64.b64encode(payload.data).decode(),
    }


async def test_the_web_ui_codec_opens_residents_payloads_only_for_those_who_may_see_them(
    dev_server_env: WorkflowEnvironment, sqlite_settings: Settings
) -> None:
    async with api_stack(sqlite_settings, dev_server_env) as stack:
        codec = ResidentCodec(stack.system.keys.codec)
        plain = Payload(
            metadata={"encoding": b"json/plain"},
            data=json.dumps({"resident": {"name": "Wang Fang"}, "location": {
                "city": "Karamay", "district": "Karamay District", "street": "Yingbin",
                "community": "Xinhua", "grid": "G3"}}).encode(),
        )  # fmt: skip
        sealed = (await codec.encode([plain]))[0]
        assert sealed.metadata["encoding"] == ENCODING
        body = {"payloads": [_wire(sealed)]}
        near = stack.identity("op-near", Role.OPERATOR, "street:Yingbin")
        far = stack.identity("op-far", Role.OPERATOR, "street:Sanping")
        analyst = stack.identity("analyst", Role.ANALYST)
        origin = f"http://127.0.0.1:{stack.system.settings.ui_port}"

        async with stack.client(stack.admin) as admin:
            opened = (await admin.post("/codec/decode", json=body, headers={"X-Namespace": "default"})).json()
            data = base64.b64decode(opened["payloads"][0]["data"])
            assert b"Wang Fang" in data
            resealed = (await admin.post("/codec/encode", json={"payloads": [_wire(plain)]})).json()
            assert base64.b64decode(resealed["payloads"][0]["metadata"]["encoding"]) == ENCODING
            assert (await admin.post("/codec/decode", json={"payloads": 3})).status_code == 400
            preflight = await admin.options(
                "/codec/decode",
                headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                         "Access-Control-Request-Headers": "authorization,content-type,x-namespace"},
            )  # fmt: skip
            assert preflight.status_code == 200
            assert preflight.headers["access-control-allow-origin"] == origin
            assert preflight.headers["access-control-allow-credentials"] == "true"
            stranger = await admin.options(
                "/codec/decode",
                headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
            )
            assert "access-control-allow-origin" not in stranger.headers
        async with stack.client(near) as http:
            mine = (await http.post("/codec/decode", json=body)).json()
            assert b"Wang Fang" in base64.b64decode(mine["payloads"][0]["data"])
        async with stack.client(far) as http:  # outside their street: the payload stays sealed
            theirs = (await http.post("/codec/decode", json=body)).json()
            assert base64.b64decode(theirs["payloads"][0]["data"]) == sealed.data
        async with stack.client(analyst) as http:
            refused = await http.post("/codec/decode", json=body)
            assert refused.status_code == 403
            assert (await http.post("/codec/encode", json={"payloads": [_wire(plain)]})).status_code == 403
        async with stack.client(stack.identity("platform", Role.PLATFORM)) as http:  # a foreign platform
            ours = (await http.post("/codec/encode", json={"payloads": [_wire(plain)]})).json()["payloads"][0]
            assert base64.b64decode(ours["metadata"]["encoding"]) == ENCODING
            assert b"Wang Fang" not in base64.b64decode(ours["data"])
            assert (await http.post("/codec/decode", json=body)).status_code == 403  # sealing only
        async with stack.client() as http:
            assert (await http.post("/codec/decode", json=body)).status_code == 401
        with stack.system.directory() as directory:
            reveals = [d for d in directory.disclosures() if d["demand_id"].startswith("codec:")]
        assert [d["by"] for d in reveals] == ["admin", "op-near"]  # each opening is recorded


async def test_a_foreign_platform_seals_its_push_at_the_codec_endpoint_and_signals_it_with_the_temporal_cli(
    dev_server_env: WorkflowEnvironment, sqlite_settings: Settings
) -> None:
    """The README's recipe for a platform that speaks Temporal itself, with no Python: the payload
    sealed by `POST /codec/encode`, then signal-with-start by the `temporal` CLI, base64 and metadata
    as they came back. The demand is collected; Temporal's history holds no resident."""
    async with api_stack(sqlite_settings, dev_server_env) as stack:
        submission = stack.demand("sealed-by-platform")
        plain = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(submission).encode())
        async with stack.client(stack.identity("platform", Role.PLATFORM)) as http:
            answer = await http.post("/codec/encode", json={"payloads": [_wire(plain)]})
        assert answer.status_code == 200, answer.text
        sealed = answer.json()["payloads"][0]
        meta = [f"{k}={base64.b64decode(v).decode()}" for k, v in sealed["metadata"].items()]
        demand_id = stack.id("sealed-by-platform")
        settings = stack.system.settings
        temporal = [str(temporal_cli()), "workflow"]
        where = ["--address", settings.temporal_address, "--namespace", settings.temporal_namespace]
        command = [
            *temporal, "signal-with-start", *where, "--workflow-id", demand_id, "--type", "MicroDemand",
            "--task-queue", settings.task_queue, "--signal-name", "submit", "--signal-input", sealed["data"],
            "--signal-input-base64", *(arg for m in meta for arg in ("--signal-input-meta", m)),
        ]  # fmt: skip
        sent = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=60)
        assert sent.returncode == 0, sent.stderr
        await stack.indexed(demand_id, state="collected")
        shown = await asyncio.to_thread(
            subprocess.run, [*temporal, "show", *where, "--workflow-id", demand_id, "-o", "json"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    for value in submission["resident"].values():
        assert value not in shown.stdout, f"{value!r} is readable in Temporal's history"
