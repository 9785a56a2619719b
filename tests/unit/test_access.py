"""The role matrix: each role against each command and read, and the limits of scope, holder and ownership."""

from __future__ import annotations

import pytest

from engine.access import MATRIX, Act, DemandSubject, Forbidden, Identity, Role, check, places
from engine.lifecycle import Step
from engine.scope import Scope
from engine.values import Location

XINHUA = Location(
    city="Karamay", district="Karamay District", street="Yingbin", community="Xinhua", grid="G1"
)
SANPING = Location(city="Karamay", district="Baijiantan", street="Sanping", community="Pingan", grid="G2")
IN_XINHUA = DemandSubject("demand-wechat-1", XINHUA, holders=("li",), residents=frozenset({"k-wang"}))
IN_SANPING = DemandSubject("demand-wechat-2", SANPING, holders=("zhou",), residents=frozenset({"k-ma"}))

PLATFORM = Identity(name="wechat-platform", role=Role.PLATFORM)
OPERATOR = Identity(name="op-zhang", role=Role.OPERATOR, scope=Scope.parse("street:Yingbin"))
MEMBER = Identity(name="li", role=Role.MEMBER, unit="Party branch 2")
ANALYST = Identity(name="an-chen", role=Role.ANALYST)
RESIDENT = Identity(name="wang", role=Role.RESIDENT, resident_key="k-wang")
ADMIN = Identity(name="admin", role=Role.ADMINISTRATOR)

# Who may do each thing at all (on a demand of their own, their scope or their account).
EXPECTED: dict[Step | Act, set[Role]] = {
    Step.COLLECT: {Role.PLATFORM, Role.OPERATOR, Role.ADMINISTRATOR},
    Step.AMEND: {Role.PLATFORM, Role.OPERATOR, Role.ADMINISTRATOR},
    Step.DISPATCH: {Role.OPERATOR, Role.ADMINISTRATOR},
    Step.CLAIM: {Role.OPERATOR, Role.MEMBER, Role.ADMINISTRATOR},
    Step.RELEASE: {Role.OPERATOR, Role.MEMBER, Role.ADMINISTRATOR},
    Step.HANDLE: {Role.OPERATOR, Role.MEMBER, Role.ADMINISTRATOR},
    Step.FOLLOW_UP: {Role.OPERATOR, Role.ADMINISTRATOR},
    Step.EVALUATE: {Role.PLATFORM, Role.OPERATOR, Role.RESIDENT, Role.ADMINISTRATOR},
    Step.WITHDRAW: {Role.PLATFORM, Role.OPERATOR, Role.RESIDENT, Role.ADMINISTRATOR},
    Step.SUPPLEMENT: {Role.PLATFORM, Role.OPERATOR, Role.RESIDENT, Role.ADMINISTRATOR},
    Step.REOPEN: {Role.PLATFORM, Role.OPERATOR, Role.RESIDENT, Role.ADMINISTRATOR},
    Step.COMMEND: {Role.PLATFORM, Role.OPERATOR, Role.RESIDENT, Role.ADMINISTRATOR},
    Step.ESCALATE: {Role.OPERATOR, Role.ADMINISTRATOR},
    Step.TRANSFER: {Role.OPERATOR, Role.ADMINISTRATOR},
    Step.REASSIGN: {Role.OPERATOR, Role.ADMINISTRATOR},
    Step.EXTEND: {Role.OPERATOR, Role.ADMINISTRATOR},
    Step.MERGE: {Role.OPERATOR, Role.ADMINISTRATOR},
    Act.READ: set(Role),
    Act.REVEAL: {Role.OPERATOR, Role.ADMINISTRATOR},
    Act.FIGURES: {Role.OPERATOR, Role.ANALYST, Role.ADMINISTRATOR},
    Act.POINTS: {Role.OPERATOR, Role.MEMBER, Role.ANALYST, Role.ADMINISTRATOR},
    Act.REDEEM: {Role.MEMBER, Role.ADMINISTRATOR},
    Act.REBUILD: {Role.ADMINISTRATOR},
    Act.MANAGE: {Role.ADMINISTRATOR},
    Act.FORGET: {Role.ADMINISTRATOR},
}
IDENTITIES = {i.role: i for i in (PLATFORM, OPERATOR, MEMBER, ANALYST, RESIDENT, ADMIN)}


@pytest.mark.parametrize("act", list(EXPECTED))
@pytest.mark.parametrize("role", list(Role))
def test_each_role_may_do_exactly_what_the_matrix_says(role: Role, act: Step | Act) -> None:
    identity = IDENTITIES[role]
    own = {Role.OPERATOR: IN_XINHUA, Role.RESIDENT: IN_XINHUA, Role.MEMBER: IN_XINHUA}.get(role)
    account = identity.name if role is Role.MEMBER else None
    if role in EXPECTED[act]:
        check(
            identity, act, demand=own if isinstance(act, Step) or act is Act.READ else None, account=account
        )
    else:
        with pytest.raises(Forbidden, match=f"{identity.name} .* may not"):
            check(identity, act)


def test_the_tested_table_covers_every_act_and_every_step_a_person_takes() -> None:
    people = {s for acts in MATRIX.values() for s in acts}
    assert people == set(EXPECTED)


def test_an_operator_acts_only_inside_their_scope() -> None:
    check(OPERATOR, Step.ESCALATE, demand=IN_XINHUA)
    with pytest.raises(Forbidden, match="demand-wechat-2: it lies outside street:Yingbin"):
        check(OPERATOR, Step.ESCALATE, demand=IN_SANPING)
    with pytest.raises(Forbidden, match="lies outside"):
        check(OPERATOR, Act.REVEAL, demand=IN_SANPING)


def test_a_member_cannot_escalate_or_evaluate_and_handles_only_what_they_hold() -> None:
    for act in (Step.ESCALATE, Step.EVALUATE, Act.REVEAL, Act.FIGURES):
        with pytest.raises(Forbidden):
            check(MEMBER, act, demand=IN_XINHUA)
    check(MEMBER, Step.HANDLE, demand=IN_XINHUA)  # li holds it
    with pytest.raises(Forbidden, match="they do not hold it"):
        check(MEMBER, Step.HANDLE, demand=IN_SANPING)


def test_only_the_member_or_an_administrator_redeems_a_members_points() -> None:
    check(MEMBER, Act.REDEEM, account="li")
    check(ADMIN, Act.REDEEM, account="li")
    with pytest.raises(Forbidden, match="only for their own account, not zhou's"):
        check(MEMBER, Act.REDEEM, account="zhou")
    for someone in (OPERATOR, ANALYST, PLATFORM, RESIDENT):
        with pytest.raises(Forbidden):
            check(someone, Act.REDEEM, account="li")


def test_a_resident_acts_only_on_their_own_demands() -> None:
    check(RESIDENT, Step.EVALUATE, demand=IN_XINHUA)
    with pytest.raises(Forbidden, match="only their own demands, not demand-wechat-2"):
        check(RESIDENT, Step.EVALUATE, demand=IN_SANPING)
    nobody = Identity(name="anon", role=Role.RESIDENT)  # no phone on record: owns nothing
    with pytest.raises(Forbidden):
        check(nobody, Act.READ, demand=IN_XINHUA)


def test_listings_are_limited_to_the_operators_place_and_to_what_was_asked() -> None:
    assert places(OPERATOR) == (Scope.parse("street:Yingbin"),)
    assert places(OPERATOR, Scope.parse("community:Xinhua")) == (
        Scope.parse("community:Xinhua"), Scope.parse("street:Yingbin")
    )  # fmt: skip
    assert places(ANALYST) == ()
    assert places(ANALYST, Scope.parse("grid:G1")) == (Scope.parse("grid:G1"),)
