"""Metrics and traces are off unless settings turn them on; on, the client gets what it needs."""

from __future__ import annotations

from pathlib import Path

from temporalio.contrib.opentelemetry import TracingInterceptor

from adapters.settings import Settings
from adapters.telemetry import LagGauge, interceptors, runtime


def test_nothing_is_exported_unless_asked(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, var_dir=tmp_path)  # type: ignore[call-arg]
    assert runtime(settings) is None
    assert interceptors(settings) == []
    LagGauge(settings).report({"demand_index": 3})  # nowhere to report: a no-op, not an error


def test_tracing_turned_on_adds_temporals_opentelemetry_interceptor(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, var_dir=tmp_path, tracing=True)  # type: ignore[call-arg]
    [interceptor] = interceptors(settings)
    assert isinstance(interceptor, TracingInterceptor)
