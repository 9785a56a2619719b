"""Settings from the environment (prefix MICRODEMAND_) and an optional `.env` file."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.points import PointsPolicy, load_points_policy
from engine.sqlite_subscription import POLLING_RECORDER_TOPIC
from engine.timelimits import TimeLimits, load_time_limits


class Settings(BaseSettings):
    """Where the system runs: Temporal target, event store, views, policies, logging."""

    model_config = SettingsConfigDict(env_prefix="MICRODEMAND_", env_file=".env", extra="ignore", frozen=True)

    var_dir: Path = Field(default=Path("var"), description="State of the embedded stack.")

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "micro-demands"
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_api_key: SecretStr | None = None
    ui_port: int = 8233

    store: Literal["sqlite", "postgres"] = "sqlite"
    sqlite_path: Path | None = Field(default=None, description="Default: <var_dir>/events.db")
    views_sqlite_path: Path | None = Field(default=None, description="Default: <var_dir>/views.db")
    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_dbname: str = "microdemand"
    postgres_user: str = "postgres"
    postgres_password: SecretStr = SecretStr("")
    postgres_schema: str = ""
    postgres_pool_size: int = 5
    postgres_connect_timeout: int = Field(default=10, ge=1, description="Seconds to wait for a connection.")

    timelimits_file: Path | None = None
    points_file: Path | None = Field(default=None, description="Default: the shipped points policy.")
    report_utc_offset_hours: float = Field(
        default=8, ge=-14, le=14, description="Local time of day/week/month buckets (Beijing: 8)."
    )
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"

    @cached_property
    def time_limits(self) -> TimeLimits:
        """The time-limit policy (a PolicyError names the bad field)."""
        return load_time_limits(self.timelimits_file)

    @cached_property
    def points_policy(self) -> PointsPolicy:
        """The points policy (a PolicyError names the bad field)."""
        return load_points_policy(self.points_file)

    def store_env(self) -> dict[str, str]:
        """eventsourcing settings for the event store."""
        if self.store == "postgres":
            return self._postgres_env()
        path = self.sqlite_path or self.var_dir / "events.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "10",
            "APPLICATION_RECORDER_TOPIC": POLLING_RECORDER_TOPIC,
        }

    def views_env(self) -> dict[str, str]:
        """eventsourcing settings for the read views (same PostgreSQL database; own SQLite file)."""
        if self.store == "postgres":
            return self._postgres_env()
        path = self.views_sqlite_path or self.var_dir / "views.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "10",
        }

    def _postgres_env(self) -> dict[str, str]:
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_HOST": self.postgres_host,
            "POSTGRES_PORT": str(self.postgres_port),
            "POSTGRES_DBNAME": self.postgres_dbname,
            "POSTGRES_USER": self.postgres_user,
            "POSTGRES_PASSWORD": self.postgres_password.get_secret_value(),
            "POSTGRES_POOL_SIZE": str(self.postgres_pool_size),
            "POSTGRES_CONNECT_TIMEOUT": str(self.postgres_connect_timeout),
        }
        if self.postgres_schema:
            env["POSTGRES_SCHEMA"] = self.postgres_schema
        return env
