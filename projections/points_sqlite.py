"""The points ledger view on SQLite (the embedded default)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from engine.points import AccountKind
from projections.points_views import (
    PROJECTION_NAME,
    DemandFacts,
    LedgerEntry,
    Period,
    PointsView,
    Scope,
    Standing,
    ranked,
)
from projections.sqlite_views import SQLiteView

DEMANDS = f"{PROJECTION_NAME}_demands"
LEDGER = f"{PROJECTION_NAME}_ledger"
TRACKING = f"{PROJECTION_NAME}_tracking"

_COLUMNS = "demand_id, kind, account, tenths, reason, version, at, day, community, street, district"


class SQLitePointsView(SQLiteView, PointsView):
    """The ledger in the SQLite views file, tracked in `points_tracking`."""

    tracking_table = TRACKING

    def construct_create_table_statements(self) -> list[str]:
        """The view's tracking table, then the facts and the ledger."""
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {DEMANDS} (aggregate_id TEXT PRIMARY KEY, facts TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {LEDGER} ("
            "id INTEGER PRIMARY KEY AUTOINCREMENT, demand_id TEXT NOT NULL, kind TEXT NOT NULL, "
            "account TEXT NOT NULL, tenths INTEGER NOT NULL, reason TEXT NOT NULL, "
            "version TEXT NOT NULL, at TEXT NOT NULL, day TEXT NOT NULL, community TEXT NOT NULL, "
            "street TEXT NOT NULL, district TEXT NOT NULL, notification_id INTEGER NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {LEDGER}_account ON {LEDGER} (kind, account, id)",
            f"CREATE INDEX IF NOT EXISTS {LEDGER}_demand ON {LEDGER} (demand_id)",
            f"CREATE INDEX IF NOT EXISTS {LEDGER}_day ON {LEDGER} (kind, day)",
        ]

    def drop(self) -> None:
        """Drop the ledger, the facts and the tracking, so the next run replays from zero."""
        self.drop_tables(LEDGER, DEMANDS)

    def facts(self, aggregate_id: UUID) -> DemandFacts | None:
        """What is known of a demand."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT facts FROM {DEMANDS} WHERE aggregate_id = ?", (str(aggregate_id),))
            row = c.fetchone()
        return None if row is None else DemandFacts.model_validate_json(row["facts"])

    def net(self, demand_id: str) -> dict[tuple[AccountKind, str], int]:
        """What each account holds from one demand now."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT kind, account, SUM(tenths) AS tenths FROM {LEDGER} WHERE demand_id = ? "
                "GROUP BY kind, account",
                (demand_id,),
            )
            rows = c.fetchall()
        return {(AccountKind(r["kind"]), r["account"]): r["tenths"] for r in rows if r["tenths"]}

    def record(self, facts: DemandFacts, entries: Sequence[LedgerEntry], tracking: Tracking) -> None:
        """Facts, entries and tracking in one transaction."""
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT INTO {DEMANDS} (aggregate_id, facts) VALUES (?, ?) "
                "ON CONFLICT (aggregate_id) DO UPDATE SET facts = excluded.facts",
                (str(facts.aggregate_id), facts.model_dump_json()),
            )
            for e in entries:
                c.execute(
                    f"INSERT INTO {LEDGER} ({_COLUMNS}, notification_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        e.demand_id, e.kind.value, e.account, e.tenths, e.reason, e.version,
                        e.at.isoformat(), e.day.isoformat(), e.community, e.street, e.district,
                        tracking.notification_id,
                    ),
                )  # fmt: skip
            self._insert_tracking(c, tracking)

    def total(self, kind: AccountKind, account: str) -> int:
        """An account's ledger total, in tenths."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT COALESCE(SUM(tenths), 0) AS tenths FROM {LEDGER} WHERE kind = ? AND account = ?",
                (kind.value, account),
            )
            return int(c.fetchone()["tenths"])

    def recent(self, kind: AccountKind, account: str, limit: int = 10) -> list[LedgerEntry]:
        """An account's latest entries, newest first."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {_COLUMNS} FROM {LEDGER} WHERE kind = ? AND account = ? ORDER BY id DESC LIMIT ?",
                (kind.value, account, limit),
            )
            return [_entry(row) for row in c.fetchall()]

    def ledger(self) -> list[LedgerEntry]:
        """Every entry, in the order written."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT {_COLUMNS} FROM {LEDGER} ORDER BY id")
            return [_entry(row) for row in c.fetchall()]

    def ranking(self, kind: AccountKind, period: Period, scope: Scope, limit: int = 20) -> list[Standing]:
        """Accounts by points in a period and scope."""
        where = "kind = ? AND day BETWEEN ? AND ?"
        params: list[Any] = [kind.value, period.first.isoformat(), period.last.isoformat()]
        if scope.level != "all":
            where += f" AND {scope.level} = ?"  # the level is one of three column names
            params.append(scope.name)
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT account, SUM(tenths) AS tenths, COUNT(DISTINCT demand_id) AS demands "
                f"FROM {LEDGER} WHERE {where} GROUP BY account HAVING SUM(tenths) <> 0 "
                "ORDER BY tenths DESC, account LIMIT ?",
                [*params, limit],
            )
            rows = [(r["account"], int(r["tenths"]), int(r["demands"])) for r in c.fetchall()]
        return ranked(rows)


def _entry(row: sqlite3.Row) -> LedgerEntry:
    return LedgerEntry(
        demand_id=row["demand_id"], kind=AccountKind(row["kind"]), account=row["account"],
        tenths=row["tenths"], reason=row["reason"], version=row["version"],
        at=datetime.fromisoformat(row["at"]), day=date.fromisoformat(row["day"]),
        community=row["community"], street=row["street"], district=row["district"],
    )  # fmt: skip
