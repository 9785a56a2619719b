"""The demand index on PostgreSQL: tables beside the events, in the configured schema."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL, Composed, Identifier

from projections import index_sql
from projections.index_models import Period
from projections.views import DemandIndexView


class PostgresDialect(index_sql.Dialect):
    """PostgreSQL: `%(name)s` params, timestamptz, schema-qualified names."""

    def __init__(self, schema: str) -> None:
        self.schema = schema

    def param(self, name: str) -> str:
        """`%(name)s`."""
        return f"%({name})s"

    def column_type(self, kind: index_sql.ColumnKind) -> str:
        """text, bigint, boolean or timestamptz."""
        return {"text": "text", "int": "bigint", "bool": "boolean", "time": "timestamptz"}[kind]

    def table(self, name: str) -> str:
        """ "schema"."name"."""
        return f'"{self.schema}"."{name}"'

    def period_start(self, period: Period, column: str, offset_seconds: str) -> str:
        """date_trunc on the local wall-clock time; its weeks start on Monday, as ISO weeks do."""
        local = f"({column} AT TIME ZONE 'UTC') + make_interval(secs => {offset_seconds})"
        return f"(date_trunc('{period.value}', {local}))::date"

    def value(self, value: object) -> object:
        """Enum values as text (psycopg would otherwise send member names), ids as text."""
        if isinstance(value, Enum):
            return value.value
        return str(value) if isinstance(value, UUID) else value


class PostgresView(PostgresTrackingRecorder):
    """A view in PostgreSQL beside the events, tracked in a table named after its projection."""

    def drop_tables(self, *tables: str) -> None:
        """Drop the given tables and the view's tracking table, in the view's schema."""
        with self.datastore.transaction(commit=True) as curs:
            for table in (*tables, self.tracking_table_name):
                curs.execute(
                    SQL("DROP TABLE IF EXISTS {0}.{1}").format(
                        Identifier(self.datastore.schema), Identifier(table)
                    )
                )

    def close(self) -> None:
        """Close the view's connection pool."""
        self.datastore.close()


class PostgresDemandIndexView(PostgresView, DemandIndexView):
    """The demand index in PostgreSQL, tracked in `demand_index_tracking`."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.dialect = PostgresDialect(self.datastore.schema)
        self.sql_create_statements.extend(self.construct_create_table_statements())

    def construct_create_table_statements(self) -> list[Composed]:
        """The index table and its indexes (the library adds the tracking table)."""
        return [
            SQL(statement).format() for statement in index_sql.create_statements(self.dialect, self.table)
        ]

    def _write(self, sql: str, params: Mapping[str, object], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(sql, dict(params), prepare=True)
            if curs.rowcount != 1:  # raising rolls back: tracking never passes a lost row
                raise LookupError(f"no demand_index row for {params.get('originator_id')}")
            self._insert_tracking(curs, tracking)

    def drop(self) -> None:
        """Drop the index and its tracking."""
        self.forget()
        self.drop_tables(self.table)

    def _select(self, sql: str, params: Mapping[str, object]) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(sql, dict(params))
            return [dict(row) for row in curs.fetchall()]
