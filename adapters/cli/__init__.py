"""The `microdemand` command: one module per audience, verbs at module level, errors as one line."""

from __future__ import annotations

import copy
import logging
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from typer.models import TyperInfo

from adapters.bootstrap import is_store_error
from adapters.cli import admin, analysts, loop, operators, platform, running, volunteers
from adapters.cli.output import err_console
from adapters.cli.runtime import policies, store_error, system

if TYPE_CHECKING:
    from typer.models import CommandInfo

app = typer.Typer(
    name="microdemand",
    help=(
        "Closed-loop handling of residents' micro-demands: collect → claim → handle → "
        "follow up → evaluate. Settings come from MICRODEMAND_* environment variables."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
for audience in (loop, operators, analysts, volunteers, platform, running, admin):
    app.add_typer(audience.app)


LOGGING_VERBS = frozenset({"up", "worker", "projections", "seed", "api"})
"""Verbs that log as they run; the others print, and need not import structlog to start."""
VIEW_VERBS = frozenset({"status", "demands", "overdue", "rates", "points", "ranking"})
"""Verbs answered from the views, which use no policy: they need not read and validate the policy
files at start (as it stood at a moment, `--as-of`, they do before rebuilding the views)."""


@app.callback()
def _configure(ctx: typer.Context) -> None:
    from adapters.cli.output import use_local_time

    current = system()
    if ctx.invoked_subcommand not in VIEW_VERBS:
        policies()
    use_local_time(current.local_zone, current.zone_label)
    settings = current.settings
    if ctx.invoked_subcommand in LOGGING_VERBS:
        from engine.logs import configure_logging

        configure_logging(settings.log_format, settings.log_level)


def verbs(group: typer.Typer = app) -> Iterator[tuple[str, CommandInfo | TyperInfo]]:
    """Every verb of `group` (a command, or a group of them such as `identity`) and how it was
    declared, in typer's order: of two of a name, the later one is the verb."""
    for info in group.registered_commands:
        assert info.callback is not None
        yield info.name or typer.main.get_command_name(info.callback.__name__), info
    for added in group.registered_groups:
        assert added.typer_instance is not None
        name = typer.main.solve_typer_info_defaults(added).name
        if name:
            yield name, added
        else:  # an audience, added without a name: its verbs are the app's own
            yield from verbs(added.typer_instance)


def command_for(args: Sequence[str]) -> typer.Typer:
    """The app to run `args` with: the app holding only the verb they name, or (no verb named:
    help, a typo) the whole app. Typer builds the options of every verb it holds at each call,
    from their signatures: all of them are a tenth of a short verb's time, the one asked for is nothing."""
    if args and not args[0].startswith("-"):
        declared = dict(verbs()).get(args[0])
        if declared is not None:
            alone = copy.copy(app)  # the same name, help, callback and settings
            alone.registered_commands, alone.registered_groups = [], []
            if isinstance(declared, TyperInfo):
                alone.registered_groups.append(declared)
            else:
                alone.registered_commands.append(declared)
            return alone
    return app


def main() -> None:
    """Entry point of the `microdemand` script."""
    code: int = 0
    if sys.argv[1:2] and sys.argv[1] not in LOGGING_VERBS:
        # pydantic looks for plugins in every installed package's entry points at its first model
        # (5 ms a call); microdemand uses none. The long-running verbs still look, so a plugin a
        # deployment adds to the servers (tracing, say) is not turned off; a user's setting wins.
        os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        command_for(sys.argv[1:])()
    except SystemExit as done:
        if isinstance(done.code, str):
            print(done.code, file=sys.stderr)
        code = done.code if isinstance(done.code, int) else int(done.code is not None)
    except KeyboardInterrupt:
        code = 130
    except Exception as error:
        from adapters.bootstrap import StartupError
        from adapters.keys import KeyMissingError
        from engine.access import Forbidden
        from engine.policies.files import PolicyError
        from projections.database import WriterBusyError

        if isinstance(error, KeyMissingError | WriterBusyError | StartupError | PolicyError):
            err_console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
            code = 2
        elif isinstance(error, Forbidden):
            err_console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
            code = 3
        elif is_store_error(error):
            code = store_error(error)
        else:  # a defect, not a user's mistake: show everything
            traceback.print_exc()
            code = 1
    finally:
        # temporalio's Rust threads can outlive interpreter finalization and abort a short-lived
        # client process (temporalio/sdk-python#300); every store and server is closed by now,
        # so flush what we printed and skip the teardown.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
