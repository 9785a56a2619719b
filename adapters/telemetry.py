"""Metrics and traces, turned on by settings: Temporal's Prometheus metrics, OpenTelemetry traces,
and the projections' lag as a gauge beside them.

- `MICRODEMAND_METRICS_BIND_ADDRESS=0.0.0.0:9464` serves Prometheus metrics from that address: the
  SDK's own (schedule-to-start latency, workflow task failures, poll and slot figures ...) for
  every process that talks to Temporal, and `microdemand_projection_lag` (notifications each view
  is behind the store) from the projections process. One runtime per process, made once.
- `MICRODEMAND_TRACING=true` adds temporalio's OpenTelemetry `TracingInterceptor` to the client and
  so to its workers; spans go to the tracer provider the process sets up (`OTEL_*` variables, when
  the `otel` extra's SDK and exporter are installed: `pip install 'microdemand[otel]'`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapters.settings import Settings

if TYPE_CHECKING:
    from temporalio.client import Interceptor
    from temporalio.common import MetricGaugeFloat
    from temporalio.runtime import Runtime

_runtimes: dict[str, Runtime] = {}


class TelemetryUnavailableError(RuntimeError):
    """Tracing was asked for, but OpenTelemetry is not installed."""


def runtime(settings: Settings) -> Runtime | None:
    """The process's Temporal runtime exporting Prometheus metrics (None: the SDK's default, no metrics)."""
    address = settings.metrics_bind_address
    if not address:
        return None
    if address not in _runtimes:
        from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

        _runtimes[address] = Runtime(
            telemetry=TelemetryConfig(
                metrics=PrometheusConfig(bind_address=address, durations_as_seconds=True),
                global_tags={"service": "microdemand"},
            )
        )
    return _runtimes[address]


def interceptors(settings: Settings) -> list[Interceptor]:
    """The client's interceptors: OpenTelemetry tracing if turned on."""
    if not settings.tracing:
        return []
    try:
        from temporalio.contrib.opentelemetry import TracingInterceptor
    except ImportError:
        raise TelemetryUnavailableError(
            "MICRODEMAND_TRACING is on but OpenTelemetry is not installed: pip install 'microdemand[otel]'"
        ) from None
    _tracer_provider()
    return [TracingInterceptor()]


def _tracer_provider() -> None:
    """Export spans over OTLP when the SDK and exporter are installed and no provider is set yet."""
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        return  # the API alone: spans go to whatever provider the process set up (or nowhere)
    if type(trace.get_tracer_provider()).__name__ != "ProxyTracerProvider":
        return
    provider = TracerProvider(resource=Resource.create({"service.name": "microdemand"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


class LagGauge:
    """`microdemand_projection_lag{view=...}`: how many notifications each view is behind the store."""

    def __init__(self, settings: Settings) -> None:
        found = runtime(settings)
        self._gauge: MetricGaugeFloat | None = None
        if found is not None:
            self._gauge = found.metric_meter.create_gauge_float(
                "microdemand_projection_lag", "Notifications each view is behind the event store", "events"
            )

    def report(self, lag: dict[str, Any]) -> None:
        """Set the gauge for each view."""
        if self._gauge is None:
            return
        for view, behind in lag.items():
            self._gauge.with_additional_attributes({"view": view}).set(float(behind))
