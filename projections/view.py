"""What every view shares: its tables (named with an optional suffix for rebuilds), its tracking
position, and staged changes written with that position in one transaction.

A projection stages changes while it processes a page of events; the runner then calls `commit`
with the page's last position. Rows and position land together or not at all, so a view is
exactly-once and resumes where it stopped; `discard` forgets what was staged after a failure.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel

from projections.database import Cursor, Database

R = TypeVar("R", bound=BaseModel)
_set = object.__setattr__

APPLICATION = "Demands"
"""The application whose notifications views follow (the tracking table's key)."""


def replaced(row: R, update: Mapping[str, Any]) -> R:
    """`row.model_copy(update=update)` for a row model (no extra or private attributes), at a
    fraction of its cost: a replay moves a row at nearly every event. Values are not validated."""
    copied = object.__new__(type(row))
    _set(copied, "__dict__", {**row.__dict__, **update})
    _set(copied, "__pydantic_extra__", None)
    _set(copied, "__pydantic_fields_set__", row.__pydantic_fields_set__ | update.keys())
    _set(copied, "__pydantic_private__", None)
    return copied


class View(ABC):
    """A read model in a Database, tracked in a table of its own: `<name><suffix>_tracking`."""

    name: ClassVar[str]
    """The view's name: its writer lock, and the prefix of its tables."""

    def __init__(self, db: Database, suffix: str = "", *, indexes: bool = True) -> None:
        self.db = db
        self.suffix = suffix
        self.dialect = db.dialect
        self.tracking_table = self.table("tracking")
        self.indexed = indexes
        """Whether the secondary indexes were made; a writer filling new tables makes them last."""
        self._create()

    def table(self, part: str) -> str:
        """The name of one of the view's tables: `<view>_<part><suffix>`, e.g. `points_ledger`."""
        return f"{self.name}_{part}{self.suffix}" if part else f"{self.name}{self.suffix}"

    def qualified(self, part: str) -> str:
        """A table's name as written in statements."""
        return self.dialect.table(self.table(part))

    @abstractmethod
    def table_statements(self) -> list[str]:
        """The view's own tables with their keys and unique indexes (`CREATE ... IF NOT EXISTS`)."""

    def index_statements(self) -> list[str]:
        """The view's secondary indexes, which only its queries need (`CREATE INDEX IF NOT EXISTS`).

        A writer that fills new tables from event zero makes them once it has caught up: one sort
        per index then, instead of keeping every index up to date with every page.
        """
        return []

    def create_statements(self) -> list[str]:
        """The view's own tables and every index."""
        return [*self.table_statements(), *self.index_statements()]

    def _create(self) -> None:
        self.db.run(
            [
                f"CREATE TABLE IF NOT EXISTS {self.dialect.table(self.tracking_table)} "
                "(application_name TEXT PRIMARY KEY, notification_id BIGINT NOT NULL)",
                *self.table_statements(),
                *(self.index_statements() if self.indexed else []),
            ]
        )

    def create_indexes(self) -> None:
        """Make the secondary indexes if they are missing (a writer that deferred them has caught up)."""
        self.db.run(self.index_statements())
        self.indexed = True

    @property
    @abstractmethod
    def tables(self) -> tuple[str, ...]:
        """The view's own tables (without tracking), for drop and swap."""

    def comparable_tables(self) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
        """Each table's key columns and the columns a rebuild is compared by (generated ids left out)."""
        raise NotImplementedError(f"view {self.name} cannot be compared row by row")

    def outdated(self) -> bool:
        """Whether the stored tables lack a column the view now writes (its writer then rebuilds it)."""
        return False

    def position(self) -> int:
        """The last notification the view has processed (0 if none)."""
        rows = self.db.select(
            f"SELECT notification_id FROM {self.dialect.table(self.tracking_table)} "
            f"WHERE application_name = {self.dialect.param('app')}",
            {"app": APPLICATION},
        )
        return int(rows[0]["notification_id"]) if rows else 0

    def commit(self, position: int) -> None:
        """Write what was staged and the position reached, in one transaction."""
        p = self.dialect.param
        try:
            with self.db.transaction() as cursor:
                self.flush(cursor)
                cursor.execute(
                    f"INSERT INTO {self.dialect.table(self.tracking_table)} "
                    f"(application_name, notification_id) VALUES ({p('app')}, {p('position')}) "
                    "ON CONFLICT (application_name) "
                    "DO UPDATE SET notification_id = excluded.notification_id",
                    {"app": APPLICATION, "position": position},
                )
        except BaseException:
            self.discard()
            raise
        self.committed()

    @abstractmethod
    def flush(self, cursor: Cursor) -> None:
        """Write the staged changes (inside the commit's transaction)."""

    @abstractmethod
    def committed(self) -> None:
        """The staged changes are stored: forget them (and keep what a cache may keep)."""

    @abstractmethod
    def discard(self) -> None:
        """Forget staged changes and anything cached from them (after a failed commit)."""

    def drop(self) -> None:
        """Drop the view's tables and tracking, so its next run replays from position zero."""
        self.discard()
        self.db.run(f"DROP TABLE IF EXISTS {self.qualified(t)}" for t in (*self.tables, "tracking"))
        self._create()

    def close(self) -> None:
        """Release the view's database."""
        self.db.close()

    def __enter__(self) -> View:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
