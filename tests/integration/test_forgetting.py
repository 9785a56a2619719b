"""Residents sealed in the store with keys of their own; forgetting one leaves every figure as it was."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from demand_stories import HOUR, T0, Story, mixed_history, story_on, submission

from adapters.bootstrap import System
from adapters.forgetting import find, forget, reseal
from adapters.replay import rebuild, specs_named
from adapters.settings import Settings
from engine.access import Identity, Role
from engine.application import Demands
from engine.periods import Period
from engine.values import FORGOTTEN, Resident
from engine.vocabulary import AccountKind
from projections.database import Database
from projections.index.view import DemandIndexView
from projections.points.view import PointsView
from projections.rebuild import REBUILD_SUFFIX

pytestmark = pytest.mark.integration

WANG = Resident(name="Wang Fang", phone="13912345678", address="Building 7, Room 301")
LI = Resident(name="Li Mei", phone="13800138000", address="Building 3, Room 402")
ADMIN = Identity(name="admin", role=Role.ADMINISTRATOR)
NOW = T0 + 90 * 24 * HOUR


def stored_bytes(app: Demands) -> bytes:
    """Every stored event's state, as the database holds it."""
    return b"\n".join(n.state for n in app.recorder.select_notifications(start=1, limit=100_000))


def residents_of(app: Demands, demand_id: str) -> list[Resident]:
    """The residents a demand's stored events hold, oldest first."""
    found = []
    for event in app.history(demand_id):
        for name in ("resident", "reporter"):
            if isinstance(getattr(event, name, None), Resident):
                found.append(getattr(event, name))
    return found


def figures(db: Database, suffix: str = "") -> dict[str, Any]:
    """What the views say: rates by community, every index row, the points ledger and ranking."""
    index, points = DemandIndexView(db, suffix), PointsView(db, suffix)
    return {
        "rates": index.rates(by="community", now=NOW),
        "rows": sorted(r.model_dump_json() for r in index.list_demands(limit=10_000)),
        "ledger": sorted(e.model_dump_json() for e in points.ledger()),
        "ranking": points.ranking(AccountKind.MEMBER, Period.parse("2026")),
    }


@pytest.fixture
def story(settings: Settings) -> Iterator[Story]:
    """Wang's demands (one absorbing a duplicate Li reported) among Li's, around every common path."""
    with story_on(settings) as story:
        mixed_history(story, range(12), T0)
        for n in range(3):
            story.collect(submission(f"w{n}").model_copy(update={"resident": WANG}), T0 + n * HOUR)
        story.close_loop("demand-wechat-w0", T0 + 5 * HOUR)
        from engine.commands import Merge

        story.do(
            "demand-wechat-m5", Merge(by="op", into="demand-wechat-w1", reason="same light"), T0 + 80 * HOUR
        )
        yield story


def test_residents_are_sealed_in_the_store_and_read_back_whole(settings: Settings, story: Story) -> None:
    raw = stored_bytes(story.app)
    for value in (*WANG.model_dump().values(), *LI.model_dump().values()):
        assert value.encode() not in raw, f"{value!r} is readable in the event store"
    assert b'"sealed"' in raw
    assert residents_of(story.app, "demand-wechat-w1") == [WANG, LI]  # the absorbed reporter too
    live, forgotten = System(settings).keyring.count()
    assert (live, forgotten) == (2, 0)  # one key per resident, however many demands they raised


def test_forgetting_a_resident_makes_them_unreadable_everywhere_and_every_figure_stays(
    settings: Settings, story: Story
) -> None:
    system = System(settings)
    with system.projections() as running:
        running.wait_until_caught_up(timeout=60)
    db = system.views_database()
    try:
        before = figures(db)
        who = find(system, phone=WANG.phone, name=None)
        assert len(who.kids) == 1
        found_by_phone = {r.demand_id for r in DemandIndexView(db).list_demands(keys=who.resident_ids)}
        assert found_by_phone == {"demand-wechat-w0", "demand-wechat-w1", "demand-wechat-w2"}
        assert forget(system, ADMIN, who, "erasure request 2026-17") == 1
        assert DemandIndexView(db).list_demands(keys=who.resident_ids) == []  # nobody finds them now
        by_name = find(system, phone=None, name=WANG.name).resident_ids
        assert DemandIndexView(db).list_demands(keys=by_name) == []  # by their name neither

        with System(settings).store() as fresh:  # a new process: nothing cached
            assert residents_of(fresh, "demand-wechat-w0") == [FORGOTTEN]
            assert residents_of(fresh, "demand-wechat-w1") == [FORGOTTEN, LI]  # Li is still there
            assert residents_of(fresh, "demand-wechat-m0") == [LI]
            assert fresh.status("demand-wechat-w0").state.value == "closed"
        for spec in specs_named(system, None):
            rebuild(system, spec)  # from event zero, after the forgetting
        assert figures(db, REBUILD_SUFFIX) == before
        assert figures(db) == before
        assert DemandIndexView(db).list_demands(keys=who.resident_ids) == []  # nor after a rebuild
    finally:
        db.close()
    with system.directory() as directory:
        [erased] = directory.erasures()
    assert (erased["by"], erased["keys"], erased["why"]) == ("admin", 1, "erasure request 2026-17")
    assert WANG.phone not in erased["resident"]
    assert System(settings).keyring.count() == (1, 1)


def test_forgetting_by_name_finds_the_resident_who_gave_a_phone_too(settings: Settings, story: Story) -> None:
    system = System(settings)
    assert forget(system, ADMIN, find(system, phone=None, name="wang  FANG"), "asked in person") == 1
    with System(settings).store() as fresh:
        assert residents_of(fresh, "demand-wechat-w2") == [FORGOTTEN]


def test_events_stored_in_plain_text_still_load_and_reseal_seals_them(settings: Settings) -> None:
    system = System(settings)
    plain = Demands(env=system.store_env(), limits=system.time_limits)  # a store from before sealing
    try:
        Story(plain).collect(submission("old").model_copy(update={"resident": WANG}), T0)
        assert WANG.phone.encode() in stored_bytes(plain)
    finally:
        plain.close()
    with system.store() as store:
        assert residents_of(store, "demand-wechat-old") == [WANG]
        done = reseal(system, store)
        assert (done.sealed, done.scanned) == (1, 1)
        assert WANG.phone.encode() not in stored_bytes(store)
        assert residents_of(store, "demand-wechat-old") == [WANG]
        assert reseal(system, store).scanned == 0  # it resumes where it stopped
    assert forget(system, ADMIN, find(system, WANG.phone, None), "test") == 1
    with System(settings).store() as fresh:
        assert residents_of(fresh, "demand-wechat-old") == [FORGOTTEN]


def test_a_rotated_codec_key_still_opens_residents_keys_and_reseal_wraps_them_anew(
    settings: Settings, story: Story
) -> None:
    import base64

    old = System(settings).keys.codec
    rotated = settings.model_copy(
        update={
            "codec_key": _secret(base64.b64encode(b"\x09" * 32).decode()),
            "codec_previous_keys": _secret(base64.b64encode(old).decode()),
        }
    )
    system = System(rotated)
    with system.store() as store:
        assert residents_of(store, "demand-wechat-w0") == [WANG]
        assert reseal(system, store).rewrapped == 2
    without_old = System(rotated.model_copy(update={"codec_previous_keys": None}))
    with without_old.store() as store:
        assert residents_of(store, "demand-wechat-w0") == [WANG]


def _secret(text: str) -> Any:
    from pydantic import SecretStr

    return SecretStr(text)
