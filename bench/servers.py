"""Temporal servers for the benchmarks: the dev server on a file (as `make run` keeps it), or in memory."""

from __future__ import annotations

import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from temporalio.client import Client

SERVERS = ("file", "memory")
"""`file`: `temporal server start-dev --db-filename` as `make run` starts it; `memory`: no file."""


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def temporal_server(kind: str) -> AsyncIterator[Client]:
    """Start a dev server of `kind` on free ports; yield a client speaking pydantic; stop it after."""
    from temporalio.contrib.pydantic import pydantic_data_converter

    from adapters.binaries import temporal_cli

    if kind == "memory":
        from temporalio.testing import WorkflowEnvironment

        env = await WorkflowEnvironment.start_local(
            data_converter=pydantic_data_converter, dev_server_existing_path=str(temporal_cli())
        )
        try:
            yield env.client
        finally:
            await env.shutdown()
        return
    from adapters.devserver import DevServer
    from adapters.settings import Settings
    from adapters.temporal import connect

    with tempfile.TemporaryDirectory(prefix="md-bench-temporal-") as root:
        settings = Settings(
            _env_file=None,
            var_dir=Path(root),
            temporal_address=f"127.0.0.1:{free_port()}",
            ui_port=free_port(),
        )
        async with DevServer(settings):
            yield await connect(settings)
