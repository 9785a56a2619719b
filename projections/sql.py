"""SQL written once for SQLite and PostgreSQL: a Dialect fills in the differences, a Statement binds."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Literal, get_args
from uuid import UUID

from pydantic import BaseModel

from engine.periods import Bucket

ColumnKind = Literal["text", "int", "bool", "time", "date"]


class Dialect(ABC):
    """What differs between SQLite and PostgreSQL: parameters, types, names, calendar buckets."""

    @abstractmethod
    def param(self, name: str) -> str:
        """A named parameter placeholder."""

    @abstractmethod
    def column_type(self, kind: ColumnKind) -> str:
        """The column type that stores a kind of value."""

    @abstractmethod
    def table(self, name: str) -> str:
        """A table's name as written in statements (schema-qualified where there are schemas)."""

    @abstractmethod
    def bucket_start(self, bucket: Bucket, column: str, offset_seconds: str) -> str:
        """An expression for the first day of the bucket holding `column`, shifted to local time."""

    @abstractmethod
    def value(self, value: object) -> object:
        """A parameter value in the form the database compares correctly (times, above all)."""

    serial_key: str = "INTEGER PRIMARY KEY"
    """The column definition of an auto-numbered key."""

    @abstractmethod
    def differs(self, left: str, right: str) -> str:
        """A condition true when two values differ, a NULL and a value included."""

    @abstractmethod
    def indexes_statement(self, table: str) -> tuple[str, dict[str, object]]:
        """A query for the names (`name`) of a table's own indexes, and its parameters."""

    def rename_table(self, table: str, new_name: str) -> str:
        """The statement that renames a table (the new name is never schema-qualified)."""
        return f'ALTER TABLE {self.table(table)} RENAME TO "{new_name}"'

    @abstractmethod
    def rename_index(self, index: str, new_name: str) -> list[str]:
        """Statements that rename an index, or drop it where it cannot be renamed (to be created again)."""

    @abstractmethod
    def drop_index(self, index: str) -> str:
        """The statement that drops an index if it exists."""

    def unindexed(self, column: str) -> str:
        """`column` as a term the planner will not look up in an index of it (where another index
        serves the query better and the planner cannot tell); the column itself by default."""
        return column


class SQLiteDialect(Dialect):
    """SQLite: named `:params`, times as UTC ISO-8601 text of fixed width (so text order is time order)."""

    serial_key = "INTEGER PRIMARY KEY AUTOINCREMENT"

    def param(self, name: str) -> str:
        """`:name`."""
        return f":{name}"

    def column_type(self, kind: ColumnKind) -> str:
        """TEXT or INTEGER."""
        return "INTEGER" if kind in ("int", "bool") else "TEXT"

    def table(self, name: str) -> str:
        """The bare name: the views file is the namespace."""
        return name

    def bucket_start(self, bucket: Bucket, column: str, offset_seconds: str) -> str:
        """date() with modifiers; weeks start on Monday, as ISO weeks do."""
        modifiers = {
            Bucket.DAY: "",
            Bucket.WEEK: ", 'weekday 0', '-6 days'",
            Bucket.MONTH: ", 'start of month'",
            Bucket.YEAR: ", 'start of year'",
        }[bucket]
        return f"date({column}, {offset_seconds} || ' seconds'{modifiers})"

    def differs(self, left: str, right: str) -> str:
        """`IS NOT`: SQLite's null-safe inequality."""
        return f"{left} IS NOT {right}"

    def indexes_statement(self, table: str) -> tuple[str, dict[str, object]]:
        """From sqlite_master, leaving out the automatic index of a primary key."""
        return (
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :table "
            "AND name NOT LIKE 'sqlite_autoindex_%'",
            {"table": table},
        )

    def rename_index(self, index: str, new_name: str) -> list[str]:
        """SQLite cannot rename an index: drop it, and the view's CREATE INDEX makes it again."""
        return [self.drop_index(index)]

    def drop_index(self, index: str) -> str:
        """DROP INDEX IF EXISTS, by its bare name."""
        return f'DROP INDEX IF EXISTS "{index}"'

    def unindexed(self, column: str) -> str:
        """SQLite's unary `+`: the same value, never read from an index."""
        return f"+{column}"

    def value(self, value: object) -> object:
        """UTC text of fixed width for times, ISO text for days, values for enums, text for ids."""
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat(timespec="microseconds")
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, UUID):
            return str(value)
        if isinstance(value, BaseModel):
            return value.model_dump_json()
        return value.isoformat() if hasattr(value, "isoformat") else value


class PostgresDialect(Dialect):
    """PostgreSQL: `%(name)s` params, timestamptz, schema-qualified names."""

    serial_key = "bigserial PRIMARY KEY"

    def __init__(self, schema: str) -> None:
        self.schema = schema

    def param(self, name: str) -> str:
        """`%(name)s`."""
        return f"%({name})s"

    def column_type(self, kind: ColumnKind) -> str:
        """text, bigint, boolean, timestamptz or date."""
        return {"text": "text", "int": "bigint", "bool": "boolean", "time": "timestamptz", "date": "date"}[
            kind
        ]

    def table(self, name: str) -> str:
        """ "schema"."name"."""
        return f'"{self.schema}"."{name}"'

    def bucket_start(self, bucket: Bucket, column: str, offset_seconds: str) -> str:
        """date_trunc on the local wall-clock time; its weeks start on Monday, as ISO weeks do."""
        local = f"({column} AT TIME ZONE 'UTC') + make_interval(secs => {offset_seconds})"
        return f"(date_trunc('{bucket.value}', {local}))::date"

    def differs(self, left: str, right: str) -> str:
        """`IS DISTINCT FROM`."""
        return f"{left} IS DISTINCT FROM {right}"

    def indexes_statement(self, table: str) -> tuple[str, dict[str, object]]:
        """From pg_indexes, in the views' schema."""
        return (
            "SELECT indexname AS name FROM pg_indexes "
            "WHERE schemaname = %(schema)s AND tablename = %(table)s",
            {"schema": self.schema, "table": table},
        )

    def rename_index(self, index: str, new_name: str) -> list[str]:
        """ALTER INDEX ... RENAME TO, which keeps the index (and a primary key's constraint)."""
        return [f'ALTER INDEX "{self.schema}"."{index}" RENAME TO "{new_name}"']

    def drop_index(self, index: str) -> str:
        """DROP INDEX IF EXISTS, in the schema."""
        return f'DROP INDEX IF EXISTS "{self.schema}"."{index}"'

    def value(self, value: object) -> object:
        """Enum values as text (psycopg would otherwise send member names), ids as text; text never
        carries NUL, which PostgreSQL refuses (payloads are cleaned at the edge; this is a last guard)."""
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, UUID):
            return str(value)
        if isinstance(value, BaseModel):
            return value.model_dump_json().replace("\\u0000", "")
        if isinstance(value, str):
            return value.replace("\x00", "")
        return value


_PLAIN = frozenset({str, int, float, bool, type(None)})
_CACHED = frozenset({datetime, UUID})
_MISSING = object()
CONVERSIONS_KEPT = 10_000
"""Converted times and ids remembered, per generation: the values converted since the last turn,
and those of the generation before (a value found there moves to the new one). At most twice this
many are held, so a replay's memory does not grow with the store."""
_converted: dict[tuple[type[Dialect], object], object] = {}
_converted_before: dict[tuple[type[Dialect], object], object] = {}


def row_params(dialect: Dialect, row: BaseModel) -> dict[str, object]:
    """A row model's fields as statement parameters; plain values pass as they are (the common case).

    Times and ids are converted once and remembered: a replay writes the same demand's row again
    and again with most of its times unchanged, and formatting them was most of a write's cost.
    """
    params: dict[str, object] = {}
    for name, v in row.__dict__.items():
        kind = type(v)
        if kind in _PLAIN:
            params[name] = v
        elif kind in _CACHED:
            key = (type(dialect), v)
            converted = _converted.get(key, _MISSING)
            if converted is _MISSING:
                converted = _converted_before.get(key, _MISSING)
                if converted is _MISSING:
                    converted = dialect.value(v)
                if len(_converted) >= CONVERSIONS_KEPT:
                    _converted_before.clear()
                    _converted_before.update(_converted)
                    _converted.clear()
                _converted[key] = converted
            params[name] = converted
        else:
            params[name] = v.value if isinstance(v, Enum) else dialect.value(v)
    return params


class Statement:
    """SQL text and its named parameters, built up clause by clause."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.params: dict[str, object] = {}
        self.clauses: list[str] = []
        self.sql = ""

    def bind(self, name: str, value: object) -> str:
        """Bind a parameter; returns its placeholder."""
        self.params[name] = self.dialect.value(value)
        return self.dialect.param(name)

    def where(self, template: str, **values: object) -> None:
        """Add a condition; `{name}` in the template becomes the placeholder of `values[name]`."""
        self.clauses.append(template.format(**{k: self.bind(k, v) for k, v in values.items()}))

    @property
    def where_sql(self) -> str:
        """The WHERE clause (empty without conditions)."""
        return " WHERE " + " AND ".join(self.clauses) if self.clauses else ""


def column_kind(annotation: Any) -> ColumnKind:
    """The kind of column that stores a model field of this annotation."""
    from datetime import date

    types = [t for t in (get_args(annotation) or (annotation,)) if t is not type(None)]
    kinds: dict[Any, ColumnKind] = {datetime: "time", date: "date", bool: "bool", int: "int"}
    return kinds.get(types[0], "text")


def model_columns(model: type[BaseModel]) -> dict[str, tuple[ColumnKind, bool]]:
    """Column kind and nullability of every field of a row model, so table and model cannot drift."""
    return {
        name: (column_kind(field.annotation), type(None) in get_args(field.annotation))
        for name, field in model.model_fields.items()
    }


def create_table(dialect: Dialect, table: str, columns: dict[str, tuple[ColumnKind, bool]], key: str) -> str:
    """CREATE TABLE IF NOT EXISTS with the given columns and primary key."""
    body = ", ".join(
        f"{name} {dialect.column_type(kind)}{'' if nullable else ' NOT NULL'}"
        for name, (kind, nullable) in columns.items()
    )
    return f"CREATE TABLE IF NOT EXISTS {dialect.table(table)} ({body}, PRIMARY KEY ({key}))"


def create_index(
    dialect: Dialect, table: str, name: str, columns: str, *, unique: bool = False, where: str = ""
) -> str:
    """CREATE INDEX IF NOT EXISTS `<table>_<name>`: its name follows its table's (rebuilt views too).
    `where` makes it a partial index, of the rows it holds only."""
    return (
        f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS {table}_{name} "
        f"ON {dialect.table(table)} ({columns})" + (f" WHERE {where}" if where else "")
    )
