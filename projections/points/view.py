"""The points view: each demand's facts and the ledger, written with their position; balances, rankings."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from decimal import Decimal
from typing import ClassVar
from uuid import UUID

from engine.periods import Period
from engine.policies.points import from_tenths
from engine.scope import Places
from engine.vocabulary import AccountKind
from projections.database import Cursor, Database
from projections.points import queries
from projections.points.models import DemandFacts, LedgerEntry, Standing, ranked
from projections.sql import row_params
from projections.view import View


class PointsView(View):
    """`points_demands` (facts per demand) and `points_ledger` (every entry, in the order written)."""

    name = "points"
    cache_size: ClassVar[int] = 10_000

    def __init__(self, db: Database, suffix: str = "", *, indexes: bool = True) -> None:
        self._cache: OrderedDict[UUID, DemandFacts] = OrderedDict()
        self._staged: dict[UUID, DemandFacts] = {}
        self._entries: list[tuple[LedgerEntry, int]] = []
        super().__init__(db, suffix, indexes=indexes)

    @property
    def tables(self) -> tuple[str, ...]:
        """Facts and ledger."""
        return ("demands", "ledger")

    def table_statements(self) -> list[str]:
        """The facts table and the ledger."""
        return queries.create_statements(self.dialect, self.table("demands"), self.table("ledger"))

    def index_statements(self) -> list[str]:
        """The ledger's indexes."""
        return queries.index_statements(self.dialect, self.table("ledger"))

    def comparable_tables(self) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
        """Facts by demand; ledger entries by the event that wrote them and their account (not by id,
        which a sequence numbers with gaps)."""
        return {
            "demands": (("aggregate_id",), ("aggregate_id", "facts")),
            "ledger": (("notification_id", "kind", "account"), (*queries.LEDGER_COLUMNS, "notification_id")),
        }

    # ---- written by PointsProjection ---------------------------------------------------------

    def facts(self, aggregate_id: UUID) -> DemandFacts | None:
        """What is known of a demand (staged, cached or stored), or None if its collection was never seen."""
        facts = self._staged.get(aggregate_id) or self._cache.get(aggregate_id)
        if facts is None:
            rows = self.db.select(
                f"SELECT facts FROM {self.qualified('demands')} "
                f"WHERE aggregate_id = {self.dialect.param('id')}",
                {"id": str(aggregate_id)},
            )
            facts = DemandFacts.model_validate_json(rows[0]["facts"]) if rows else None
            if facts is not None:
                self._remember(facts)
        return facts

    def record(self, facts: DemandFacts, entries: Sequence[LedgerEntry], position: int) -> None:
        """Stage a demand's facts and new ledger entries; written with the position at the next commit."""
        self._staged[facts.aggregate_id] = facts
        self._entries.extend((entry, position) for entry in entries)

    def flush(self, cursor: Cursor) -> None:
        """Upsert the staged facts, append the staged entries."""
        if self._staged:
            cursor.executemany(
                queries.upsert_facts_statement(self.dialect, self.table("demands")),
                ({"id": str(f.aggregate_id), "facts": f.model_dump_json()} for f in self._staged.values()),
            )
        if self._entries:
            cursor.executemany(
                queries.insert_entry_statement(self.dialect, self.table("ledger")),
                (
                    {**row_params(self.dialect, e), "notification_id": position}
                    for e, position in self._entries
                ),
            )

    def committed(self) -> None:
        """Keep the written facts in memory: this view has one writer."""
        for facts in self._staged.values():
            self._remember(facts)
        self._staged.clear()
        self._entries.clear()

    def discard(self) -> None:
        """Forget staged and cached facts and entries."""
        self._staged.clear()
        self._entries.clear()
        self._cache.clear()

    def _remember(self, facts: DemandFacts) -> None:
        self._cache[facts.aggregate_id] = facts
        self._cache.move_to_end(facts.aggregate_id)
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    # ---- queries ---------------------------------------------------------------------------

    def total(self, kind: AccountKind, account: str) -> int:
        """An account's ledger total over all time, in tenths."""
        st = queries.account_statement(
            self.dialect, self.table("ledger"), kind, account, "COALESCE(SUM(tenths), 0) AS tenths"
        )
        return int(self.db.select(st.sql, st.params)[0]["tenths"])

    def earned_by(self, kind: AccountKind, account: str) -> Decimal:
        """A member's or unit's points from the ledger, one decimal place."""
        return from_tenths(self.total(kind, account))

    def earned(self, member: str) -> Decimal:
        """A member's points from the ledger (what the time bank may pay out)."""
        return from_tenths(self.total(AccountKind.MEMBER, member))

    def known(self, kind: AccountKind, account: str) -> bool:
        """Whether the ledger has any entry for this account."""
        st = queries.account_statement(self.dialect, self.table("ledger"), kind, account, "1")
        return bool(self.db.select(st.sql + " LIMIT 1", st.params))

    def recent(self, kind: AccountKind, account: str, limit: int = 10) -> list[LedgerEntry]:
        """An account's latest entries, newest first."""
        columns = ", ".join(queries.LEDGER_COLUMNS)
        st = queries.account_statement(self.dialect, self.table("ledger"), kind, account, columns)
        rows = self.db.select(f"{st.sql} ORDER BY id DESC LIMIT {st.bind('limit', limit)}", st.params)
        return [LedgerEntry.model_validate(row) for row in rows]

    def ledger(self) -> list[LedgerEntry]:
        """Every entry, in the order written."""
        columns = ", ".join(queries.LEDGER_COLUMNS)
        rows = self.db.select(f"SELECT {columns} FROM {self.qualified('ledger')} ORDER BY id")
        return [LedgerEntry.model_validate(row) for row in rows]

    def ranking(
        self, kind: AccountKind, period: Period, scope: Places = None, limit: int = 20
    ) -> list[Standing]:
        """Members or units by points earned in a period and scope, highest first."""
        st = queries.ranking_statement(self.dialect, self.table("ledger"), kind, period, scope, limit)
        rows = self.db.select(st.sql, st.params)
        return ranked([(r["account"], int(r["tenths"]), int(r["demands"])) for r in rows])
