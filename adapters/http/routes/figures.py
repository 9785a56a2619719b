"""Boards and figures over HTTP: the overdue board, what is due, rates, rejected pushes, health, and
who the caller is. Each reads the live views through their own queries, within the asker's places."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from adapters.health import Health, check_health
from adapters.http import params
from adapters.http.auth import Svc, Who
from adapters.http.errors import BadRequestError
from adapters.services import Services
from engine.access import MATRIX, Act, Identity
from engine.vocabulary import Level, Priority
from projections.index.models import OverdueRow, RateRow, RejectionRow

router = APIRouter(prefix="/api", tags=["figures"])


@router.get("/me", summary="Who the token stands for, and what the role may do")
async def me(who: Who) -> dict[str, Any]:
    """The identity (name, role, scope, unit) and the acts its role may do at all."""
    return {**who.model_dump(mode="json", exclude={"resident_key"}), "may": sorted(MATRIX[who.role])}


@router.get("/overdue", response_model=list[OverdueRow], summary="The overdue board")
async def overdue(
    request: Request,
    who: Who,
    services: Svc,
    scope: str | None = None,
    priority: Priority | None = None,
    level: Level | None = None,
    due_within: Annotated[str | None, Query(description="Also those due within 6h, 1d ...")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Rows in the page.")] = 50,
    offset: params.Offset = 0,
) -> list[OverdueRow]:
    """A page of the open demands past (or, with `due_within`, near) their deadline, most overdue
    first: `limit` rows (50 unless asked) after the first `offset`."""
    return await board(
        request, services, who, scope, priority, level, params.duration("due_within", due_within),
        limit=limit, offset=offset,
    )  # fmt: skip


async def board(
    request: Request,
    services: Services,
    who: Identity,
    scope: str | None,
    priority: Priority | None = None,
    level: Level | None = None,
    due_within: timedelta | None = None,
    *,
    limit: int = 50,
    offset: int = 0,
) -> list[OverdueRow]:
    """A page of the overdue board for `who` (the console's board asks the same)."""
    places = services.listing(who, Act.FIGURES, params.scope(scope))
    index = request.app.state.reads.index
    now = datetime.now(UTC)
    return await run_in_threadpool(
        lambda: index.overdue(
            now=now,
            due_within=due_within,
            scope=places,
            priority=priority,
            level=level,
            limit=limit,
            offset=offset,
        )
    )


async def due_today(
    request: Request,
    services: Services,
    who: Identity,
    scope: str | None,
    *,
    limit: int = 50,
    offset: int = 0,
) -> list[OverdueRow]:
    """A page of the open demands not yet overdue whose deadline falls before the end of today
    (local time), soonest first."""
    places = services.listing(who, Act.FIGURES, params.scope(scope))
    index = request.app.state.reads.index
    now = datetime.now(UTC)
    zone = services.system.local_zone
    end = datetime.combine(now.astimezone(zone).date() + timedelta(days=1), time(0), zone)
    return await run_in_threadpool(lambda: index.due(now, end, places, limit=limit, offset=offset))


@router.get("/due", response_model=list[OverdueRow], summary="What is due today")
async def due(
    request: Request,
    who: Who,
    services: Svc,
    scope: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Rows in the page.")] = 50,
    offset: params.Offset = 0,
) -> list[OverdueRow]:
    """A page of the open demands not yet overdue whose deadline falls before the end of the local
    day, soonest first."""
    return await due_today(request, services, who, scope, limit=limit, offset=offset)


@router.get(
    "/rates", response_model=list[RateRow], summary="Claim, completion, on-time and satisfaction rates"
)
async def rates(
    request: Request,
    who: Who,
    services: Svc,
    by: Annotated[
        str | None, Query(description="grid, community, street, district, city, channel ...")
    ] = None,
    per: Annotated[str | None, Query(description="day, week, month or year")] = None,
    period: Annotated[str | None, Query(description="Collected in 2026, 2026-Q3 ...")] = None,
    scope: str | None = None,
) -> list[RateRow]:
    """The figures communities are judged by, for the demands collected in the period (cohorts)."""
    return await rate_rows(request, services, who, by=by, per=per, period=period, scope=scope)


async def rate_rows(
    request: Request,
    services: Services,
    who: Identity,
    *,
    by: str | None,
    per: str | None,
    period: str | None,
    scope: str | None,
) -> list[RateRow]:
    """The rates for `who` (the console's rates page asks the same)."""
    places = services.listing(who, Act.FIGURES, params.scope(scope))
    system = services.system
    since, until = params.window(period, system.local_zone)
    offset = system.utc_offset  # the same calendar as the CLI's (the time_zone setting)
    index = request.app.state.reads.index

    def read() -> list[RateRow]:
        try:
            return index.rates(by=by, per=per, since=since, until=until, scope=places, utc_offset=offset)
        except ValueError as error:
            raise BadRequestError(str(error)) from None

    return await run_in_threadpool(read)


@router.get(
    "/rejected", response_model=list[RejectionRow], summary="Pushes and signals that could not be taken"
)
async def rejected(
    request: Request,
    who: Who,
    services: Svc,
    demand: str | None = None,
    since: Annotated[str | None, Query(description="Only those of the last 2h, 1d ...")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[RejectionRow]:
    """Why each was refused, newest first; never the payload."""
    services.allow(who, Act.FIGURES)
    window = params.duration("since", since)
    start = datetime.now(UTC) - window if window else None
    index = request.app.state.reads.index
    return await run_in_threadpool(lambda: index.rejections(demand_id=demand, since=start, limit=limit))


@router.get("/health", response_model=Health, summary="Worker, store, projections and their lag")
async def health(who: Who, services: Svc) -> Any:
    """Whether a worker polls the task queue, the store answers and each projection runs (503 if not)."""
    report = await check_health(services.system)
    return JSONResponse(report.model_dump(mode="json"), status_code=200 if report.well else 503)
