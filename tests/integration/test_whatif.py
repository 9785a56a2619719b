"""What-if: a period lived again under other policies, beside the real figures; live views untouched."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from demand_stories import HOUR, T0, story_on, submission
from temporalio.testing import WorkflowEnvironment
from workflow_harness import open_stack

from adapters.bootstrap import System
from adapters.settings import Settings
from adapters.whatif import what_if
from engine import commands as c
from engine.periods import Period
from engine.policies.points import PointsPolicy, load_points_policy
from engine.policies.timelimits import TimeLimits, load_time_limits
from engine.scope import Scope
from engine.status import DemandStatus
from engine.vocabulary import Rating

pytestmark = pytest.mark.integration
DAY = timedelta(days=1)
LIMITS = load_time_limits()
EVERYWHERE = Scope()


def stricter_limits() -> TimeLimits:
    """Handling within 12 hours instead of the "2310" two days."""
    data: dict[str, Any] = LIMITS.model_dump()
    data["handle"] = {"general": "12h", "important": "1d", "major": "2d"}
    return TimeLimits.model_validate(data)


def richer_points(path: Path) -> PointsPolicy:
    """The shipped points standard with three points an hour instead of one, read from a file."""
    text = load_points_policy().model_dump_json()
    policy = PointsPolicy.model_validate_json(text.replace('"points_per_hour":"1"', '"points_per_hour":"3"'))
    assert policy.versions[0].points_per_hour == 3
    path.write_text(policy.model_dump_json())
    return policy


def test_a_stricter_policy_reports_more_overdue_demands_over_the_same_events(
    settings: Settings, tmp_path: Path
) -> None:
    system = System(settings)
    with story_on(settings) as story:
        quick = story.collect(submission("quick", community="Xinhua"), T0)
        story.close_loop(quick, T0 + HOUR)  # handled within 2 hours: on time either way
        slow = story.collect(submission("slow", community="Kunlun"), T0)
        story.claim(slow, T0 + HOUR)
        story.handle_and_follow_up(slow, T0 + 30 * HOUR)  # handled after 30 hours: late under 12h
        story.evaluate(slow, T0 + 33 * HOUR, Rating.SATISFIED)
        waiting = story.collect(submission("waiting", community="Baijiantan"), T0 + 2 * HOUR)
        story.claim(waiting, T0 + 3 * HOUR)  # in hand, not yet handled
        story.collect(submission("last-year"), T0 - 30 * DAY)  # collected in 2025: not in the period
        with system.projections() as running:
            running.wait_until_caught_up(timeout=60)
        with system.index_view() as index:
            live_before = index.list_demands(limit=100)

    horizon = T0 + 40 * HOUR
    result = what_if(
        system, limits=stricter_limits(), points=richer_points(tmp_path / "points.json"),
        period=Period.parse("2026-01"), scope=EVERYWHERE, horizon=horizon,
    )  # fmt: skip
    real, other = result.real, result.whatif
    assert result.demands == 3
    assert (real.rates.collected, other.rates.collected) == (3, 3)
    assert (real.ever_overdue, other.ever_overdue) == (0, 2)  # `slow` and `waiting` pass 12 hours
    # `slow` closed late, and `waiting` is still open past its promise at the horizon: it counts too.
    assert (real.rates.on_time_rate, other.rates.on_time_rate) == (1.0, pytest.approx(1 / 3))
    # `slow` once, to the street; `waiting` at 14 hours to the street and a day later to the district.
    assert (real.escalated_by_timer, other.escalated_by_timer) == (0, 3)
    assert (real.rates.escalations, other.rates.escalations) == (0, 3)
    assert other.member_tenths > real.member_tenths  # three points an hour
    assert [change.demand_id for change in result.changes][:2] == [slow, waiting]
    assert result.changes[0].real.on_time is True
    assert result.changes[0].whatif.on_time is False
    assert result.refused == 0

    xinhua = what_if(
        system, limits=stricter_limits(), points=load_points_policy(), period=Period.parse("2026-01"),
        scope=Scope.parse("community:Xinhua"), horizon=horizon,
    )  # fmt: skip
    assert (xinhua.demands, xinhua.changes) == (1, [])
    with system.index_view() as index:
        assert index.list_demands(limit=100) == live_before  # the live views were never touched


def test_a_manual_escalation_that_no_longer_applies_is_reported(settings: Settings) -> None:
    system = System(settings)
    with story_on(settings) as story:
        stuck = story.collect(submission("stuck"), T0)
        story.mark_overdue(stuck, T0 + DAY)
        story.escalate(stuck, T0 + 2 * DAY + HOUR)
        story.do(stuck, c.Escalate(by="op-zhang", reason="still stuck"), T0 + 3 * DAY)
    data: dict[str, Any] = LIMITS.model_dump()
    data["escalation"] = {"general": "1h", "important": "1h", "major": "1h"}
    result = what_if(
        system, limits=TimeLimits.model_validate(data), points=load_points_policy(),
        period=Period.parse("2026"), scope=EVERYWHERE, horizon=T0 + 4 * DAY,
    )  # fmt: skip
    assert result.refused == 2
    [change] = result.changes
    assert all("top of the ladder" in why for why in change.refused)


async def test_the_same_policy_over_real_workflow_histories_changes_nothing(
    time_skipping_env: WorkflowEnvironment, sqlite_settings: Settings
) -> None:
    env = time_skipping_env
    async with open_stack(env.client, sqlite_settings) as stack:
        on_time, _left_open, late = [await stack.start(submission(f"wf-{n}")) for n in range(3)]
        claim = c.Claim(member="wang", unit="Party branch 1")
        await on_time.execute_update("claim", claim, result_type=DemandStatus)
        await late.execute_update("claim", claim, result_type=DemandStatus)
        await env.sleep(timedelta(hours=30))  # `left_open` warns and is escalated to the street
        for handle in (on_time, late):
            if handle is late:
                await env.sleep(timedelta(hours=30))  # past the two-day handling limit
            await handle.execute_update("handle", c.Handle(member="wang", hours=2), result_type=DemandStatus)
            await handle.execute_update(
                "follow_up", c.FollowUp(worker="zhao", resolved=True), result_type=DemandStatus
            )
            await handle.execute_update(
                "evaluate", c.Evaluate(rating=Rating.SATISFIED), result_type=DemandStatus
            )
        horizon = await env.get_current_time()
        await asyncio.sleep(0.5)  # let the last timers' appends land
        system = System(stack.settings)
        collected = (horizon - timedelta(days=3)).astimezone(system.local_zone).date()
        period = Period.parse(f"{collected}..{horizon.astimezone(system.local_zone).date()}")
        same = await asyncio.to_thread(
            what_if, system, limits=LIMITS, points=load_points_policy(), period=period, scope=EVERYWHERE,
            horizon=horizon,
        )  # fmt: skip
        strict = await asyncio.to_thread(
            what_if, system, limits=stricter_limits(), points=load_points_policy(), period=period,
            scope=EVERYWHERE, horizon=horizon,
        )  # fmt: skip
    assert same.demands == 3
    assert same.real.ever_overdue == 2  # the workflow's own timers: `left_open` and `late`
    assert same.whatif == same.real
    assert same.changes == []
    assert strict.whatif.ever_overdue == 3
    assert {change.demand_id for change in strict.changes} >= {on_time.id}
