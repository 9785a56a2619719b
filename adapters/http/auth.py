"""Who is asking: a bearer token (the API, the codec endpoint, Open311's `api_key`) or the console's
cookie, authenticated into an `Identity` by the application layer, nothing else.

The console's sign-in keeps the token in an HttpOnly cookie, so no script on a page can read it;
every form the console posts carries a CSRF token that must match a second cookie.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from adapters.services import Services
from engine.access import Identity
from engine.directory import UnauthenticatedError

TOKEN_COOKIE = "md_token"
CSRF_COOKIE = "md_csrf"
CSRF_FIELD = "csrf"


def services_of(request: Request) -> Services:
    """The application layer the app was built on."""
    services: Services = request.app.state.services
    return services


def presented_token(request: Request) -> str | None:
    """The token the request carries: `Authorization: Bearer ...`, else the console's cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    cookie = request.cookies.get(TOKEN_COOKIE)
    return cookie.strip() if cookie else None


async def authenticate(request: Request, token: str | None) -> Identity:
    """The identity `token` stands for; UnauthenticatedError if none was given or it stands for none."""
    if not token:
        raise UnauthenticatedError("send a bearer token (Authorization: Bearer md_...)")
    identity: Identity = await run_in_threadpool(services_of(request).authenticate, token)
    return identity


async def identity(request: Request) -> Identity:
    """FastAPI dependency: the authenticated identity of the request."""
    return await authenticate(request, presented_token(request))


Who = Annotated[Identity, Depends(identity)]
"""A route parameter: the identity asking (401 without a valid token)."""

Svc = Annotated[Services, Depends(services_of)]
"""A route parameter: the application layer."""


def new_csrf() -> str:
    """A fresh CSRF token for the console's forms."""
    return secrets.token_urlsafe(24)


def csrf_ok(request: Request, sent: str | None) -> bool:
    """Whether a posted form's CSRF token matches the cookie set at sign-in."""
    expected = request.cookies.get(CSRF_COOKIE)
    return bool(expected and sent and hmac.compare_digest(expected, sent))
