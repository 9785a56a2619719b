"""The console's figures: rates by place and period with charts drawn on the server, rankings, and
a member's points and time bank (with a form to redeem them)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from adapters.charts import Chart, bar_chart, line_chart
from adapters.http import params
from adapters.http.auth import services_of
from adapters.http.console.i18n import translator
from adapters.http.console.render import flash, lang_of, page
from adapters.http.console.session import Viewer, checked_form
from adapters.http.errors import classify
from adapters.http.routes.figures import rate_rows
from adapters.http.routes.points import Redemption, account, spend, standings
from adapters.report import bucket_for
from engine.access import Act, Forbidden
from engine.periods import Period
from projections.index.models import RateRow

router = APIRouter(prefix="/console", include_in_schema=False)

DIMENSIONS = ("community", "grid", "street", "district", "category", "channel", "priority", "level")
BUCKETS = ("day", "week", "month", "year")
TOP = 8


def _this_year() -> str:
    return str(datetime.now(UTC).year)


@router.get("/rates", response_class=HTMLResponse)
async def rates(
    request: Request,
    who: Viewer,
    scope: str | None = None,
    period: str | None = None,
    per: str | None = None,
    by: str = "community",
) -> Response:
    """Tiles of the period's figures, two charts over time, and the figures by a dimension."""
    services = services_of(request)
    period = period or _this_year()
    chosen = params.period(period)
    assert chosen is not None
    per = per if per in BUCKETS else bucket_for(chosen).value
    by = by if by in DIMENSIONS else "community"
    asked = {"period": period, "scope": scope}
    overall = (await rate_rows(request, services, who, by=None, per=None, **asked) or [RateRow()])[0]
    over_time = await rate_rows(request, services, who, by=None, per=per, **asked)
    by_community = await rate_rows(request, services, who, by="community", per=per, **asked)
    table = await rate_rows(request, services, who, by=by, per=None, **asked)
    t = translator(lang_of(request))
    charts = await run_in_threadpool(_rate_charts, t, over_time, by_community)
    return page(
        request, "rates.html.j2", who, overall=overall, charts=charts, table=table,
        filters={"scope": scope or "", "period": period, "per": per, "by": by},
        dimensions=DIMENSIONS, buckets=BUCKETS,
    )  # fmt: skip


def _rate_charts(t: Any, over_time: list[RateRow], by_community: list[RateRow]) -> list[tuple[Chart, Markup]]:
    labels = [r.period or "" for r in over_time]
    trend = line_chart(
        "rates-over-time", t("rates_over_time"), labels,
        {t("completion_rate"): [r.completion_rate for r in over_time],
         t("on_time_rate"): [r.on_time_rate for r in over_time]},
        percent=True,
    )  # fmt: skip
    periods = sorted({r.period for r in by_community if r.period})
    volume: dict[str, int] = defaultdict(int)
    for row in by_community:
        volume[row.key or ""] += row.collected
    keep = sorted(volume, key=lambda k: (-volume[k], k))[:TOP]
    series: dict[str, list[float | None]] = {k: [None] * len(periods) for k in sorted(keep)}
    for row in by_community:
        if row.key in series and row.period:
            series[row.key][periods.index(row.period)] = row.completion_rate
    communities = line_chart("rates-by-community", t("rates_by_community"), periods, series, percent=True)
    return [(chart, Markup(chart.svg)) for chart in (trend, communities)]  # matplotlib escapes its text


@router.get("/ranking", response_class=HTMLResponse)
async def ranking(
    request: Request, who: Viewer, by: str = "member", period: str | None = None, scope: str | None = None
) -> Response:
    """Members or units by points earned in a period and place, as a table and a bar chart."""
    services = services_of(request)
    by = "unit" if by == "unit" else "member"
    period = period or _this_year()
    rows = await standings(request, services, who, by=by, period=period, scope=scope, limit=20)
    t = translator(lang_of(request))
    chart = await run_in_threadpool(
        lambda: bar_chart(
            "ranking",
            t("ranking"),
            [s.account for s in rows][:10],
            {t("points"): [float(s.points) for s in rows][:10]},
            horizontal=True,
        )
    )
    return page(
        request, "ranking.html.j2", who, rows=rows, chart=(chart, Markup(chart.svg)),
        filters={"by": by, "period": period, "scope": scope or ""},
    )  # fmt: skip


@router.get("/points/{member}", response_class=HTMLResponse)
async def points(request: Request, member: str, who: Viewer) -> Response:
    """A member's balance, earned, redeemed and owed points, recent entries, and a form to redeem."""
    services = services_of(request)
    found = await account(request, services, who, member, 20)
    try:
        services.allow(who, Act.REDEEM, account=member)
        may_redeem = True
    except Forbidden:
        may_redeem = False
    return page(
        request, "points.html.j2", who, member=member, account=found, may_redeem=may_redeem,
        period=Period.parse(_this_year()).label,
    )  # fmt: skip


@router.post("/points/{member}/redeem")
async def redeem(request: Request, member: str, who: Viewer) -> Response:
    """Redeem from the form; back to the points page with what happened."""
    form = await checked_form(request)
    back = RedirectResponse(f"/console/points/{quote(member)}", status_code=303)
    try:
        wanted = Redemption.model_validate({"points": form.get("points") or "0", "for": form.get("for", "")})
        await spend(request, services_of(request), who, member, wanted.points, wanted.for_what)
    except Exception as error:
        status, message, _ = classify(error)
        if status >= 500:
            raise
        return flash(back, False, message)
    t = translator(lang_of(request))
    return flash(back, True, t("done") + t("redeem") + f" {form.get('points', '')}")
