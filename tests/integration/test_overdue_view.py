"""The overdue board from the demand index: open demands past (or near) their promise.

Overdue is past the promise (the 2310 limit from collection): a demand stays on the board,
whatever rung the escalations took it to and whatever step it reached, until it ends.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from demand_stories import HOUR, T0, Story, projected_index, story_on, submission

from adapters.settings import Settings
from engine.lifecycle import State
from engine.periods import Bucket
from engine.scope import Scope
from engine.vocabulary import Level, Priority, Stage
from projections.index import queries
from projections.index.models import Dimension

pytestmark = pytest.mark.integration
DAY = timedelta(days=1)
NOW = T0 + 60 * HOUR


def board(story: Story) -> dict[str, str]:
    """Demands in every situation the board must tell apart; names by what happens to them."""
    ids = {
        "general": story.collect(submission("general"), T0),  # promised by +48h
        "kunlun": story.collect(submission("kunlun", community="Kunlun"), T0 + HOUR),  # +49h
        "important": story.collect(submission("important", priority=Priority.IMPORTANT), T0),  # +72h
        "major": story.collect(submission("major", priority=Priority.MAJOR), T0),  # +10 days
        "due_soon": story.collect(submission("soon"), T0 + 20 * HOUR),  # +68h
        "escalated": story.collect(submission("escalated"), T0),
        "handled_late": story.collect(submission("handled"), T0),
        "closed_late": story.collect(submission("closed"), T0),
        "withdrawn": story.collect(submission("withdrawn"), T0),
        "awaiting_rating": story.collect(submission("rating"), T0),
    }
    # The timers: the claim deadline (to the street), the promise and the street's day together
    # (late, to the district), the district's day (to the city). Late all along from +48h.
    for hours in (24, 48, 72):
        story.mark_overdue(ids["escalated"], T0 + hours * HOUR)
    for late in ("handled_late", "closed_late"):
        story.claim(ids[late], T0 + HOUR)
        story.mark_overdue(ids[late], T0 + 48 * HOUR)  # the promise passed while it was claimed
        story.handle_and_follow_up(ids[late], T0 + 50 * HOUR)  # handled late, followed up
    story.evaluate(ids["closed_late"], T0 + 52 * HOUR)
    story.withdraw(ids["withdrawn"], T0 + HOUR)
    story.claim(ids["awaiting_rating"], T0 + HOUR)
    story.handle_and_follow_up(ids["awaiting_rating"], T0 + 2 * HOUR)
    return ids


def test_the_board_lists_open_demands_past_their_promise_whatever_rung_and_step(settings: Settings) -> None:
    with story_on(settings) as story:
        ids = board(story)
        with projected_index(settings) as index:
            rows = index.overdue(now=NOW)
    assert [r.demand_id for r in rows] == [
        ids["escalated"], ids["general"], ids["handled_late"], ids["kunlun"]
    ]  # fmt: skip  # by the promise's deadline, then by id
    assert [r.overdue_by for r in rows] == [12 * HOUR, 12 * HOUR, 12 * HOUR, 11 * HOUR]
    escalated = rows[0]
    assert (escalated.level, escalated.escalations, escalated.responsible_unit) == (
        Level.CITY, 3, "Karamay"
    )  # fmt: skip  # its own window at the city runs until +96h: still overdue
    assert (escalated.promised_by, escalated.limit) == (T0 + 48 * HOUR, 2 * DAY)
    assert (escalated.stage, escalated.step_due_at) == (Stage.CLAIM, T0 + 96 * HOUR)
    handled = rows[2]
    assert (handled.state, handled.level) == (State.FOLLOWED_UP, Level.STREET)
    general = rows[1]
    assert (general.priority, general.state, general.level, general.community, general.grid) == (
        Priority.GENERAL, State.COLLECTED, Level.COMMUNITY, "Xinhua", "X1"
    )  # fmt: skip


def test_due_within_adds_demands_near_their_promise_with_the_time_left(settings: Settings) -> None:
    with story_on(settings) as story:
        ids = board(story)
        with projected_index(settings) as index:
            rows = {r.demand_id: r for r in index.overdue(now=NOW, due_within=12 * HOUR)}
    assert rows[ids["due_soon"]].overdue_by == -8 * HOUR
    assert rows[ids["important"]].overdue_by == -12 * HOUR
    assert rows[ids["important"]].limit == 3 * DAY
    assert list(rows)[-2:] == [ids["due_soon"], ids["important"]]
    assert ids["major"] not in rows


def test_the_board_filters_by_place_priority_and_level(settings: Settings) -> None:
    with story_on(settings) as story:
        ids = board(story)
        with projected_index(settings) as index:
            kunlun = index.overdue(now=NOW, scope=Scope.parse("community:Kunlun"))
            street = index.overdue(now=NOW, scope=Scope.parse("street:Yingbin"))
            important = index.overdue(now=NOW, due_within=DAY, priority=Priority.IMPORTANT)
            grid = index.overdue(now=NOW, scope=Scope.parse("grid:X1"), priority="general")
            at_city = index.overdue(now=NOW, level=Level.CITY)
            elsewhere = index.overdue(now=NOW, scope=Scope.parse("district:Baijiantan District"))
    assert [r.demand_id for r in kunlun] == [ids["kunlun"]]
    assert len(street) == 4
    assert [r.demand_id for r in important] == [ids["important"]]
    assert {r.demand_id for r in grid} == {ids["escalated"], ids["general"], ids["handled_late"]}
    assert [r.demand_id for r in at_city] == [ids["escalated"]]
    assert elsewhere == []


def test_closed_withdrawn_and_promises_kept_never_reach_the_board(settings: Settings) -> None:
    with story_on(settings) as story:
        ids = board(story)
        with projected_index(settings) as index:
            listed = {r.demand_id for r in index.overdue(now=T0 + 60 * DAY)}
    # Handled in time, the promise was kept: the follow-up and the rating are nobody's lateness.
    assert {ids["closed_late"], ids["withdrawn"], ids["awaiting_rating"]}.isdisjoint(listed)
    assert len(listed) == 7


def test_before_any_promise_is_due_the_board_is_empty(settings: Settings) -> None:
    with story_on(settings) as story:
        board(story)
        with projected_index(settings) as index:
            assert index.overdue(now=T0 + HOUR) == []
            assert len(index.overdue(now=T0 + HOUR, limit=1, due_within=timedelta(days=3))) == 1


def test_the_board_pages_in_its_order_and_what_falls_due_is_apart_from_it(settings: Settings) -> None:
    with story_on(settings) as story:
        ids = board(story)
        with projected_index(settings) as index:
            whole = index.overdue(now=T0 + 60 * DAY, limit=100)
            pages = [index.overdue(now=T0 + 60 * DAY, limit=3, offset=n) for n in (0, 3, 6)]
            due = index.due(NOW, NOW + 9 * HOUR)  # 60h to 69h: "due_soon" is promised by +68h
            st = queries.overdue_statement(
                index.dialect, index.table(""), horizon=NOW, scope=None, priority=None, level=None, limit=50
            )
            plan = (
                index.db.select("EXPLAIN QUERY PLAN " + st.sql, st.params)
                if settings.store == "sqlite"
                else []
            )
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [r for p in pages for r in p] == whole  # the pages follow one another, nothing twice
    assert [r.demand_id for r in due] == [ids["due_soon"]]
    assert due[0].overdue_by < timedelta(0)  # not late yet
    if plan:  # read in order from the open demands' lateness index: no sort, no scan of the table
        details = " ".join(str(row["detail"]) for row in plan)
        assert "demand_index_lateness" in details, details
        assert "TEMP B-TREE" not in details, details


def test_postgresql_counts_late_demands_from_the_lateness_index_alone(postgres_settings: Settings) -> None:
    # The rates' count of open and late demands per community and month reads only the index
    # (it holds the columns of its expression), and a view filled from zero is vacuumed, so not
    # one row is fetched from the table. With only the expression, every late row was.
    with story_on(postgres_settings) as story:
        board(story)
        with projected_index(postgres_settings) as index:
            st = queries.rates_statement(
                index.dialect, index.table(""), by=Dimension.COMMUNITY, per=Bucket.MONTH,
                scope=None, since=None, until=None, now=NOW, utc_offset=index.utc_offset, late_only=True,
            )  # fmt: skip
            with index.db.transaction() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of rows: the table is
                cursor.execute("SET LOCAL enable_bitmapscan = off")  # cheaper; ask how else it reads
                plan = cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + st.sql, st.params).fetchall()
    details = "\n".join(str(next(iter(row.values()))) for row in plan)
    assert "Index Only Scan using demand_index_lateness" in details, details
    assert "Heap Fetches: 0" in details, details


def test_a_view_made_with_the_old_lateness_index_loses_it_once_its_indexes_are_made(
    settings: Settings,
) -> None:
    with story_on(settings) as story:
        board(story)
        with projected_index(settings) as index:
            table = index.table("")
            old = f"CREATE INDEX {table}_late ON {index.qualified('')} (collected_at)"
            index.db.run([old])  # as views were made before
            index.create_indexes()  # as its writer does once caught up, at every start
            sql, params = index.dialect.indexes_statement(table)
            names = {row["name"] for row in index.db.select(sql, params)}
    assert f"{table}_lateness" in names
    assert f"{table}_late" not in names


def test_postgresql_plans_every_read_for_the_moment_asked(postgres_settings: Settings) -> None:
    # Prepared after five runs, a query gets a plan for any parameters; the views' reads are windows
    # of time and "now", so each is planned for its own (no statement is left prepared).
    with story_on(postgres_settings) as story:
        board(story)
        with projected_index(postgres_settings) as index:
            for _ in range(8):
                index.rates(by="community", per="month", now=NOW, utc_offset=index.utc_offset)
                index.overdue(now=NOW)
            prepared = index.db.select("SELECT name FROM pg_prepared_statements")
    assert prepared == []


def test_a_windows_late_demands_are_read_from_the_lateness_index(sqlite_settings: Settings) -> None:
    # Not through the index of collection times, which would read every demand of the window.
    with story_on(sqlite_settings) as story:
        board(story)
        with projected_index(sqlite_settings) as index:
            st = queries.rates_statement(
                index.dialect, index.table(""), by=Dimension.COMMUNITY, per=None, scope=None,
                since=T0 - DAY, until=T0 + 30 * DAY, now=NOW, utc_offset=index.utc_offset, late_only=True,
            )  # fmt: skip
            plan = index.db.select("EXPLAIN QUERY PLAN " + st.sql, st.params)
            late = index.rates(by="community", since=T0 - DAY, until=T0 + 30 * DAY, now=NOW)
    details = " ".join(str(row["detail"]) for row in plan)
    assert "COVERING INDEX demand_index_lateness" in details, details
    assert sum(row.open_overdue for row in late) > 0  # the window holds late demands, counted
