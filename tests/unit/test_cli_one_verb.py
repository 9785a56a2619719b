"""A call runs the app holding only the verb it names, that verb built exactly as the whole app builds it."""

from __future__ import annotations

from typing import Any

import typer.main

from adapters.cli import app, command_for, verbs

SKIPPED = ("callback", "_runtime_param", "type_descriptor")
"""Attributes made anew for each build (functions, caches): not what the verb is."""


def shape(command: Any) -> tuple[Any, ...]:
    """What a built click command is: its name, help, panel, every parameter, and its own verbs."""
    params = [{k: repr(v) for k, v in vars(p).items() if k not in SKIPPED} for p in command.params]
    own = getattr(command, "commands", {})
    return (
        command.name, command.help, command.short_help, command.hidden, command.no_args_is_help,
        getattr(command, "rich_help_panel", None), params, {k: shape(v) for k, v in own.items()},
    )  # fmt: skip


def test_every_verb_is_found_and_alone_is_built_as_in_the_whole_app() -> None:
    whole = typer.main.get_command(app)
    everything = whole.commands  # type: ignore[attr-defined]
    assert set(dict(verbs())) == set(everything)
    for name, command in everything.items():
        alone = typer.main.get_command(command_for([name, "--help"]))
        assert list(alone.commands) == [name]  # type: ignore[attr-defined]
        assert shape(alone.commands[name]) == shape(command), name  # type: ignore[attr-defined]
        assert shape(alone)[:6] == shape(whole)[:6]  # the same program: name, help, settings


def test_no_verb_named_runs_the_whole_app() -> None:
    for args in ([], ["--help"], ["demandz"], ["-x", "demands"]):
        assert command_for(args) is app
