"""structlog setup: JSON off a terminal, readable on one; residents' personal data never logged."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog

from engine.masking import mask_text

PERSONAL_KEYS = frozenset({"phone", "address", "resident", "reporter", "name_of_resident"})


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: "[redacted]" if k in PERSONAL_KEYS else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v) for v in value)
    return value


def redact_personal_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Drop residents' phone numbers and addresses from every log line, whatever the caller passed."""
    for key in list(event_dict):
        if key in PERSONAL_KEYS:
            event_dict[key] = "[redacted]"
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


class SafeHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stderr handler that, if a record cannot be written, says so in one line and never dumps the
    record's message and arguments (the standard library's fallback), which could hold personal data."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - the library's name
        """Report the failure without the record's content."""
        with contextlib.suppress(Exception):  # nowhere left to say it
            sys.__stderr__.write(f"log record from {record.name} could not be written\n")  # type: ignore[union-attr]


def configure_logging(fmt: Literal["auto", "json", "console"] = "auto", level: str = "INFO") -> None:
    """Route structlog (and the standard library's logging) to stderr in the chosen format.

    Tracebacks are turned into text before redaction, so they are scrubbed like any field, and
    are never drawn with rich (which the workflow sandbox would refuse to import).
    """
    as_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # Standard-library `extra=` fields (Temporal's workflow logger passes `demand_id` and the
        # workflow's ids this way) become keys, and pass through the redaction below like any other.
        structlog.stdlib.ExtraAdder(),
        structlog.processors.format_exc_info,
        redact_personal_data,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = SafeHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def get_logger(name: str, **context: Any) -> Any:
    """A structlog logger bound to `context` (pass `demand_id=` for lines about a demand)."""
    return structlog.get_logger(name).bind(**context)
