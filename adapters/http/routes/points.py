"""Points over HTTP: rankings, a member's time bank and recent ledger entries, redemptions."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from adapters.http import params
from adapters.http.auth import Svc, Who
from adapters.services import Services
from engine.access import Act, Identity
from engine.periods import Period
from engine.values import Name
from engine.vocabulary import AccountKind

router = APIRouter(prefix="/api", tags=["points"])


class Standing(BaseModel):
    """One place of a ranking."""

    rank: int
    account: str
    points: Decimal
    demands: int


class Redemption(BaseModel):
    """Points a member spends, and on what."""

    points: Decimal = Field(gt=0, description="How many points, in tenths at most (12.5).")
    for_what: Name = Field(alias="for", description='What they are for, e.g. "a haircut".')


@router.get("/ranking", response_model=list[Standing], summary="Members or units by points earned")
async def ranking(
    request: Request,
    who: Who,
    services: Svc,
    by: Literal["member", "unit"] = "member",
    period: Annotated[str | None, Query(description="2026, 2026-Q3 ...; default: this year")] = None,
    scope: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> list[Standing]:
    """Points earned in a period and place, highest first (points count on the day they were written)."""
    return await standings(request, services, who, by=by, period=period, scope=scope, limit=limit)


async def standings(
    request: Request,
    services: Services,
    who: Identity,
    *,
    by: str,
    period: str | None,
    scope: str | None,
    limit: int = 20,
) -> list[Standing]:
    """The ranking for `who` (the console's ranking page asks the same)."""
    places = services.listing(who, Act.POINTS, params.scope(scope))
    wanted = params.period(period) or Period.parse(str(datetime.now(UTC).year))
    ledger = request.app.state.reads.points
    rows = await run_in_threadpool(lambda: ledger.ranking(AccountKind(by), wanted, places, limit))
    return [Standing(rank=s.rank, account=s.account, points=s.points, demands=s.demands) for s in rows]


@router.get("/points/{member}", summary="A member's time bank and recent ledger entries")
async def points(
    request: Request,
    member: str,
    who: Who,
    services: Svc,
    recent: Annotated[int, Query(ge=0, le=200)] = 10,
) -> dict[str, Any]:
    """Balance (never below zero), earned, redeemed, owed, the latest ledger entries and every
    redemption; 404 for a name that never earned or redeemed points."""
    return await account(request, services, who, member, recent)


async def account(
    request: Request, services: Services, who: Identity, member: str, recent: int
) -> dict[str, Any]:
    """A member's balance and recent entries for `who` (the console's points page asks the same)."""
    services.allow(who, Act.POINTS, account=member)
    ledger = request.app.state.reads.points

    def read() -> dict[str, Any]:
        services.known_account(ledger, AccountKind.MEMBER, member)
        with services.system.time_bank(ledger) as bank:
            balance = bank.balance(member)
            redemptions = bank.redemptions(member)
        entries = ledger.recent(AccountKind.MEMBER, member, recent)
        return {
            **balance.model_dump(mode="json"),
            "recent": [e.model_dump(mode="json") for e in entries],
            "redemptions": [r.model_dump(mode="json") for r in redemptions],
        }

    return await run_in_threadpool(read)


@router.post("/points/{member}/redemptions", summary="Redeem a member's points")
async def redeem(request: Request, member: str, body: Redemption, who: Who, services: Svc) -> dict[str, Any]:
    """Spend points on a service or goods; 409 if the balance would go below zero."""
    return await spend(request, services, who, member, body.points, body.for_what)


async def spend(
    request: Request, services: Services, who: Identity, member: str, amount: Decimal | str, for_what: str
) -> dict[str, Any]:
    """Redeem for `who` (the console's points page does the same)."""
    services.allow(who, Act.REDEEM, account=member)
    ledger = request.app.state.reads.points

    def write() -> dict[str, Any]:
        with services.system.time_bank(ledger) as bank:
            balance = bank.redeem(member, amount, for_what, datetime.now(UTC))
        return balance.model_dump(mode="json")

    return await run_in_threadpool(write)
