"""Signing in and out of the console, and who is viewing a page.

Signing in checks the token through the application layer and keeps it in an HttpOnly cookie
(SameSite=Lax; Secure behind HTTPS with MICRODEMAND_SECURE_COOKIES); a second cookie holds the
CSRF token every form carries. A page asked without a valid cookie sends the viewer to sign in.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.http.auth import CSRF_COOKIE, TOKEN_COOKIE, authenticate, csrf_ok, new_csrf, presented_token
from adapters.http.console.render import landing, page
from engine.access import Forbidden, Identity
from engine.directory import UnauthenticatedError

router = APIRouter(prefix="/console", include_in_schema=False)

SESSION_SECONDS = 12 * 3600
"""How long the console keeps someone signed in (a shift)."""


async def viewer(request: Request) -> Identity:
    """Dependency: who views the page (UnauthenticatedError, answered by a redirect to sign in)."""
    return await authenticate(request, presented_token(request))


Viewer = Annotated[Identity, Depends(viewer)]


async def checked_form(request: Request) -> dict[str, str]:
    """A posted form whose CSRF token matches the viewer's cookie; Forbidden otherwise."""
    form = await request.form()
    fields = {k: v.strip() for k, v in form.items() if isinstance(v, str)}
    if not csrf_ok(request, fields.pop("csrf", None)):
        raise Forbidden("the form has expired: reload the page and try again")
    return fields


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    """The viewer's landing page, or the sign-in page."""
    try:
        who = await authenticate(request, presented_token(request))
    except UnauthenticatedError:
        return RedirectResponse("/console/signin", status_code=303)
    return RedirectResponse(landing(who), status_code=303)


@router.get("/signin", response_class=HTMLResponse)
async def signin_page(request: Request, next: str = "") -> Response:
    """The sign-in form."""
    return page(request, "signin.html.j2", None, next=_safe(next), failed=False)


@router.post("/signin", response_class=HTMLResponse)
async def signin(
    request: Request, token: Annotated[str, Form()], next: Annotated[str, Form()] = ""
) -> Response:
    """Check the token; keep it in an HttpOnly cookie and go on to the page asked for (or the landing)."""
    try:
        who = await authenticate(request, token.strip())
    except UnauthenticatedError:
        return page(request, "signin.html.j2", None, code=401, next=_safe(next), failed=True)
    response = RedirectResponse(_safe(next) or landing(who), status_code=303)
    secure = request.app.state.system.settings.secure_cookies
    for name, value in ((TOKEN_COOKIE, token.strip()), (CSRF_COOKIE, new_csrf())):
        response.set_cookie(
            name, value, max_age=SESSION_SECONDS, samesite="lax", secure=secure, httponly=True
        )
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    """Forget the token cookie."""
    await checked_form(request)
    response = RedirectResponse("/console/signin", status_code=303)
    response.delete_cookie(TOKEN_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


def _safe(target: str) -> str:
    """Only a path of this console may be gone on to after sign-in (never another site)."""
    return target if target.startswith("/console/") and not target.startswith("//") else ""
