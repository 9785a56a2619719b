"""Each command is spelled once: its payload names its update, and the workflow and the CLI agree."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.workflow import _Definition

from adapters.cli import app
from engine import commands as c
from engine.demand import MicroDemand
from engine.lifecycle import TRANSITIONS
from projections.index.projection import DemandIndexProjection
from projections.projection import UnhandledEventError
from workflows.demand import MicroDemandWorkflow

DEFINITION = _Definition.from_class(MicroDemandWorkflow)


def cli_verbs() -> set[str]:
    """Every verb of the `microdemand` command."""
    import typer.main

    return set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def test_the_workflow_takes_every_update_and_signal_raw_and_reads_them_by_the_payload_table() -> None:
    """One dynamic update and one dynamic signal handler: the tables in engine.commands are the list."""
    assert DEFINITION.name is None  # registered dynamically, so even its start input arrives raw
    assert set(DEFINITION.updates) == {None}
    assert set(DEFINITION.signals) == {None}
    assert set(c.UPDATES) == {
        "dispatch", "claim", "release", "handle", "follow_up", "evaluate", "withdraw", "escalate",
        "transfer", "reassign", "extend", "merge", "commend", "complain",
    }  # fmt: skip
    assert set(c.SIGNALS) == {"submit", "supplement", "withdrawal", "evaluation", "complaint"}


def test_every_update_has_a_cli_verb_of_the_same_name() -> None:
    missing = {name.replace("_", "-") for name in c.UPDATES} - cli_verbs()
    assert not missing, f"updates without a CLI verb: {sorted(missing)}"


def test_every_command_asks_for_a_step_of_the_transition_table() -> None:
    for payload in (*c.UPDATES.values(), *c.SIGNALS.values()):
        step = payload.model_fields["step"].default
        assert step in TRANSITIONS, payload


class _Unheard(MicroDemand.Event):  # type: ignore[name-defined,misc]
    """An event of the aggregate that no read model has heard of."""


def test_the_index_refuses_loudly_an_event_of_the_aggregate_it_cannot_place() -> None:
    projection: Any = DemandIndexProjection.__new__(DemandIndexProjection)
    event = _Unheard.model_construct()
    with pytest.raises(UnhandledEventError, match="no handler for _Unheard events"):
        projection.process_event(event, 1)


def test_every_event_of_the_aggregate_has_an_index_handler_or_moves_the_row_by_its_step_on_purpose() -> None:
    from engine.demand import EVENT_STEPS
    from projections.index.projection import MOVED_BY_STEP

    registry = DemandIndexProjection.__dict__["process_event"].dispatcher.registry
    handled = {cls.__name__ for cls in registry}
    assert handled.isdisjoint(MOVED_BY_STEP)
    assert set(EVENT_STEPS) <= handled | MOVED_BY_STEP
