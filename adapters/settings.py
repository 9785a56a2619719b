"""Settings from the environment (prefix MICRODEMAND_) and an optional `.env` file: read only here."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, FilePath, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from engine.policies.points import PointsPolicy
    from engine.policies.timelimits import TimeLimits


class Settings(BaseSettings):
    """Where the system runs: Temporal target, event store, views, policies, logging."""

    model_config = SettingsConfigDict(env_prefix="MICRODEMAND_", env_file=".env", extra="ignore", frozen=True)

    var_dir: Path = Field(default=Path("var"), description="State of the embedded stack.")

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "micro-demands"
    temporal_tls: bool = Field(default=False, description="TLS to Temporal without a client certificate.")
    # Files that must exist: a missing one is said at start, naming its setting, not at connect.
    temporal_tls_cert: FilePath | None = None
    temporal_tls_key: FilePath | None = None
    temporal_tls_ca: FilePath | None = Field(
        default=None, description="A private CA that signed the server's."
    )
    temporal_tls_server_name: str | None = None
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
    metrics_bind_address: str | None = Field(
        default=None, description="Serve Prometheus metrics here (host:port); off when unset."
    )
    tracing: bool = Field(default=False, description="OpenTelemetry traces of Temporal calls (otel extra).")
    time_zone: str | None = Field(
        default=None,
        description="Local time as a zone name (Asia/Shanghai); when set, it wins over the UTC offset.",
    )

    @model_validator(mode="after")
    def _client_certificate_whole(self) -> Settings:
        if (self.temporal_tls_cert is None) != (self.temporal_tls_key is None):
            raise ValueError("MICRODEMAND_TEMPORAL_TLS_CERT and MICRODEMAND_TEMPORAL_TLS_KEY go together")
        return self

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"not a time zone: {value!r} (use a name like Asia/Shanghai)") from None
        return value

    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"

    keys_dir: Path | None = Field(default=None, description="Default: <var_dir>/keys")
    actor_key: SecretStr | None = Field(default=None, description="Signs who acted (base64, 32 bytes).")
    lookup_key: SecretStr | None = Field(default=None, description="Keys the hash of residents' phones.")
    codec_key: SecretStr | None = Field(default=None, description="Encrypts payloads sent to Temporal.")
    codec_previous_keys: SecretStr | None = Field(
        default=None, description="Codec keys used before a rotation, comma-separated (base64 each)."
    )
    token: SecretStr | None = Field(default=None, description="The CLI's bearer token (its identity).")
    token_file: Path | None = Field(default=None, description="Default: <var_dir>/admin.token")

    api_host: str = Field(default="127.0.0.1", description="Where the HTTP API and the console listen.")
    api_port: int = Field(default=8400, ge=0, le=65535, description="Their port (0: any free port).")
    api_push_concurrency: int = Field(
        default=64, ge=1, le=1000, description="Pushes sent to Temporal at once; the rest wait their turn."
    )
    api_push_queue: int = Field(
        default=20_000, ge=1, description="Pushes that may wait; beyond it a push is answered 503, retry."
    )
    open311_file: Path | None = Field(
        default=None, description="Open311 service codes and their categories (TOML); default: shipped."
    )
    codec_cors_origins: str = Field(
        default="",
        description="Origins that may call the codec endpoint (comma-separated); default: the Web UI.",
    )
    secure_cookies: bool = Field(
        default=False, description="Mark the console's cookies Secure (behind HTTPS)."
    )

    @cached_property
    def time_limits(self) -> TimeLimits:
        """The time-limit policy (a PolicyError names the bad field)."""
        from engine.policies.timelimits import load_time_limits

        return load_time_limits(self.timelimits_file)

    @cached_property
    def points_policy(self) -> PointsPolicy:
        """The points policy (a PolicyError names the bad field)."""
        from engine.policies.points import load_points_policy

        return load_points_policy(self.points_file)
