"""The CLI in-process, set up as a new process would be: MICRODEMAND_* variables and an identity."""

from __future__ import annotations

import pytest

from adapters.bootstrap import System
from adapters.cli import runtime
from adapters.settings import Settings


def configure_cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the CLI at `settings`' store (keys included) and act as its administrator."""
    variables = {
        "VAR_DIR": str(settings.var_dir), "STORE": settings.store,
        "POSTGRES_HOST": settings.postgres_host, "POSTGRES_PORT": str(settings.postgres_port),
        "POSTGRES_DBNAME": settings.postgres_dbname, "POSTGRES_USER": settings.postgres_user,
        "POSTGRES_SCHEMA": settings.postgres_schema,
    }  # fmt: skip
    for name in ("actor", "lookup", "codec"):
        secret = getattr(settings, f"{name}_key")
        if secret is not None:
            variables[f"{name.upper()}_KEY"] = secret.get_secret_value()
    for name, value in variables.items():
        monkeypatch.setenv(f"MICRODEMAND_{name}", value)
    System(settings).ensure_administrator()  # writes <var_dir>/admin.token, as `microdemand init` does
    forget_cached()


def forget_cached() -> None:
    """A fresh System, services and identity, as a new process builds them."""
    for cached in (runtime.system, runtime.store_system, runtime.services, runtime.identity):
        cached.cache_clear()
