"""The points view's SQL, written once for SQLite and PostgreSQL (a Dialect fills in the differences)."""

from __future__ import annotations

from engine.periods import Period
from engine.scope import Places, each
from engine.vocabulary import AccountKind
from projections.points.models import LedgerEntry
from projections.sql import Dialect, Statement, create_index, create_table, model_columns

LEDGER_COLUMNS = model_columns(LedgerEntry)
"""Derived from the entry model, so the ledger and the model cannot drift apart."""


def create_statements(dialect: Dialect, demands: str, ledger: str) -> list[str]:
    """The facts table and the ledger."""
    columns = ", ".join(
        f"{name} {dialect.column_type(kind)} NOT NULL" for name, (kind, _) in LEDGER_COLUMNS.items()
    )
    return [
        create_table(
            dialect, demands, {"aggregate_id": ("text", False), "facts": ("text", False)}, "aggregate_id"
        ),
        f"CREATE TABLE IF NOT EXISTS {dialect.table(ledger)} (id {dialect.serial_key}, {columns}, "
        f"notification_id {dialect.column_type('int')} NOT NULL)",
    ]


def index_statements(dialect: Dialect, ledger: str) -> list[str]:
    """The ledger's indexes that keep balances and rankings flat."""
    return [
        create_index(dialect, ledger, "account", "kind, account, id"),
        create_index(dialect, ledger, "demand", "demand_id"),
        create_index(dialect, ledger, "day", "kind, day"),
    ]


def upsert_facts_statement(dialect: Dialect, demands: str) -> str:
    """Insert a demand's facts, or replace the stored ones."""
    p = dialect.param
    return (
        f"INSERT INTO {dialect.table(demands)} (aggregate_id, facts) VALUES ({p('id')}, {p('facts')}) "
        "ON CONFLICT (aggregate_id) DO UPDATE SET facts = excluded.facts"
    )


def insert_entry_statement(dialect: Dialect, ledger: str) -> str:
    """Append one ledger entry with the position that wrote it."""
    names = [*LEDGER_COLUMNS, "notification_id"]
    return (
        f"INSERT INTO {dialect.table(ledger)} ({', '.join(names)}) "
        f"VALUES ({', '.join(dialect.param(n) for n in names)})"
    )


def account_statement(
    dialect: Dialect, ledger: str, kind: AccountKind, account: str, select: str
) -> Statement:
    """`select` over one account's entries."""
    st = Statement(dialect)
    st.where("kind = {kind}", kind=kind)
    st.where("account = {account}", account=account)
    st.sql = f"SELECT {select} FROM {dialect.table(ledger)}{st.where_sql}"
    return st


def ranking_statement(
    dialect: Dialect, ledger: str, kind: AccountKind, period: Period, scope: Places, limit: int
) -> Statement:
    """Accounts by points earned in a period and place, highest first."""
    st = Statement(dialect)
    st.where("kind = {kind}", kind=kind)
    st.where("day BETWEEN {first} AND {last}", first=period.first, last=period.last)
    for n, place in enumerate(each(scope)):
        assert place.place is not None  # one of five column names
        st.where(f"{place.place.value} = {{place{n}}}", **{f"place{n}": place.name})
    st.sql = (
        f"SELECT account, SUM(tenths) AS tenths, COUNT(DISTINCT demand_id) AS demands "
        f"FROM {dialect.table(ledger)}{st.where_sql} GROUP BY account HAVING SUM(tenths) <> 0 "
        f"ORDER BY tenths DESC, account LIMIT {st.bind('limit', limit)}"
    )
    return st
