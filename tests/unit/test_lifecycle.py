"""The transition table: what may follow what, and how a refusal reads."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import lifecycle
from engine.lifecycle import FINAL, OPEN, State, Step, TransitionRefused


def test_happy_path_follows_the_closed_loop() -> None:
    state = State.NEW
    for step in (
        Step.COLLECT,
        Step.DISPATCH,
        Step.CLAIM,
        Step.HANDLE,
        Step.FOLLOW_UP,
        Step.EVALUATE,
        Step.CLOSE,
    ):
        lifecycle.check("d", state, step)
        state = lifecycle.next_state(state, step)
    assert state is State.CLOSED


@pytest.mark.parametrize(
    ("state", "step"),
    [
        (State.CLAIMED, Step.CLAIM),
        (State.COLLECTED, Step.HANDLE),
        (State.CLAIMED, Step.EVALUATE),
        (State.HANDLED, Step.EVALUATE),
        (State.CLOSED, Step.CLAIM),
        (State.WITHDRAWN, Step.WITHDRAW),
        (State.NEW, Step.CLAIM),
        (State.COLLECTED, Step.RELEASE),
    ],
)
def test_refused_steps_name_demand_state_and_step(state: State, step: Step) -> None:
    with pytest.raises(TransitionRefused) as refusal:
        lifecycle.check("demand-wechat-7", state, step)
    message = str(refusal.value)
    assert "demand-wechat-7" in message
    assert state.value in message
    assert step.value.replace("_", "-") in message


@given(st.sampled_from(list(State)), st.sampled_from(list(Step)))
def test_a_step_is_allowed_exactly_when_check_passes(state: State, step: Step) -> None:
    allowed = lifecycle.allows(state, step)
    try:
        lifecycle.check("d", state, step)
    except TransitionRefused:
        assert not allowed
    else:
        assert allowed
        assert lifecycle.next_state(state, step) in set(State) - {State.NEW}


@given(st.lists(st.sampled_from(list(Step)), max_size=40))
def test_no_sequence_of_allowed_steps_leaves_a_final_state_except_by_reopen(steps: list[Step]) -> None:
    state = State.NEW
    for step in steps:
        if not lifecycle.allows(state, step):
            continue
        before = state
        state = lifecycle.next_state(state, step)
        if before in FINAL:
            assert step is Step.REOPEN
            assert before is State.CLOSED
        if before is State.NEW:
            assert state is State.COLLECTED


def test_final_states_take_no_step_but_a_reopen_of_a_closed_demand() -> None:
    for state in FINAL:
        steps = lifecycle.allowed_steps(state)
        assert steps == ([Step.REOPEN, Step.COMMEND] if state is State.CLOSED else [])
    assert State.EVALUATED in OPEN


def test_a_reopen_asked_for_is_a_complaint_about_a_closed_demand_only() -> None:
    assert [s for s in State if lifecycle.allows(s, Step.REOPEN)] == [State.CLOSED]
    with pytest.raises(TransitionRefused, match="is followed_up: cannot reopen, only when closed"):
        lifecycle.check("d", State.FOLLOWED_UP, Step.REOPEN)
    assert lifecycle.next_state(State.CLOSED, Step.REOPEN) is State.CLAIMED


def test_the_promise_runs_from_collection_until_the_demand_is_handled() -> None:
    assert {State.COLLECTED, State.DISPATCHED, State.CLAIMED} == lifecycle.PROMISED
    assert lifecycle.PROMISED <= OPEN
    assert lifecycle.next_state(State.CLAIMED, Step.HANDLE) not in lifecycle.PROMISED
