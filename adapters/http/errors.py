"""The one mapping from the parts' errors to HTTP answers: a status and one clear message.

| error | status |
|---|---|
| no token, an unknown or revoked one | 401 (with `WWW-Authenticate: Bearer`) |
| `Forbidden` (the role matrix said no) | 403 |
| an unknown demand | 404 |
| a refused command (`Refused`, `CommandRefusedError`), a redemption not covered | 409, naming the state |
| a payload that is not what it should be | 422, naming each field |
| a bad query parameter, JSON that is not JSON | 400 |
| too many pushes waiting | 503, with `Retry-After` |
| Temporal or the store unreachable | 503 |

The API answers `{"error": "..."}`; the Open311 face answers as GeoReport v2 does
(`[{"code": 404, "description": "..."}]`); the console renders a page. A payload's values are
never echoed (they may hold a resident's phone number): fields are named, values are not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from engine.logs import get_logger

log = get_logger("http")

_NOT_BODY = ("query", "path", "header", "cookie")


class BadRequestError(ValueError):
    """A query parameter (scope, period, grouping ...) that cannot be read; answered 400."""


class BusyError(RuntimeError):
    """Too many pushes are waiting already; answered 503 with Retry-After."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooLargeError(ValueError):
    """A batch larger than one request may carry; answered 413."""


Renderer = Callable[[Request, int, str], Response]
"""How one face of the app (the console) answers an error itself."""


def fields_of(errors: Sequence[Any]) -> list[dict[str, str]]:
    """Each bad field of a pydantic error list as {field, problem}; the value sent is never shown."""
    found = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body", *_NOT_BODY)]
        found.append({"field": ".".join(loc) or "body", "problem": str(error.get("msg", "invalid"))})
    return found


def classify(error: BaseException) -> tuple[int, str, dict[str, Any]]:
    """The status, the message and any extra members of the answer for an error."""
    from adapters.demands_client import CommandRefusedError
    from adapters.services import UnknownAccountError
    from engine.access import Forbidden
    from engine.application import DemandNotFoundError
    from engine.directory import UnauthenticatedError
    from engine.lifecycle import Refused
    from engine.timebank import InsufficientPointsError, InvalidAmountError, TimeBankBusyError

    if isinstance(error, UnauthenticatedError):
        return 401, f"not authenticated: {error}", {}
    if isinstance(error, Forbidden):
        return 403, str(error), {}
    if isinstance(error, DemandNotFoundError):
        return 404, str(error), {"demand_id": error.demand_id}
    if isinstance(error, UnknownAccountError):
        return 404, str(error), {}
    if isinstance(error, Refused):
        return 409, str(error), {"demand_id": error.demand_id, "state": error.state.value}
    if isinstance(error, CommandRefusedError | InsufficientPointsError | TimeBankBusyError):
        return 409, str(error), {}
    if isinstance(error, RequestValidationError):
        errors = list(error.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return 400, "the body is not valid JSON", {}
        if any(
            tuple(e.get("loc", ())) == ("body",) and e.get("type") == "model_attributes_type" for e in errors
        ):
            return 422, "send the body as a JSON object (Content-Type: application/json)", {}
        fields = fields_of(errors)
        message = "; ".join(f"{f['field']}: {f['problem']}" for f in fields)
        if all(e.get("loc", ("body",))[0] in _NOT_BODY for e in errors):
            return 400, message, {"fields": fields}
        return 422, message, {"fields": fields}
    if isinstance(error, ValidationError):
        fields = fields_of(error.errors())
        return 422, "; ".join(f"{f['field']}: {f['problem']}" for f in fields), {"fields": fields}
    if isinstance(error, InvalidAmountError):
        return 422, str(error), {"fields": [{"field": "points", "problem": str(error)}]}
    if isinstance(error, BadRequestError):
        return 400, str(error), {}
    if isinstance(error, TooLargeError):
        return 413, str(error), {}
    if isinstance(error, BusyError):
        return 503, str(error), {}
    if isinstance(error, HTTPException):
        return error.status_code, str(error.detail), {}
    if _unavailable(error):
        return 503, f"a part of the system cannot be reached: {_first_line(error)}", {}
    return 500, "internal error (it is logged)", {}


def _unavailable(error: BaseException) -> bool:
    from adapters.bootstrap import StoreUnavailableError, is_store_error

    if isinstance(error, StoreUnavailableError) or is_store_error(error):
        return True
    return isinstance(error, RuntimeError) and "connect" in str(error).lower()


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def answer(request: Request, error: BaseException) -> Response:
    """The answer to `error`, in the form of the face it was asked on."""
    status, message, extra = classify(error)
    if status >= 500 and status != 503:
        log.error("request failed", path=request.url.path, error=_first_line(error), exc_info=error)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, BusyError):
        headers["Retry-After"] = str(error.retry_after)
    path = request.url.path
    renderer: Renderer | None = getattr(request.app.state, "html_errors", None)
    if renderer is not None and path.startswith("/console"):
        return renderer(request, status, message)
    if path.startswith("/open311"):
        return JSONResponse([{"code": status, "description": message}], status, headers=headers)
    return JSONResponse({"error": message, **extra}, status, headers=headers)


def install(app: FastAPI) -> None:
    """Answer every error raised by a route through `answer`."""

    async def handler(request: Request, error: Exception) -> Response:
        return answer(request, error)

    import sqlite3

    from adapters.demands_client import CommandRefusedError

    # Errors the routes expect are answered by Starlette's exception middleware, found by class;
    # only what is left (a defect) reaches the server-error middleware, which logs it again.
    expected: tuple[type[Exception], ...] = (
        HTTPException, RequestValidationError, ValidationError, CommandRefusedError,
        PermissionError, LookupError, ValueError, RuntimeError, sqlite3.Error,
    )  # fmt: skip
    for kind in expected:
        app.add_exception_handler(kind, handler)
    app.add_exception_handler(Exception, handler)
