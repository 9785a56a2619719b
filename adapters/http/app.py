"""The HTTP API and the console: one FastAPI app built from a `System`, used by `make run`,
`microdemand api` and the tests alike.

The app is a thin caller of the application layer (`adapters.services.Services`), as the CLI is:
it authenticates a bearer token (or the console's cookie) into an identity and asks there. It
holds open, for its lifetime, what every request would otherwise open again: the directory, the
demand index and the points ledger (read only), and one Temporal client.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from adapters import heap
from adapters.bootstrap import System
from adapters.http import errors
from adapters.http.pushing import Pusher
from adapters.services import Services
from engine.logs import get_logger
from projections.index.view import DemandIndexView
from projections.points.view import PointsView

STATIC = Path(__file__).parent / "static"


class Reads:
    """The read views a server keeps open for its lifetime (queries only; the projections write)."""

    def __init__(self, system: System) -> None:
        self._stack = ExitStack()
        self.index: DemandIndexView = self._stack.enter_context(system.index_view())
        self.points: PointsView = self._stack.enter_context(system.points_view())

    def close(self) -> None:
        """Close both views."""
        self._stack.close()


def create_app(system: System) -> FastAPI:
    """The API (`/api`, `/open311/v2`, `/codec`) and the console (`/console`), on one System."""
    from adapters.http import console
    from adapters.http.routes import codec, demands, figures, open311, points

    services = Services(system)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services.hold()
        app.state.reads = Reads(system)
        try:
            yield
        finally:
            app.state.reads.close()
            services.close()

    app = FastAPI(
        title="microdemand",
        summary="Closed-loop handling of residents' micro-demands: the HTTP API",
        description=(
            "Every route but the console's sign-in asks for a bearer token (`Authorization: Bearer "
            "md_...`, issued with `microdemand token issue`). One role matrix decides what each "
            'identity may do, as it does for the CLI. Errors are `{"error": "..."}` with 400, '
            "401, 403, 404, 409 (a refusal naming the demand's state), 422 (naming each field) or 503."
        ),
        version="1",
        lifespan=lifespan,
    )
    app.state.system = system
    app.state.services = services
    app.state.pusher = Pusher(services, system.settings.api_push_concurrency, system.settings.api_push_queue)
    errors.install(app)
    for module in (demands, figures, points, open311, codec):
        app.include_router(module.router)
    console.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=303)

    app.add_middleware(codec.CodecCORS, origins=cors_origins(system))
    return app


def cors_origins(system: System) -> list[str]:
    """The origins that may call the codec endpoint: the setting, else the embedded Web UI's."""
    given = [o.strip().rstrip("/") for o in system.settings.codec_cors_origins.split(",") if o.strip()]
    port = system.settings.ui_port
    return given or [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]


def address(system: System, port: int | None = None) -> str:
    """Where the API listens, as a URL."""
    s = system.settings
    host = "127.0.0.1" if s.api_host in ("0.0.0.0", "") else s.api_host
    return f"http://{host}:{port if port is not None else s.api_port}"


def _quiet_server_class() -> type:
    import uvicorn

    class QuietServer(uvicorn.Server):
        """uvicorn, leaving SIGINT and SIGTERM to the process it runs in (the stack stops it in order)."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return QuietServer


class ApiServer:
    """The app served by uvicorn on the running event loop, beside the worker and the projections."""

    def __init__(self, system: System) -> None:
        import uvicorn

        _QuietServer = _quiet_server_class()  # noqa: N806
        self.system = system
        config = uvicorn.Config(
            create_app(system),
            host=system.settings.api_host,
            port=system.settings.api_port,
            log_config=None,  # our structlog set-up, not uvicorn's own
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=5,
            timeout_keep_alive=30,  # a client reusing a connection rarely meets one the server just closed
            backlog=4096,  # a burst of pushes waits in the kernel's queue rather than being refused
        )
        self.server = _QuietServer(config)
        self._task: asyncio.Task[None] | None = None
        self.url = ""

    async def start(self) -> str:
        """Listen; the URL it listens on. StartupError if it cannot (the port is taken)."""
        from adapters.bootstrap import StartupError

        if not _can_listen(self.system.settings.api_host, self.system.settings.api_port):
            # uvicorn would log the error and end the whole process with its own exit code
            raise StartupError(f"the HTTP API cannot listen on {address(self.system)} (is the port taken?)")
        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self._task.done():
                with contextlib.suppress(SystemExit, Exception):
                    await self._task
                raise StartupError(
                    f"the HTTP API cannot listen on {address(self.system)} (is the port taken?)"
                )
            await asyncio.sleep(0.05)
        self.url = address(self.system, bound_port(self.server))
        heap.settle()  # started: what it loaded stays out of later full collections (tail latency)
        get_logger("http").info("http api listening", url=self.url)
        return self.url

    async def stop(self) -> None:
        """Finish the requests in flight (a few seconds at most) and stop listening."""
        heap.unsettle()
        self.server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, SystemExit):
                await self._task


def _can_listen(host: str, port: int) -> bool:
    """Whether `host:port` is free to listen on (port 0, a free one, always is)."""
    import socket

    if port == 0:
        return True
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host or "0.0.0.0", port))
        except OSError:
            return False
    return True


def bound_port(server: object) -> int:
    """The port a started uvicorn server listens on (the one asked for, or the free one it was given)."""
    for listener in getattr(server, "servers", []):
        for sock in listener.sockets:
            return int(sock.getsockname()[1])
    return 0
