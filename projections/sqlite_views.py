"""Views in the SQLite views file: each with its own tracking table, and the demand index on SQLite."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteDatastore, SQLiteRecorder, SQLiteTrackingRecorder

from projections import index_sql
from projections.index_models import Period
from projections.views import DemandIndexView


class SQLiteView(SQLiteTrackingRecorder):
    """A view sharing the views file with others, tracked in a table of its own.

    The library's SQLite recorder keeps one `tracking` table per file with one row per
    application; two views following the same application in one file would overwrite each
    other's position. A table per view lets each advance, stop and replay independently.
    """

    tracking_table: ClassVar[str]

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        if not self.datastore.single_row_tracking:
            raise ValueError("views keep one tracking row per application (SINGLE_ROW_TRACKING=y)")
        table = self.tracking_table
        self.insert_tracking_statement = (
            f"INSERT INTO {table} VALUES (:application_name, :notification_id) "
            "ON CONFLICT (application_name) DO UPDATE SET notification_id = :notification_id "
            f"WHERE {table}.notification_id < :notification_id RETURNING notification_id"
        )
        self.select_max_tracking_id_statement = (
            f"SELECT MAX(notification_id) FROM {table} WHERE application_name=?"
        )

    def construct_create_table_statements(self) -> list[str]:
        """The view's own tracking table (instead of the shared one), then the view's tables."""
        return [
            *SQLiteRecorder.construct_create_table_statements(self),
            f"CREATE TABLE IF NOT EXISTS {self.tracking_table} (application_name TEXT, "
            "notification_id INTEGER, PRIMARY KEY (application_name)) WITHOUT ROWID",
        ]

    def drop_tables(self, *tables: str) -> None:
        """Drop the given tables and the view's tracking table."""
        with self.datastore.transaction(commit=True) as c:
            for table in (*tables, self.tracking_table):
                c.execute(f"DROP TABLE IF EXISTS {table}")

    def close(self) -> None:
        """Close the view's connections."""
        self.datastore.close()


class SQLiteDialect(index_sql.Dialect):
    """SQLite: named `:params`, times as UTC ISO-8601 text of fixed width (so text order is time order)."""

    def param(self, name: str) -> str:
        """`:name`."""
        return f":{name}"

    def column_type(self, kind: index_sql.ColumnKind) -> str:
        """TEXT or INTEGER."""
        return "INTEGER" if kind in ("int", "bool") else "TEXT"

    def table(self, name: str) -> str:
        """The bare name: the views file is the namespace."""
        return name

    def period_start(self, period: Period, column: str, offset_seconds: str) -> str:
        """date() with modifiers; weeks start on Monday, as ISO weeks do."""
        modifiers = {
            Period.DAY: "",
            Period.WEEK: ", 'weekday 0', '-6 days'",
            Period.MONTH: ", 'start of month'",
            Period.YEAR: ", 'start of year'",
        }[period]
        return f"date({column}, {offset_seconds} || ' seconds'{modifiers})"

    def value(self, value: object) -> object:
        """UTC text of fixed width for times, values for enums, text for ids, the rest as is."""
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat(timespec="microseconds")
        if isinstance(value, Enum):
            return value.value
        return str(value) if isinstance(value, UUID) else value


class SQLiteDemandIndexView(SQLiteView, DemandIndexView):
    """The demand index in the SQLite views file."""

    tracking_table = f"{DemandIndexView.table}_tracking"
    dialect = SQLiteDialect()

    def construct_create_table_statements(self) -> list[str]:
        """Tracking, then the index table and its indexes."""
        return [
            *super().construct_create_table_statements(),
            *index_sql.create_statements(self.dialect, self.table),
        ]

    def _write(self, sql: str, params: Mapping[str, object], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(sql, dict(params))
            if c.sqlite_cursor.rowcount != 1:  # raising rolls back: tracking never passes a lost row
                raise LookupError(f"no demand_index row for {params.get('originator_id')}")
            self._insert_tracking(c, tracking)

    def drop(self) -> None:
        """Drop the index and its tracking."""
        self.forget()
        self.drop_tables(self.table)

    def _select(self, sql: str, params: Mapping[str, object]) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(sql, dict(params))
            return [dict(row) for row in c.fetchall()]
