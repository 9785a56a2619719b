"""The points ledger view on PostgreSQL (at scale), in the store's schema."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

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
from projections.postgres_views import PostgresView

_CREATE = (
    "CREATE TABLE IF NOT EXISTS {demands} (aggregate_id uuid PRIMARY KEY, facts jsonb NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {ledger} (id bigserial PRIMARY KEY, demand_id text NOT NULL, "
    "kind text NOT NULL, account text NOT NULL, tenths bigint NOT NULL, reason text NOT NULL, "
    "version text NOT NULL, at timestamptz NOT NULL, day date NOT NULL, community text NOT NULL, "
    "street text NOT NULL, district text NOT NULL, notification_id bigint NOT NULL)",
    "CREATE INDEX IF NOT EXISTS {account} ON {ledger} (kind, account, id)",
    "CREATE INDEX IF NOT EXISTS {demand} ON {ledger} (demand_id)",
    "CREATE INDEX IF NOT EXISTS {day} ON {ledger} (kind, day)",
)
_COLUMNS = SQL("demand_id, kind, account, tenths, reason, version, at, day, community, street, district")


class PostgresPointsView(PostgresView, PointsView):
    """The ledger in PostgreSQL; tracks in `points_tracking` (named by the projection)."""

    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        tracking_table_name: str = f"{PROJECTION_NAME}_tracking",
        **kwargs: Any,
    ) -> None:
        super().__init__(datastore, tracking_table_name=tracking_table_name, **kwargs)
        self.demands = Identifier(datastore.schema, f"{PROJECTION_NAME}_demands")
        self.ledger_table = Identifier(datastore.schema, f"{PROJECTION_NAME}_ledger")
        names = {
            "demands": self.demands,
            "ledger": self.ledger_table,
            **{
                index: Identifier(f"{PROJECTION_NAME}_ledger_{index}")
                for index in ("account", "demand", "day")
            },
        }
        self.sql_create_statements.extend(SQL(statement).format(**names) for statement in _CREATE)

    def facts(self, aggregate_id: UUID) -> DemandFacts | None:
        """What is known of a demand."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL("SELECT facts FROM {0} WHERE aggregate_id = %s").format(self.demands), (aggregate_id,)
            )
            row = curs.fetchone()
        return None if row is None else DemandFacts.model_validate(row["facts"])

    def net(self, demand_id: str) -> dict[tuple[AccountKind, str], int]:
        """What each account holds from one demand now."""
        query = SQL(
            "SELECT kind, account, SUM(tenths) AS tenths FROM {0} WHERE demand_id = %s GROUP BY kind, account"
        ).format(self.ledger_table)
        with self.datastore.transaction(commit=False) as curs:
            rows = curs.execute(query, (demand_id,)).fetchall()
        return {(AccountKind(r["kind"]), r["account"]): int(r["tenths"]) for r in rows if r["tenths"]}

    def record(self, facts: DemandFacts, entries: Sequence[LedgerEntry], tracking: Tracking) -> None:
        """Facts, entries and tracking in one transaction."""
        upsert = SQL(
            "INSERT INTO {0} (aggregate_id, facts) VALUES (%s, %s::jsonb) "
            "ON CONFLICT (aggregate_id) DO UPDATE SET facts = excluded.facts"
        ).format(self.demands)
        insert = SQL("INSERT INTO {0} ({1}, notification_id) VALUES ({2})").format(
            self.ledger_table, _COLUMNS, SQL(", ").join([SQL("%s")] * 12)
        )
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(upsert, (facts.aggregate_id, facts.model_dump_json()))
            if entries:
                curs.executemany(insert, [_row(e, tracking.notification_id) for e in entries])
            self._insert_tracking(curs, tracking)

    def total(self, kind: AccountKind, account: str) -> int:
        """An account's ledger total, in tenths."""
        query = SQL("SELECT COALESCE(SUM(tenths), 0) AS tenths FROM {0} WHERE kind = %s AND account = %s")
        with self.datastore.transaction(commit=False) as curs:
            row = curs.execute(query.format(self.ledger_table), (kind.value, account)).fetchone()
        return int(row["tenths"]) if row is not None else 0

    def recent(self, kind: AccountKind, account: str, limit: int = 10) -> list[LedgerEntry]:
        """An account's latest entries, newest first."""
        query = SQL("SELECT {1} FROM {0} WHERE kind = %s AND account = %s ORDER BY id DESC LIMIT %s")
        with self.datastore.transaction(commit=False) as curs:
            rows = curs.execute(query.format(self.ledger_table, _COLUMNS), (kind.value, account, limit))
            return [_entry(row) for row in rows.fetchall()]

    def ledger(self) -> list[LedgerEntry]:
        """Every entry, in the order written."""
        with self.datastore.transaction(commit=False) as curs:
            rows = curs.execute(SQL("SELECT {1} FROM {0} ORDER BY id").format(self.ledger_table, _COLUMNS))
            return [_entry(row) for row in rows.fetchall()]

    def ranking(self, kind: AccountKind, period: Period, scope: Scope, limit: int = 20) -> list[Standing]:
        """Accounts by points in a period and scope."""
        where: Composed = SQL("kind = %s AND day BETWEEN %s AND %s").format()
        params: list[Any] = [kind.value, period.first, period.last]
        if scope.level != "all":
            where = SQL("{0} AND {1} = %s").format(where, Identifier(scope.level))
            params.append(scope.name)
        query = SQL(
            "SELECT account, SUM(tenths) AS tenths, COUNT(DISTINCT demand_id) AS demands FROM {0} "
            "WHERE {1} GROUP BY account HAVING SUM(tenths) <> 0 ORDER BY tenths DESC, account LIMIT %s"
        ).format(self.ledger_table, where)
        with self.datastore.transaction(commit=False) as curs:
            rows = curs.execute(query, [*params, limit]).fetchall()
        return ranked([(r["account"], int(r["tenths"]), int(r["demands"])) for r in rows])

    def drop(self) -> None:
        """Drop the ledger, the facts and the tracking, so the next run replays from zero."""
        self.drop_tables(f"{PROJECTION_NAME}_ledger", f"{PROJECTION_NAME}_demands")


def _row(e: LedgerEntry, notification_id: int) -> tuple[Any, ...]:
    return (
        e.demand_id, e.kind.value, e.account, e.tenths, e.reason, e.version, e.at, e.day,
        e.community, e.street, e.district, notification_id,
    )  # fmt: skip


def _entry(row: DictRow) -> LedgerEntry:
    return LedgerEntry(
        demand_id=row["demand_id"], kind=AccountKind(row["kind"]), account=row["account"],
        tenths=row["tenths"], reason=row["reason"], version=row["version"], at=row["at"],
        day=row["day"], community=row["community"], street=row["street"], district=row["district"],
    )  # fmt: skip
