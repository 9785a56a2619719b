"""Target 4: read latency of the views' queries, on the views a replay just rebuilt.

The ticket list, the overdue board, rates by community (one month, and per month over all), and a
member's points: each run many times, p50 and p99 in milliseconds. On SQLite the query plans are
checked for full-table scans.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from time import perf_counter
from typing import Any

from adapters import heap
from adapters.bootstrap import System
from bench.figures import Report
from bench.history import COMMUNITIES, MEMBERS, START
from bench.sampling import percentile
from engine.scope import Scope
from engine.vocabulary import AccountKind
from projections.index.models import Dimension
from projections.index.view import DemandIndexView
from projections.points.view import PointsView

REPEAT = 200
BESIDE_THE_TARGET = frozenset({"rates_community_per_day_one_month"})
"""Reads measured to show what the rollup does not answer (per day: counted from the demand rows),
not among the target's (the ticket list, the board, rates by community and month, points)."""


def queries(index: DemandIndexView, points: PointsView) -> dict[str, Callable[[], Any]]:
    """The reads operators, analysts and members make most, as the CLI makes them."""
    community = Scope.parse(f"community:{COMMUNITIES[7]}")
    first = START.astimezone(timezone(index.utc_offset)).replace(day=1, hour=0)  # the first local month
    month = (first, (first + timedelta(days=32)).replace(day=1))  # full at every size
    now = START + timedelta(days=120)
    member = MEMBERS[17]
    return {
        "ticket_list": lambda: index.list_demands(open_only=True, scope=community, limit=50),
        "ticket_list_all": lambda: index.list_demands(limit=50),
        "overdue_board": lambda: index.overdue(now=now, scope=community),
        "overdue_board_everywhere": lambda: index.overdue(now=now),
        "overdue_board_everywhere_page_20": lambda: index.overdue(now=now, offset=950),
        "rates_community_one_month": lambda: index.rates(
            by="community", since=month[0], until=month[1], now=now, utc_offset=index.utc_offset
        ),
        "rates_community_per_month": lambda: index.rates(
            by="community", per="month", now=now, utc_offset=index.utc_offset
        ),
        "rates_community_per_day_one_month": lambda: index.rates(
            by="community", per="day", since=month[0], until=month[1], now=now, utc_offset=index.utc_offset
        ),
        "member_points": lambda: (points.earned(member), points.recent(AccountKind.MEMBER, member, 10)),
    }


def run(report: Report, system: System, suffix: str, prefix: str) -> None:
    """Time every query on the views with `suffix`; figures named `<prefix>.<query>_p50|p99`."""
    index = DemandIndexView(system.views_database(), suffix, utc_offset=system.utc_offset)
    points = PointsView(system.views_database(), suffix)
    heap.settle()  # as the API server does once it has started: the process's load kept out of sweeps
    try:
        for name, query in queries(index, points).items():
            query()  # warm the connection and the statement cache
            times = []
            for _ in range(REPEAT):
                started = perf_counter()
                query()
                times.append(1000 * (perf_counter() - started))
            report.value(f"{prefix}.{name}_p50", percentile(times, 50), "ms")
            p99 = percentile(times, 99)
            if name in BESIDE_THE_TARGET:
                report.value(f"{prefix}.{name}_p99", p99, "ms")
            else:
                report.value(f"{prefix}.{name}_p99", p99, "ms", target="< 20 ms", met=p99 < 20)
        if system.settings.store == "sqlite":
            report.notes[f"{prefix}.plans"] = sqlite_plans(index, suffix)
    finally:
        heap.unsettle()
        index.close()
        points.close()


def sqlite_plans(index: DemandIndexView, suffix: str) -> dict[str, str]:
    """EXPLAIN QUERY PLAN of the index's listing and board queries (SCAN means a full-table read)."""
    from projections.index import queries as q

    table = index.table("")
    now = datetime.now(UTC)
    statements = {
        "ticket_list": q.list_statement(
            index.dialect,
            table,
            equals={},
            open_only=True,
            scope=Scope.parse(f"community:{COMMUNITIES[7]}"),
            since=None,
            until=None,
            limit=50,
            offset=0,
        ),
        "overdue_board": q.overdue_statement(
            index.dialect,
            table,
            horizon=now,
            scope=Scope.parse(f"community:{COMMUNITIES[7]}"),
            priority=None,
            level=None,
            limit=50,
        ),
        "overdue_board_everywhere": q.overdue_statement(
            index.dialect, table, horizon=now, scope=None, priority=None, level=None, limit=50
        ),
        "rates_open_overdue_one_month": q.rates_statement(
            index.dialect,
            table,
            by=Dimension.COMMUNITY,
            per=None,
            scope=None,
            since=START,
            until=START + timedelta(days=31),
            now=now,
            utc_offset=index.utc_offset,
            late_only=True,
        ),
    }
    plans = {}
    for name, st in statements.items():
        rows = index.db.select("EXPLAIN QUERY PLAN " + st.sql, st.params)
        plans[name] = "; ".join(str(r["detail"]) for r in rows)
    return plans
