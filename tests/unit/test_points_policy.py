"""The points policy: prices, splits, dual points, versions by closing day, and refused files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.settings import Settings
from engine.policies.files import PolicyError
from engine.policies.points import BasePost, ClosedDemand, from_tenths, load_points_policy, to_tenths
from engine.vocabulary import AccountKind, Outcome, Priority

CST = timezone(timedelta(hours=8))
DEFAULT = load_points_policy()
SHIPPED = (Path(__file__).parents[2] / "engine" / "policies" / "points.toml").read_text("utf-8")
SECOND_VERSION = """
[[versions]]
version = "2026.2"
effective_from = 2026-07-01
points_per_hour = 2
commendation = 2
unlisted_post = 1
unit_share_percent = 30
priority = { general = 1, important = 1.5, major = 2 }
rating = { satisfied = 2, basically_satisfied = 1, unsatisfied = -2, not_rated = -1 }
split = { method = "lead_share", lead_share_percent = 40 }

[versions.posts]
party_building = 3
policy_explanation = 2
mediation_security = 4
civilisation_practice = 2
convenience_services = 2
environment = 5
care_assistance = 3
culture_sports = 2
"""
MID_YEAR = SHIPPED + SECOND_VERSION
"""The shipped policy, then from 1 July: more per hour, environment raised, lead share 40%."""


def demand(**changes: object) -> ClosedDemand:
    facts: dict[str, object] = {
        "demand_id": "demand-wechat-1", "post": "environment", "priority": Priority.GENERAL,
        "member": "wang", "unit": "Party branch 1", "hours": Decimal("2"), "outcome": Outcome.SATISFIED,
        "closed_at": datetime(2026, 10, 5, 9, tzinfo=CST),
    }  # fmt: skip
    return ClosedDemand.model_validate({**facts, **changes})


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "points.toml"
    path.write_text(text, "utf-8")
    return path


def test_default_policy_prices_every_base_post_and_some_x_posts() -> None:
    version = DEFAULT.in_force(datetime(2026, 10, 5, tzinfo=UTC))
    assert {p.value for p in BasePost} == set(version.posts.model_dump())
    assert version.post_points("mediation_security") == Decimal(4)
    assert version.post_points("technical_service") == Decimal(3)
    assert version.post_points("knitting") == version.post_points(None) == version.unlisted_post


def test_a_demand_is_priced_by_post_hours_priority_rating_and_commendations() -> None:
    # (environment 2 + 1.5h x 1) x important 1.5 + satisfied 2 + one commendation 2 = 9.25 -> 9.3
    award = DEFAULT.award(demand(priority=Priority.IMPORTANT, hours=Decimal("1.5"), commendations=1))
    assert award.total == 93
    assert award.version == "2026.1"
    members = {e.account: e.tenths for e in award.entries if e.kind is AccountKind.MEMBER}
    units = {e.account: e.tenths for e in award.entries if e.kind is AccountKind.UNIT}
    assert members == {"wang": 93}
    assert units == {"Party branch 1": 47}  # half of 9.3, rounded half up: dual points


def test_unrated_close_withholds_and_a_total_never_goes_below_zero() -> None:
    assert DEFAULT.award(demand(outcome=Outcome.NOT_RATED)).total == 30  # 2 + 2 - 1
    nothing = demand(post=None, hours=Decimal(0), outcome=Outcome.UNSATISFIED)
    assert DEFAULT.award(nothing).total == 0
    assert DEFAULT.award(nothing).entries == ()


def test_group_claim_with_lead_share_gives_the_lead_their_share_and_the_rest_equally(tmp_path: Path) -> None:
    policy = load_points_policy(write(tmp_path, MID_YEAR))
    award = policy.award(
        demand(co_claimants=("li", "zhou"), hours=Decimal(3), closed_at=datetime(2026, 8, 1, tzinfo=CST))
    )
    # (environment 5 + 3h x 2) x 1 + 2 = 13.0; lead 40% = 5.2, then 3.9 each
    shares = {e.account: e.tenths for e in award.entries if e.kind is AccountKind.MEMBER}
    assert shares == {"wang": 52, "li": 39, "zhou": 39}
    assert [e.tenths for e in award.entries if e.kind is AccountKind.UNIT] == [39]  # 30%


def test_the_version_in_force_on_the_local_closing_day_applies(tmp_path: Path) -> None:
    policy = load_points_policy(write(tmp_path, MID_YEAR))
    before = datetime(2026, 6, 30, 23, 30, tzinfo=CST)
    after = datetime(2026, 6, 30, 16, 10, tzinfo=UTC)  # already 1 July in Karamay's time zone
    assert policy.in_force(before).version == "2026.1"
    assert policy.in_force(after).version == "2026.2"
    assert policy.in_force(datetime(2020, 1, 1, tzinfo=UTC)).version == "2026.1"  # the first covers earlier
    assert policy.award(demand(closed_at=before)).total == 60  # 2 + 2h x 1 + 2
    assert policy.award(demand(closed_at=after)).total == 110  # 5 + 2h x 2 + 2


@given(
    total=st.integers(min_value=0, max_value=10_000_000),
    group=st.lists(
        st.sampled_from(["wang", "li", "zhou", "sun", "wu", "zheng", "feng"]), min_size=1, max_size=7
    ),
    method=st.sampled_from(["equal", "lead_share"]),
    lead_percent=st.integers(min_value=0, max_value=100),
)
def test_group_shares_always_sum_to_the_total_and_are_never_negative(
    total: int, group: list[str], method: str, lead_percent: int
) -> None:
    version = DEFAULT.versions[0].model_copy(
        update={
            "split": DEFAULT.versions[0].split.model_copy(
                update={"method": method, "lead_share_percent": lead_percent}
            )
        }
    )
    shares = version.shares(total, group)
    assert sum(shares.values()) == total
    assert set(shares) == set(group)
    assert all(share >= 0 for share in shares.values())
    equal_part = [shares[m] for m in dict.fromkeys(group)][0 if method == "equal" else 1 :]
    if equal_part:
        assert max(equal_part) - min(equal_part) <= 1  # shared equally, to the tenth


@given(
    hours=st.decimals(min_value=0, max_value=1000, places=2),
    commendations=st.integers(min_value=0, max_value=20),
    priority=st.sampled_from(list(Priority)),
    outcome=st.sampled_from([o for o in Outcome if o.closes]),
    post=st.sampled_from([*(p.value for p in BasePost), "technical_service", "knitting", None]),
    co_claimants=st.lists(st.sampled_from(["li", "zhou", "sun"]), max_size=3, unique=True),
)
def test_members_entries_add_up_to_the_demand_total_and_the_unit_earns_its_share(
    hours: Decimal,
    commendations: int,
    priority: Priority,
    outcome: Outcome,
    post: str | None,
    co_claimants: list[str],
) -> None:
    facts = demand(
        hours=hours, commendations=commendations, priority=priority, outcome=outcome, post=post,
        co_claimants=tuple(co_claimants),
    )  # fmt: skip
    award = DEFAULT.award(facts)
    assert award.total >= 0
    assert sum(e.tenths for e in award.entries if e.kind is AccountKind.MEMBER) == award.total
    units = [e.tenths for e in award.entries if e.kind is AccountKind.UNIT]
    assert sum(units) == DEFAULT.versions[0].unit_share(award.total)
    assert all(e.tenths > 0 for e in award.entries)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_tenths_round_trip_exactly(tenths: int) -> None:
    assert to_tenths(from_tenths(tenths)) == tenths


def test_amounts_finer_than_a_tenth_are_refused() -> None:
    with pytest.raises(ValueError, match="tenths"):
        to_tenths(Decimal("1.25"))


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda t: t.replace("environment = 2\n", ""), "versions.0.posts.environment"),
        (lambda t: t.replace("major = 2", "major = 0"), "versions.0.priority.major"),
        (lambda t: t.replace("points_per_hour = 1", "points_per_hour = 0.05"), "versions.0.points_per_hour"),
        (lambda t: t.replace('method = "equal"', 'method = "by_mood"'), "versions.0.split.method"),
        (lambda t: t.replace("elderly_care = 3", "environment = 3"), "versions.0.x_posts"),
        (lambda t: t.replace('"Asia/Shanghai"', '"Mars/Olympus"'), "timezone"),
        (lambda t: t.replace("unit_share_percent = 50", "unit_share_percent = 150"), "unit_share_percent"),
    ],
)
def test_an_invalid_policy_file_is_refused_naming_the_field(
    tmp_path: Path, edit: Callable[[str], str], field: str
) -> None:
    path = write(tmp_path, edit(SHIPPED))
    with pytest.raises(PolicyError, match=field.replace(".", r"\.")):
        load_points_policy(path)


def test_versions_out_of_order_are_refused(tmp_path: Path) -> None:
    swapped = MID_YEAR.replace("effective_from = 2026-07-01", "effective_from = 2025-07-01")
    with pytest.raises(PolicyError, match="oldest first"):
        load_points_policy(write(tmp_path, swapped))


def test_unreadable_and_malformed_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read points policy"):
        load_points_policy(tmp_path / "missing.toml")
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_points_policy(write(tmp_path, "versions = ["))


def test_a_deployment_points_the_environment_at_its_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MICRODEMAND_POINTS_FILE", str(write(tmp_path, MID_YEAR)))
    configured = Settings(_env_file=None).points_policy  # type: ignore[call-arg]
    assert [v.version for v in configured.versions] == ["2026.1", "2026.2"]
    monkeypatch.delenv("MICRODEMAND_POINTS_FILE")
    assert Settings(_env_file=None).points_policy == DEFAULT  # type: ignore[call-arg]
