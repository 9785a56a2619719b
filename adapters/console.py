"""Terminal output for the CLI: one-line errors, tables, JSON for scripts, and the error mapping."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from collections.abc import Coroutine, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, NoReturn, TypeVar

import psycopg
import typer
from eventsourcing.persistence import OperationalError
from pydantic import BaseModel, ValidationError
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from adapters.demands_client import CommandRefusedError, DemandNotFoundError
from engine.application import DemandNotFoundError as StoredDemandNotFoundError
from engine.lifecycle import Refused
from engine.policyfiles import PolicyError
from engine.settings import Settings
from engine.vocabulary import field_errors

T = TypeVar("T")
console = Console(width=None if sys.stdout.isatty() else 160)  # piped: wide, not cut to 80
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one red line to stderr and exit with `code`: user mistakes get no stack trace."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@cache
def settings() -> Settings:
    """The settings of this run (environment and .env); a bad policy file is a clear error."""
    try:
        loaded = Settings()
        _ = loaded.time_limits, loaded.points_policy  # refuse a bad policy file at start
    except PolicyError as error:
        fail(str(error), 2)
    except ValidationError as error:
        fail(f"invalid settings: {field_errors(error, env_prefix='MICRODEMAND_')}", 2)
    return loaded


@cache
def store_settings() -> Settings:
    """The settings, for a command that opens the event store or a view: the database is
    checked first. Commands that only talk to Temporal don't wait on (or for) the database."""
    current = settings()
    if current.store == "postgres":
        _check_postgres(current)
    return current


def _check_postgres(current: Settings) -> None:
    """Connect once, directly: a wrong name or a server that is down is said at once, not after
    the connection pool has retried for minutes."""
    try:
        psycopg.connect(
            host=current.postgres_host, port=current.postgres_port, dbname=current.postgres_dbname,
            user=current.postgres_user, password=current.postgres_password.get_secret_value() or None,
            connect_timeout=current.postgres_connect_timeout,
        ).close()  # fmt: skip
    except psycopg.OperationalError as error:
        where = f"PostgreSQL {current.postgres_dbname} at {current.postgres_host}:{current.postgres_port}"
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        fail(f"cannot use {where}: {reason}", 2)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine, turning the domain's and Temporal's refusals into one-line errors."""
    try:
        return asyncio.run(coroutine)
    except (CommandRefusedError, Refused) as error:
        fail(str(error), 1)
    except (DemandNotFoundError, StoredDemandNotFoundError) as error:
        fail(str(error.args[0] if error.args else error), 1)
    except ValidationError as error:
        fail(field_errors(error), 2)
    except RuntimeError as error:
        if "connect" in str(error).lower():
            fail(
                f"cannot reach Temporal at {settings().temporal_address}: "
                "start the stack with `make run` (or set MICRODEMAND_TEMPORAL_ADDRESS)",
                2,
            )
        raise


STORE_ERRORS = (OperationalError, psycopg.OperationalError, sqlite3.OperationalError)
"""Errors of an event store or view database that is down, missing or locked."""


def report_store_error(error: Exception) -> int:
    """One line saying which store could not be used and why; the exit code for it."""
    current = settings()
    where = (
        f"PostgreSQL {current.postgres_dbname} at {current.postgres_host}:{current.postgres_port}"
        if current.store == "postgres"
        else f"the SQLite files in {current.var_dir}"
    )
    err_console.print(f"[bold red]error:[/] cannot use {where}: {error}", highlight=False, soft_wrap=True)
    return 2


def print_json(data: Any) -> None:
    """Machine-readable output for scripts."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    elif isinstance(data, list):
        data = [d.model_dump(mode="json") if isinstance(d, BaseModel) else d for d in data]
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def cell(value: Any) -> str:
    """A table cell: times to the minute, None as a dash, rates as percentages."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:g}"
    return escape(str(value))  # residents' text may hold [brackets] that rich would eat as markup


def percent(value: float | None) -> str:
    """A rate as a percentage with one decimal, or a dash where there is no denominator."""
    return "-" if value is None else f"{value:.1%}"


def _is_figure(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) or (
        isinstance(value, str) and (value == "-" or value.endswith("%"))
    )


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A rich table: figures right-aligned and never broken, text wrapped rather than cut."""
    materialised = [list(row) for row in rows]
    result = Table(
        title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False
    )
    for index, column in enumerate(columns):
        figures = bool(materialised) and all(_is_figure(row[index]) for row in materialised)
        if figures:
            result.add_column(column, justify="right", no_wrap=True)
        else:  # keep short labels whole; let long text (titles, notes) wrap
            widest = max([len(column), *(len(cell(row[index])) for row in materialised)])
            result.add_column(column, overflow="fold", min_width=min(widest, 12))
    for row in materialised:
        result.add_row(*(cell(v) for v in row))
    return result
