"""The console's lists: the overdue board with what is due today (refreshing by itself), and the
ticket list with search, filters and pages. They ask what the API's routes ask."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from adapters.http import params
from adapters.http.auth import services_of
from adapters.http.console.render import fragment, page
from adapters.http.console.session import Viewer
from adapters.http.routes.figures import board as overdue_board
from adapters.http.routes.figures import due_today
from engine.access import Act, Role
from engine.lifecycle import State
from engine.vocabulary import Priority
from projections.index.models import DemandRecord

router = APIRouter(prefix="/console", include_in_schema=False)

PAGE = 25
SEARCHED = 5000
"""A title search reads at most this many of the most recent demands matching the filters."""


def _refresh(value: int | None) -> int:
    return max(3, min(value or 30, 600))


BOARD_PAGE = 50
"""Overdue demands on one page of the board (the most overdue first; the next ones a page away)."""


@router.get("/board", response_class=HTMLResponse)
async def board(
    request: Request,
    who: Viewer,
    scope: str | None = None,
    refresh: int | None = None,
    offset: params.Offset = 0,
) -> Response:
    """The overdue board (a page of it) and what is due today, in the viewer's places; htmx
    refreshes the rows."""
    services = services_of(request)
    services.listing(who, Act.FIGURES)  # Forbidden before anything is read
    rows = await _board_rows(request, who, scope, offset)
    return page(request, "board.html.j2", who, scope=scope or "", refresh=_refresh(refresh), **rows)


@router.get("/board/rows", response_class=HTMLResponse)
async def board_rows(
    request: Request, who: Viewer, scope: str | None = None, offset: params.Offset = 0
) -> Response:
    """The board's two tables alone (what htmx swaps in every few seconds)."""
    return fragment(request, "_board_rows.html.j2", **await _board_rows(request, who, scope, offset))


async def _board_rows(request: Request, who: Viewer, scope: str | None, offset: int) -> dict[str, Any]:
    services = services_of(request)
    overdue = await overdue_board(request, services, who, scope, limit=BOARD_PAGE + 1, offset=offset)
    return {
        "overdue": overdue[:BOARD_PAGE],
        "more": len(overdue) > BOARD_PAGE,
        "offset": offset,
        "page_size": BOARD_PAGE,
        "board_scope": scope or "",
        "due": await due_today(request, services, who, scope),
        "now": datetime.now(UTC),
    }


@router.get("/demands", response_class=HTMLResponse)
async def demands(
    request: Request,
    who: Viewer,
    q: str = "",
    state: Annotated[State | None, Query()] = None,
    priority: Annotated[Priority | None, Query()] = None,
    scope: str | None = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
    mine: bool = False,
    offset: params.Offset = 0,
) -> Response:
    """The ticket list: a demand id opens it; words search titles; filters narrow; pages of 25."""
    services = services_of(request)
    q = q.strip()
    if q.startswith("demand-") or who.role is Role.RESIDENT:
        if q:
            return RedirectResponse(f"/console/demands/{q}", status_code=303)
        return page(request, "demands.html.j2", who, rows=[], filters={}, resident=True)
    places = services.listing(who, Act.READ, params.scope(scope))
    member = who.name if mine else None
    index = request.app.state.reads.index

    def read() -> tuple[list[DemandRecord], bool]:
        if not q:
            found = index.list_demands(
                state=state, priority=priority, scope=places, open_only=open_only,
                holder=member, limit=PAGE + 1, offset=offset,
            )  # fmt: skip
            return found, False
        wanted, read_so_far = q.casefold(), 0
        matched: list[DemandRecord] = []
        while read_so_far < SEARCHED and len(matched) <= offset + PAGE:
            batch = index.list_demands(
                state=state, priority=priority, scope=places, open_only=open_only,
                holder=member, limit=500, offset=read_so_far,
            )  # fmt: skip
            matched += [r for r in batch if wanted in r.title.casefold() or wanted in r.demand_id]
            read_so_far += len(batch)
            if len(batch) < 500:
                break
        return matched[offset : offset + PAGE + 1], read_so_far >= SEARCHED

    rows, capped = await run_in_threadpool(read)
    filters = {
        "q": q, "state": state.value if state else "", "priority": priority.value if priority else "",
        "scope": scope or "", "open": "1" if open_only else "", "mine": "1" if mine else "",
    }  # fmt: skip
    return page(
        request, "demands.html.j2", who, rows=rows[:PAGE], more=len(rows) > PAGE, offset=offset,
        page_size=PAGE, filters=filters, capped=capped, searched=SEARCHED, resident=False,
        states=[s for s in State if s not in (State.NEW, State.REJECTED)], priorities=list(Priority),
    )  # fmt: skip
