"""The HTTP API and console against the real parts: a worker on the dev server, the projections on a
real store, and the app served by uvicorn on a free port, all composed by `System` as `make run` does.

The worker can be stopped and started again inside a test (the timers of its demands then wait).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from adapters.bootstrap import System
from adapters.http.app import ApiServer
from adapters.settings import Settings
from adapters.temporal import ensure_search_attributes
from engine.access import Identity, Role
from engine.scope import Scope

SUBMISSION: dict[str, Any] = {
    "source": "web",
    "external_id": "1",
    "kind": "wish",
    "title": "Fix the stairwell light",
    "channel": "wechat",
    "priority": "general",
    "location": {
        "city": "Karamay",
        "district": "Karamay District",
        "street": "Yingbin",
        "community": "Xinhua",
        "grid": "G3",
    },
    "resident": {"name": "Wang Fang", "phone": "13800138000", "address": "Building 7, Room 301"},
}


def demand(external_id: str, **changes: Any) -> dict[str, Any]:
    """A submission as a platform sends it over HTTP, with its own id."""
    return {**SUBMISSION, "external_id": external_id, **changes}


def api_settings(settings: Settings, env: WorkflowEnvironment, **changes: Any) -> Settings:
    """The store of `settings`, the dev server of `env`, a task queue of its own, any free API port."""
    return settings.model_copy(
        update={
            "temporal_address": env.client.service_client.config.target_host,
            "task_queue": f"md-http-{uuid.uuid4().hex[:8]}",
            "api_port": 0,
            **changes,
        }
    )


@dataclass
class ApiStack:
    """A running worker, projections and API; tokens of identities made for the test."""

    system: System
    url: str
    admin: str
    tokens: dict[str, str] = field(default_factory=dict)
    source: str = field(default_factory=lambda: f"web{uuid.uuid4().hex[:6]}")
    """Each stack's demands have a source of their own: the session's dev server outlives a test."""
    _worker: Any = None

    def demand(self, external_id: str, **changes: Any) -> dict[str, Any]:
        """A submission of this stack's source."""
        return demand(external_id, source=self.source, **changes)

    def id(self, external_id: str) -> str:
        """The demand id of this stack's submission `external_id`."""
        return f"demand-{self.source}-{external_id}"

    def client(self, token: str | None = None, **options: Any) -> httpx.AsyncClient:
        """An HTTP client of the API, as `token` (or no one)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=60, **options)

    def identity(
        self, name: str, role: Role, scope: str = "all", unit: str | None = None, phone: str | None = None
    ) -> str:
        """Register someone (a resident by their phone's keyed hash) and issue them a token."""
        key = self.system.resident_lookup.phone(phone) if phone is not None else None
        with self.system.directory() as directory:
            place = Scope.parse(scope)
            directory.register(Identity(name=name, role=role, scope=place, unit=unit, resident_key=key))
            token = directory.issue(name, "test")
        self.tokens[name] = token
        return token

    async def start_worker(self) -> None:
        """Start a worker on the stack's task queue (its timers and commands run again)."""
        client = await self.system.temporal()
        await ensure_search_attributes(client)
        store = self.system.open_store()
        worker = self.system.worker(client, store)
        await worker.__aenter__()
        self._worker = (worker, store)

    async def stop_worker(self) -> None:
        """Stop the worker: timers wait, commands wait, until one starts again."""
        if self._worker is not None:
            worker, store = self._worker
            self._worker = None
            await worker.__aexit__(None, None, None)
            store.close()

    async def until(self, check: Any, timeout: float = 60) -> Any:
        """Poll an async `check` until it returns something true; that value."""
        async with asyncio.timeout(timeout):
            while True:
                value = await check()
                if value:
                    return value
                await asyncio.sleep(0.1)

    async def indexed(self, demand_id: str, **wanted: Any) -> dict[str, Any]:
        """Wait until the demand index shows the demand (with `wanted` values); its row as listed."""

        async def check() -> dict[str, Any] | None:
            async with self.client(self.admin) as http:
                found = (await http.get("/api/demands", params={"limit": 500})).json()["items"]
            row = next((r for r in found if r["demand_id"] == demand_id), None)
            return row if row and all(row.get(k) == v for k, v in wanted.items()) else None

        return await self.until(check)


@asynccontextmanager
async def api_stack(settings: Settings, env: WorkflowEnvironment, **changes: Any) -> AsyncIterator[ApiStack]:
    """Worker, projections and the API on `settings`' store and `env`'s dev server, until the block ends."""
    system = System(api_settings(settings, env, **changes))
    token_file = system.ensure_administrator()
    assert token_file is not None
    admin = Path(token_file).read_text().strip()  # noqa: ASYNC240  # once, before anything runs
    with system.projections() as running:
        running.wait_ready()
        api = ApiServer(system)
        url = await api.start()
        stack = ApiStack(system, url, admin)
        await stack.start_worker()
        try:
            yield stack
        finally:
            await api.stop()
            with contextlib.suppress(Exception):
                await stack.stop_worker()
