"""What each projection runner says of itself: failing (since when, how often, why) or well.

A runner that fails retries with backoff, holding its writer lock while it tries and letting it
go while it waits, so from outside it looks by turns running and stopped; `microdemand health`
reads this table to tell a view that is failing from one that runs.
Kept in the views' database, a row per view (its writer is the only one to write it).
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from engine.masking import mask_text
from engine.values import clean_line
from projections.database import Database

TABLE = "projection_status"


class RunnerStatus(BaseModel):
    """A view's runner as it last said: failing or well, and its last error."""

    view: str
    well: bool
    failures: int
    error: str
    at: datetime


def _create(db: Database) -> None:
    d = db.dialect
    db.run(
        [
            f"CREATE TABLE IF NOT EXISTS {d.table(TABLE)} (view TEXT PRIMARY KEY, "
            f"well {d.column_type('bool')} NOT NULL, failures {d.column_type('int')} NOT NULL, "
            f"error TEXT NOT NULL, at {d.column_type('time')} NOT NULL)"
        ]
    )


def record(db: Database, view: str, error: BaseException | None, failures: int) -> None:
    """Say that `view`'s runner fails (with `error`, after `failures` failures) or, with None, is well."""
    _create(db)
    d, p = db.dialect, db.dialect.param
    said = "" if error is None else clean_line(mask_text(f"{type(error).__name__}: {error}"), 300)
    with db.transaction() as cursor:
        cursor.execute(
            f"INSERT INTO {d.table(TABLE)} (view, well, failures, error, at) "
            f"VALUES ({p('view')}, {p('well')}, {p('failures')}, {p('error')}, {p('at')}) "
            "ON CONFLICT (view) DO UPDATE SET well = excluded.well, failures = excluded.failures, "
            "error = excluded.error, at = excluded.at",
            {
                "view": view, "well": d.value(error is None), "failures": failures, "error": said,
                "at": d.value(datetime.now(UTC)),
            },
        )  # fmt: skip


def read(db: Database, view: str) -> RunnerStatus | None:
    """What `view`'s runner last said of itself (None if it never did). Reads only: a health check,
    asked every few seconds by a monitor, runs no DDL."""
    try:
        rows = db.select(
            f"SELECT view, well, failures, error, at FROM {db.dialect.table(TABLE)} "
            f"WHERE view = {db.dialect.param('view')}",
            {"view": view},
        )
    except Exception as error:
        if _no_table(error):
            return None  # no runner has said anything yet
        raise
    return RunnerStatus.model_validate(rows[0]) if rows else None


def _no_table(error: Exception) -> bool:
    import sqlite3

    if isinstance(error, sqlite3.OperationalError):
        return "no such table" in str(error)
    try:
        from psycopg.errors import UndefinedTable
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(error, UndefinedTable)
