"""The console: server-rendered pages for operators, community workers, members and analysts.

Jinja2 templates, htmx (vendored in `static/`, nothing fetched from elsewhere) for the board that
refreshes by itself, plain forms for every action; Chinese by default, English with `?lang=en`.
Every page asks the application layer what the API's routes ask, as the viewer signed in.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from adapters.http.console import demand, figures, lists, session
from adapters.http.console.i18n import LANGUAGES
from adapters.http.console.render import LANG_COOKIE, page


def error_page(request: Request, status: int, message: str) -> Response:
    """An error on a console page: to sign in if not signed in, else a page saying what went wrong."""
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/console/signin?next={quote(target)}", status_code=303)
    return page(request, "error.html.j2", None, code=status, status_code=status, message=message)


def install(app: FastAPI) -> None:
    """Add the console's pages to the app, and its way of answering errors."""
    for module in (session, lists, demand, figures):
        app.include_router(module.router)
    app.state.html_errors = error_page

    @app.middleware("http")
    async def remember_language(request: Request, call_next: Any) -> Response:
        """`?lang=en` (or `zh`) on any console address is kept for the pages after it, redirects too."""
        response: Response = await call_next(request)
        asked = request.query_params.get("lang")
        if asked in LANGUAGES and request.url.path.startswith("/console"):
            response.set_cookie(LANG_COOKIE, asked, max_age=365 * 86400, samesite="lax")
        return response
