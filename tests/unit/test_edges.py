"""What crosses the edge is made harmless where it lands: a terminal table, a message quoting what a
sender chose, the store's settings."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pydantic import ValidationError
from rich.console import Console

from adapters.cli.output import cell, table
from engine.application import Demands
from engine.commands import Submission
from engine.values import clean_line, field_errors


def test_a_table_cell_shows_terminal_escapes_and_markup_as_text_never_acting_on_them() -> None:
    hostile = "\x1b[2J\x00[bold red]boom[/] \u202eevil"
    shown = cell(hostile)
    assert "\x1b" not in shown
    assert "\x00" not in shown
    assert "\u202e" not in shown
    assert "\\x1b[2J" in shown
    screen = io.StringIO()
    Console(file=screen, width=200, color_system=None).print(table("t", ["title"], [[hostile]]))
    printed = screen.getvalue()
    assert "\x1b" not in printed
    assert "[bold red]boom[/]" in printed  # shown as typed, not taken as markup


def test_a_message_quoting_a_senders_field_names_is_printable_and_bounded() -> None:
    hostile = {f"k{n}\x00\x1b[2J" + "x" * 5000: 1 for n in range(50)}
    with pytest.raises(ValidationError) as refused:
        Submission.model_validate(hostile)
    said = field_errors(refused.value)
    assert "\x00" not in said
    assert "\x1b" not in said
    assert len(said) < 4000
    assert said.endswith("more")  # the rest counted, not listed
    assert clean_line("a\nb\x00c" + "d" * 50, 10) == "a bc" + "d" * 5 + "…"


def test_the_store_takes_its_settings_from_the_composition_root_not_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DEMANDS_PERSISTENCE_MODULE", "eventsourcing.popo")
    monkeypatch.setenv("PERSISTENCE_MODULE", "eventsourcing.popo")
    path = f"{tmp_path}/events.db"
    store = Demands(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path})
    try:
        assert type(store.recorder).__module__ == "eventsourcing.sqlite"
    finally:
        store.close()
