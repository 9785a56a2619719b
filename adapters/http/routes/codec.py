"""The codec endpoint for Temporal's Web UI and CLI (Temporal's remote codec server protocol).

`POST /codec/decode` and `/codec/encode` take and answer `{"payloads": [...]}`, each payload in
protobuf's JSON form (`metadata` values and `data` in base64). Behind the API's authentication
(a bearer token, or the console's cookie when the Web UI includes cross-origin credentials).
Decoding is only for roles that may see residents' data (`Act.REVEAL`), and every call that
opens a resident's payload is recorded as a disclosure; encoding also for those who may push
demands (a platform that signals over Temporal in another language encodes its payloads here,
so no resident reaches Temporal in plain text). The Web UI's origin may call it across origins (CORS).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from google.protobuf import json_format
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payloads

from adapters.http.auth import Svc, Who
from engine.access import Act, Forbidden
from engine.lifecycle import Step

router = APIRouter(prefix="/codec", tags=["codec"])


def _payloads(body: Any) -> Payloads:
    from adapters.http.errors import BadRequestError

    try:
        return json_format.ParseDict(body, Payloads())
    except (json_format.ParseError, TypeError) as error:
        raise BadRequestError(f"not Temporal payloads: {error}") from None


@router.post("/decode", summary="Open residents' payloads for Temporal's Web UI (REVEAL, recorded)")
async def decode(request: Request, who: Who, services: Svc) -> dict[str, Any]:
    """Encrypted payloads opened with the deployment's codec key; the others as they came."""
    found = _payloads(await request.json())
    namespace = request.headers.get("x-namespace", services.system.settings.temporal_namespace)
    opened = await services.open_payloads(who, namespace, list(found.payloads))
    return json_format.MessageToDict(Payloads(payloads=opened))


@router.post("/encode", summary="Seal residents' payloads as the workers do (REVEAL, or a pusher)")
async def encode(request: Request, who: Who, services: Svc) -> dict[str, Any]:
    """Payloads that name a resident encrypted with the deployment's codec key; the others as they came."""
    try:
        services.allow(who, Act.REVEAL)
    except Forbidden:
        services.allow(who, Step.COLLECT)  # encoding opens nothing: whoever may push may seal

    found = _payloads(await request.json())
    sealed = await services.system.payload_codec().encode(list(found.payloads))
    return json_format.MessageToDict(Payloads(payloads=sealed))


class CodecCORS:
    """CORS for the codec endpoint only: the Web UI's origin may call it, with credentials."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["POST", "OPTIONS"],
            allow_headers=["authorization", "content-type", "x-namespace"],
            allow_credentials=True,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Requests to /codec go through CORS; the rest straight to the app."""
        if scope["type"] == "http" and scope["path"].startswith("/codec"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
