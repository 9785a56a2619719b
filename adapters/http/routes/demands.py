"""Demands over HTTP: push one or a batch, the ticket list, a demand's status and timeline, and every
command as a `POST` on the demand (one route per update the workflow takes, made from the table).
"""

# No `from __future__ import annotations` here: the command routes are made in a loop, and
# FastAPI reads each one's body model from its annotations as they are evaluated.

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, TypeAdapter, create_model
from starlette.concurrency import run_in_threadpool

from adapters.http import params
from adapters.http.auth import Svc, Who
from adapters.http.errors import BadRequestError, TooLargeError
from engine.access import Act
from engine.commands import SIGNALS, UPDATES, Command, Submission
from engine.lifecycle import State
from engine.status import DemandStatus
from engine.vocabulary import Channel, Kind, Level, Priority
from projections.index.models import DemandRecord

router = APIRouter(prefix="/api/demands", tags=["demands"])

MAX_BATCH = 1000
"""Demands one push request may carry."""

_SUBMISSIONS = TypeAdapter(list[Submission])
_WHO_FIELDS = ("by", "worker", "member", "unit")
"""Fields the application layer fills in from the identity asking; a body may leave them out."""


class Accepted(BaseModel):
    """Pushes Temporal holds: each demand's id (pushing the same demand again changes nothing)."""

    accepted: list[str]


class DemandPage(BaseModel):
    """A page of the ticket list, newest first, and the address of the next page (None at the end)."""

    items: list[DemandRecord]
    limit: int
    offset: int
    next: str | None


@router.post(
    "",
    status_code=202,
    response_model=Accepted,
    summary="Push one demand or a batch (signal-with-start; idempotent)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "description": "One `Submission` (docs/schema/submit.json) or a list of up to 1000."
                    }
                }
            },
        }
    },
)
async def push(request: Request, response: Response, who: Who) -> Accepted:
    """Each demand is answered once Temporal holds its push; the workflow records `Collected` a
    moment later. Pushing a demand again (same `source` and `external_id`) changes nothing."""
    try:
        raw = json.loads(await request.body())
    except ValueError:
        raise BadRequestError("the body is not valid JSON") from None
    many = raw if isinstance(raw, list) else [raw]
    if len(many) > MAX_BATCH:
        raise TooLargeError(f"at most {MAX_BATCH} demands per request, not {len(many)}")
    submissions = _SUBMISSIONS.validate_python(many)  # 422 naming each field (0.location.grid ...)
    ids = await request.app.state.pusher.push(who, submissions)
    if len(ids) == 1:
        response.headers["Location"] = f"/api/demands/{ids[0]}"
    return Accepted(accepted=ids)


@router.get("", response_model=DemandPage, summary="The ticket list, with filters and paging")
async def demands(
    request: Request,
    who: Who,
    services: Svc,
    state: State | None = None,
    open_only: Annotated[bool, Query(alias="open", description="Only demands still open.")] = False,
    scope: Annotated[str | None, Query(description="all, grid:G, community:C, street:S ...")] = None,
    priority: Priority | None = None,
    kind: Kind | None = None,
    channel: Channel | None = None,
    category: str | None = None,
    level: Level | None = None,
    member: Annotated[
        str | None, Query(description="Held by this member, as the lead or a co-claimant.")
    ] = None,
    unit: Annotated[str | None, Query(description="Held by this unit.")] = None,
    period: Annotated[str | None, Query(description="Collected in 2026, 2026-Q3, 2026-10 ...")] = None,
    due: Annotated[
        str | None,
        Query(description="Next deadline today, tomorrow, this week, or in a period (soonest first)."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: params.Offset = 0,
) -> DemandPage:
    """Demands matching every filter given, most recently collected first, within the asker's places."""
    places = services.listing(who, Act.READ, params.scope(scope))
    since, until = params.window(period, services.system.local_zone)
    falls_due = params.due(due, services.system.local_zone)
    reads = request.app.state.reads
    rows = await run_in_threadpool(
        lambda: reads.index.list_demands(
            state=state,
            open_only=open_only,
            scope=places,
            priority=priority,
            kind=kind,
            channel=channel,
            category=category,
            level=level,
            holder=member,
            claimant_unit=unit,
            due=falls_due,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )
    )
    following = None
    if len(rows) == limit:
        following = str(request.url.include_query_params(offset=offset + limit))
    return DemandPage(items=rows, limit=limit, offset=offset, next=following)


@router.get("/{demand_id}", response_model=DemandStatus, summary="A demand's standing")
async def status(
    demand_id: str,
    who: Who,
    services: Svc,
    live: Annotated[bool, Query(description="Ask the demand's workflow, not the index.")] = False,
) -> DemandStatus:
    """State, holder, rung, responsible unit and clock: from the demand index (`live`: its workflow)."""
    return await services.status(who, demand_id, live=live)


@router.get("/{demand_id}/events", summary="A demand's timeline (residents masked)")
async def events(
    demand_id: str,
    who: Who,
    services: Svc,
    reveal: Annotated[bool, Query(description="Show residents' data (recorded; roles that may).")] = False,
    why: Annotated[str, Query(description="Why residents' data is needed (with reveal).")] = "",
) -> list[dict[str, Any]]:
    """Every stored event of the demand, oldest first: version, time (UTC), event, who, note, details."""
    return await timeline(services, who, demand_id, reveal=reveal, why=why)


async def timeline(
    services: Any, who: Any, demand_id: str, *, reveal: bool = False, why: str = ""
) -> list[dict[str, Any]]:
    """The demand's events as records (residents masked unless revealed, and the reveal recorded)."""
    from adapters.timeline import event_record

    await services.allow_on(who, Act.READ, demand_id)
    if reveal:
        await services.reveal(who, demand_id, why)

    def read() -> list[dict[str, Any]]:
        with services.system.store() as store:
            return [event_record(e, reveal) for e in store.history(demand_id)]

    return await run_in_threadpool(read)


def body_model(kind: type[Command]) -> type[BaseModel]:
    """The body a route takes for `kind`: its payload, with who-did-it left to the identity asking."""
    optional: dict[str, Any] = {
        name: (kind.model_fields[name].annotation | None, None)  # type: ignore[operator]
        for name in _WHO_FIELDS
        if name in kind.model_fields
    }
    optional["actor"] = (None, None)  # signed by the application layer, never taken from a caller
    return create_model(f"{kind.__name__}Body", __base__=kind, __doc__=kind.__doc__, **optional)


def _command_route(kind: type[Command], *, by_signal: bool) -> None:
    name = (kind.update or kind.signal or "").replace("_", "-")
    model = body_model(kind)

    async def route(demand_id: str, body: model, who: Who, services: Svc) -> Any:  # type: ignore[valid-type]
        sent: BaseModel = body
        fields = sent.model_dump(exclude_unset=True, exclude={"actor", "step"})
        command = await services.command_from(who, demand_id, kind, fields)
        if by_signal:
            await services.signal(who, demand_id, command)
            return Response(status_code=202)
        return await services.command(who, demand_id, command)

    router.add_api_route(
        f"/{{demand_id}}/{name}",
        route,
        methods=["POST"],
        name=name,
        summary=(kind.__doc__ or name).splitlines()[0],
        response_model=None if by_signal else DemandStatus,
        status_code=202 if by_signal else 200,
    )


for _kind in UPDATES.values():
    _command_route(_kind, by_signal=False)
for _kind in SIGNALS.values():
    if _kind.update is None and _kind is not Submission:
        _command_route(_kind, by_signal=True)
