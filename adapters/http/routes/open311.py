"""An Open311 GeoReport v2 face, so civic-reporting clients push and follow demands without Temporal.

`services.json` lists the service codes of the settings file (`MICRODEMAND_OPEN311_FILE`, shipped:
`engine/policies/open311.toml`); `requests.json` (POST) pushes a demand through the same
application layer and back-pressure as `POST /api/demands`; `requests.json` (GET) and
`requests/{id}.json` answer from the demand index. JSON only. The token is the bearer token, or
Open311's `api_key`. Errors are GeoReport's `[{"code": ..., "description": ...}]`.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from adapters.http.auth import authenticate, presented_token, services_of
from adapters.http.errors import BadRequestError
from engine.access import Act
from engine.commands import Submission
from engine.status import DemandStatus
from engine.values import field_errors
from engine.vocabulary import Channel, Kind, Priority

router = APIRouter(prefix="/open311/v2", tags=["open311"])

PLACE_ATTRIBUTES = ("street", "community", "grid", "district")


class Jurisdiction(BaseModel):
    """Where requests are placed when they do not say, and the source their demands get."""

    id: str
    source: str = "open311"
    city: str
    district: str
    channel: Channel = Channel.PLATFORM


class Service(BaseModel):
    """One service code and the demand a request of it becomes."""

    code: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    name: str
    description: str = ""
    group: str = ""
    kind: Kind
    category: str
    priority: Priority = Priority.GENERAL
    post: str | None = None
    keywords: list[str] = []


class Open311Settings(BaseModel):
    """The Open311 settings file: the jurisdiction and its services."""

    jurisdiction: Jurisdiction
    services: list[Service]

    def service(self, code: str) -> Service | None:
        """The service of a code, if there is one."""
        return next((s for s in self.services if s.code == code), None)

    def by_category(self, category: str) -> Service | None:
        """The service whose requests become demands of `category`."""
        return next((s for s in self.services if s.category == category), None)


@cache
def load_open311(path: Path | None) -> Open311Settings:
    """The settings file (PolicyError naming the field if it is invalid)."""
    from engine.policies.files import load_policy

    return load_policy(Open311Settings, path, "open311.toml", "Open311 services file")


def _settings(request: Request) -> Open311Settings:
    return load_open311(services_of(request).system.settings.open311_file)


@router.get("/services.json", summary="Open311: the service list")
async def service_list(request: Request) -> list[dict[str, Any]]:
    """Every service code, with its name, group and keywords (each has attributes: metadata true)."""
    found = _settings(request)
    return [
        {"service_code": s.code, "service_name": s.name, "description": s.description, "metadata": True,
         "type": "realtime", "keywords": ",".join(s.keywords), "group": s.group}
        for s in found.services
    ]  # fmt: skip


@router.get("/services/{code}.json", summary="Open311: a service's definition (its attributes)")
async def service_definition(request: Request, code: str) -> dict[str, Any]:
    """The attributes a request names its place with."""
    if _settings(request).service(code) is None:
        from fastapi import HTTPException

        raise HTTPException(404, f"no service {code}")
    described = {
        "street": "The street or township (街道/乡).",
        "community": "The community or village (社区/村).",
        "grid": "The grid (网格).",
        "district": "The district, if not the jurisdiction's.",
    }
    return {
        "service_code": code,
        "attributes": [
            {"variable": True, "code": name, "datatype": "string", "required": name != "district",
             "datatype_description": "", "order": n, "description": text}
            for n, (name, text) in enumerate(described.items(), 1)
        ],
    }  # fmt: skip


async def _fields(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.json()
        if not isinstance(body, dict):
            raise BadRequestError("the body must be one request")
        flat = {k: str(v) for k, v in body.items() if not isinstance(v, dict)}
        flat.update({f"attribute[{k}]": str(v) for k, v in (body.get("attribute") or {}).items()})
        return flat
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def submission_of(fields: dict[str, str], found: Open311Settings, key: str) -> Submission:
    """The demand an Open311 request becomes; BadRequestError naming a field that is missing or wrong."""
    code = fields.get("service_code", "").strip()
    service = found.service(code)
    if service is None:
        raise BadRequestError(f"service_code: {'missing' if not code else f'no service {code}'}")
    place = {name: fields.get(f"attribute[{name}]", "").strip() for name in PLACE_ATTRIBUTES}
    description = fields.get("description", "").strip()
    if media := fields.get("media_url", "").strip():
        description = f"{description}\n{media}".strip()
    name = " ".join(fields.get(k, "").strip() for k in ("first_name", "last_name")).strip()
    raw = {
        "source": found.jurisdiction.source,
        "external_id": key,
        "kind": service.kind,
        "title": (description.splitlines()[0][:200] if description else "") or service.name,
        "description": description,
        "channel": found.jurisdiction.channel,
        "category": service.category,
        "priority": service.priority,
        "post": service.post,
        "location": {
            "city": found.jurisdiction.city,
            "district": place["district"] or found.jurisdiction.district,
            "street": place["street"],
            "community": place["community"],
            "grid": place["grid"],
        },
        "resident": {
            "name": name or "anonymous",
            "phone": fields.get("phone", ""),
            "address": fields.get("address_string", ""),
        },
    }
    try:
        return Submission.model_validate(raw)
    except ValidationError as error:
        named = field_errors(error).replace("location.", "attribute[").replace("resident.", "")
        raise BadRequestError(named) from None


def request_key(request: Request, fields: dict[str, str], who: str) -> str:
    """A request's id: the client's `Idempotency-Key`, else a digest of who sent what today (local),
    so a client that sends the same request again (a retry) makes no second demand."""
    given = request.headers.get("idempotency-key", "").strip()
    if given:
        material = f"key:{who}:{given}"
    else:
        zone = services_of(request).system.local_zone
        content = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "api_key")
        material = f"content:{who}:{datetime.now(UTC).astimezone(zone).date()}:{content}"
    return hashlib.sha256(material.encode()).hexdigest()[:24]


@router.post("/requests.json", status_code=201, summary="Open311: report a request")
async def create_request(request: Request) -> JSONResponse:
    """Push the request as a demand (answered once Temporal holds it); its id is the demand's id."""
    fields = await _fields(request)
    who = await authenticate(request, presented_token(request) or fields.get("api_key"))
    submission = submission_of(fields, _settings(request), request_key(request, fields, who.name))
    ids = await request.app.state.pusher.push(who, [submission])
    notice = "收到，将在时限内处理 / received; it will be handled within its time limit"
    return JSONResponse(
        [{"service_request_id": ids[0], "service_notice": notice, "account_id": None}], status_code=201
    )


def _request_of(status: DemandStatus, found: Open311Settings) -> dict[str, Any]:
    service = found.by_category(status.category)
    notes = status.state.value.replace("_", " ")
    if status.claimant:
        notes += f", held by {status.claimant.member} ({status.claimant.unit})"
    if status.escalations:
        notes += f", escalated to the {status.level.value}"
    due = status.clock.due_at if status.clock and status.state.is_open else None
    return {
        "service_request_id": status.demand_id,
        "status": "open" if status.state.is_open else "closed",
        "status_notes": notes,
        "service_name": service.name if service else status.category,
        "service_code": service.code if service else status.category,
        "description": status.title,
        "agency_responsible": status.responsible_unit,
        "service_notice": None,
        "requested_datetime": status.collected_at.isoformat() if status.collected_at else None,
        "updated_datetime": status.updated_at.isoformat() if status.updated_at else None,
        "expected_datetime": due.isoformat() if due else None,
        "address": None,  # a resident's address is personal data: never shown here
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def _moment(name: str, text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequestError(f"{name}: not an ISO 8601 time") from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


@router.get("/requests.json", summary="Open311: requests, by id or by service, status and dates")
async def requests(
    request: Request,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """By id (comma-separated), or the last 90 days' (at most 1000), within the asker's places."""
    who = await authenticate(request, presented_token(request) or request.query_params.get("api_key"))
    services = services_of(request)
    found = _settings(request)
    index = request.app.state.reads.index
    if service_request_id:
        asked = [d.strip() for d in service_request_id.split(",") if d.strip()][:100]
        return [_request_of(await services.status(who, d), found) for d in asked]
    places = services.listing(who, Act.READ)
    until = _moment("end_date", end_date) or datetime.now(UTC)
    since = _moment("start_date", start_date) or until - timedelta(days=90)
    category = None
    if service_code:
        service = found.service(service_code)
        category = service.category if service else service_code
    wanted = {s.strip() for s in (status or "").split(",") if s.strip()}
    if wanted - {"open", "closed"}:
        raise BadRequestError("status: open, closed or both")
    rows = await run_in_threadpool(
        lambda: index.list_demands(
            scope=places,
            category=category,
            since=since,
            until=until,
            limit=1000,
            open_only=wanted == {"open"},
        )
    )
    if wanted == {"closed"}:
        rows = [r for r in rows if not r.state.is_open]
    return [_request_of(r.status(), found) for r in rows]


@router.get("/requests/{demand_id}.json", summary="Open311: one request")
async def one_request(request: Request, demand_id: str) -> list[dict[str, Any]]:
    """The request as a list of one, as GeoReport v2 answers it."""
    who = await authenticate(request, presented_token(request) or request.query_params.get("api_key"))
    found = await services_of(request).status(who, demand_id)  # the index, or the workflow if not yet
    return [_request_of(found, _settings(request))]
