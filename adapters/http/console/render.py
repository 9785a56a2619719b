"""Rendering the console's pages: one Jinja2 environment, local times, the words of the page's
language, the navigation the viewer's role may use, and a one-time message after an action."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import cache
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from adapters.http.auth import CSRF_COOKIE
from adapters.http.console.i18n import language, translator
from engine.access import MATRIX, Act, Identity, Role

LANG_COOKIE = "md_lang"
FLASH_COOKIE = "md_flash"


@cache
def environment() -> Environment:
    """The console's templates (`adapters/http/templates/`), autoescaped."""
    env = Environment(
        loader=PackageLoader("adapters.http", "templates"),
        autoescape=select_autoescape(["j2", "html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["percent"] = lambda v: "-" if v is None else f"{v:.1%}"
    env.filters["lateness"] = lateness
    return env


def lateness(delta: timedelta) -> str:
    """A span as people say it: `10d`, `2d 3h`, `45m`, `20s` (its sign is said by the column)."""
    seconds = abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {rest // 60}m"
    return f"{rest // 60}m" if rest >= 60 else f"{rest}s"


def local_time(zone: timezone) -> Any:
    """A filter writing a time (or an ISO string) in the local zone, to the minute."""

    def write(value: datetime | str | None, seconds: bool = False) -> str:
        if value is None or value == "":
            return "-"
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else ""))

    return write


def navigation(who: Identity) -> list[tuple[str, str]]:
    """The console's pages the viewer's role may use: (catalogue key, path)."""
    acts = MATRIX[who.role]
    items: list[tuple[str, str]] = []
    if Act.FIGURES in acts:
        items.append(("board", "/console/board"))
    items.append(("demands", "/console/demands"))
    if Act.FIGURES in acts:
        items.append(("rates", "/console/rates"))
    if Act.POINTS in acts:
        items.append(("ranking", "/console/ranking"))
    if who.role is Role.MEMBER:
        items.append(("my_points", f"/console/points/{quote(who.name)}"))
    return items


def landing(who: Identity) -> str:
    """Where a role lands after signing in: operators on the board, members on the open demands,
    analysts on the rates, everyone else on the ticket list."""
    if who.role in (Role.OPERATOR, Role.ADMINISTRATOR):
        return "/console/board"
    if who.role is Role.MEMBER:
        return "/console/demands?open=1"
    if who.role is Role.ANALYST:
        return "/console/rates"
    return "/console/demands"


def lang_of(request: Request) -> str:
    """The language of this request's page."""
    return language(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))


def page(
    request: Request, template: str, who: Identity | None, code: int = 200, **context: Any
) -> HTMLResponse:
    """A rendered page; the language asked for is remembered, a flash message shown once."""
    lang = lang_of(request)
    system = request.app.state.system
    flash = request.cookies.get(FLASH_COOKIE)
    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            who=who,
            lang=lang,
            t=translator(lang),
            zone=system.zone_label,
            local=local_time(system.local_zone),
            nav=navigation(who) if who else [],
            csrf=request.cookies.get(CSRF_COOKIE, ""),
            flash=_read_flash(flash),
            path=request.url.path,
            **context,
        )
    )
    response = HTMLResponse(html, status_code=code)
    if flash:
        response.delete_cookie(FLASH_COOKIE)
    return response


def fragment(request: Request, template: str, **context: Any) -> HTMLResponse:
    """A piece of a page (the board's rows, refreshed by htmx), in the page's language."""
    lang = lang_of(request)
    system = request.app.state.system
    html = (
        environment()
        .get_template(template)
        .render(
            request=request, lang=lang, t=translator(lang), local=local_time(system.local_zone), **context
        )
    )
    return HTMLResponse(html)


def flash(response: Response, ok: bool, message: str) -> Response:
    """Show `message` once, on the next page rendered."""
    response.set_cookie(FLASH_COOKIE, quote(("1" if ok else "0") + message[:600]), max_age=60, samesite="lax")
    return response


def _read_flash(value: str | None) -> tuple[bool, str] | None:
    if not value:
        return None
    text = unquote(value)
    return text[:1] == "1", text[1:]
