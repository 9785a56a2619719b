"""A view rebuilt beside the live one: how it differs from the live one, row by row, and the swap
that makes it live.

A rebuild fills the view's tables under a suffix (`demand_index_rebuild`) from event zero while
the live tables keep serving. `differences` joins each live table with its rebuilt twin in the
database itself (constant memory, however many rows); `swap` renames the rebuilt tables, their
tracking and their indexes over the live ones in one transaction, so readers see one view or
the other, never a mixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from projections.view import View

REBUILD_SUFFIX = "_rebuild"
"""The suffix of a rebuilt view's tables."""


@dataclass(frozen=True)
class Difference:
    """One row that is not the same in the live view and its rebuild."""

    table: str
    key: dict[str, Any]
    live: dict[str, Any] | None
    rebuilt: dict[str, Any] | None

    @property
    def row(self) -> str:
        """The row as people find it: its demand id where it has one, and its key."""
        key = ", ".join(f"{k}={v}" for k, v in self.key.items())
        row = self.live or self.rebuilt or {}
        return f"{row['demand_id']} ({key})" if row.get("demand_id") else key

    @property
    def columns(self) -> list[str]:
        """The columns whose values differ (empty when the row is missing on one side)."""
        if self.live is None or self.rebuilt is None:
            return []
        return [c for c in self.live if self.live[c] != self.rebuilt.get(c)]

    def __str__(self) -> str:
        if self.live is None:
            return f"{self.table}: row {self.row} is missing from the live view"
        if self.rebuilt is None:
            return f"{self.table}: row {self.row} is in the live view but not in the rebuild"
        assert self.rebuilt is not None
        changes = "; ".join(
            f"{c} is {self.live[c]!r} live but {self.rebuilt[c]!r} rebuilt" for c in self.columns
        )
        return f"{self.table}: row {self.row}: {changes}"


def differences(live: View, rebuilt: View, limit: int = 100) -> Iterator[Difference]:
    """Rows that differ between a live view and its rebuild (both in one database), at most `limit`."""
    found = 0
    for part, (keys, columns) in live.comparable_tables().items():
        for difference in _table_differences(live, rebuilt, part, keys, columns, limit - found):
            found += 1
            yield difference
        if found >= limit:
            return


def _table_differences(
    live: View, rebuilt: View, part: str, keys: tuple[str, ...], columns: tuple[str, ...], limit: int
) -> Iterator[Difference]:
    dialect = live.dialect
    on = " AND ".join(f"a.{k} = b.{k}" for k in keys)
    changed = " OR ".join(dialect.differs(f"a.{c}", f"b.{c}") for c in columns if c not in keys)
    pick = ", ".join([*(f"a.{c} AS a_{c}" for c in columns), *(f"b.{c} AS b_{c}" for c in columns)])
    order = ", ".join(f"a.{k}" for k in keys)

    def query(first: View, second: View, condition: str) -> list[dict[str, Any]]:
        sql = (
            f"SELECT {pick} FROM {first.qualified(part)} a LEFT JOIN {second.qualified(part)} b ON {on} "
            f"WHERE {condition} ORDER BY {order} LIMIT {int(limit)}"
        )
        return live.db.select(sql)

    def side(row: dict[str, Any], prefix: str) -> dict[str, Any] | None:
        if all(row[f"{prefix}_{k}"] is None for k in keys):
            return None
        return {c: row[f"{prefix}_{c}"] for c in columns}

    missing = " AND ".join(f"b.{k} IS NULL" for k in keys)
    table = live.table(part)
    # Rows of the live view missing from the rebuild or different in it, then rows only rebuilt.
    for row in query(live, rebuilt, f"({missing})" + (f" OR {changed}" if changed else "")):
        a, b = side(row, "a"), side(row, "b")
        assert a is not None
        yield Difference(table, {k: a[k] for k in keys}, a, b)
        limit -= 1
    if limit <= 0:
        return
    for row in query(rebuilt, live, missing):
        b = side(row, "a")
        assert b is not None
        yield Difference(table, {k: b[k] for k in keys}, None, b)


def swap(live: View, rebuilt: View) -> None:
    """Make the rebuild the live view: its tables, tracking and indexes take the live names.

    One transaction: readers see the old view or the new one. The caller holds the live view's
    writer lock, so no runner writes the old tables meanwhile.
    """
    db, dialect = live.db, live.dialect
    parts = (*live.tables, "tracking")
    statements = [f"DROP TABLE IF EXISTS {live.qualified(part)}" for part in parts]
    for part in parts:
        old, new = rebuilt.table(part), live.table(part)
        sql, params = dialect.indexes_statement(old)
        for row in db.select(sql, params):
            index = str(row["name"])
            if index.startswith(old + "_"):  # ours are named after their table (projections.sql)
                statements += dialect.rename_index(index, new + index[len(old) :])
        statements.append(dialect.rename_table(old, new))
    # The indexes SQLite had to drop are made again under the live names, in the same transaction.
    db.run([*statements, *live.create_statements()])
    live.discard()
