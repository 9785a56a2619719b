"""The `microdemand` command: drive the closed loop, run the stack, read the figures."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import traceback
from typing import Annotated

import typer

from adapters import cli_loop, cli_operators, cli_points, cli_reports
from adapters.console import STORE_ERRORS, report_store_error, settings, store_settings
from engine.logs import configure_logging

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


@app.callback()
def _configure() -> None:
    configure_logging(settings().log_format, settings().log_level)


@app.command()
def up(
    embedded_temporal: Annotated[
        bool,
        typer.Option(
            "--embedded-temporal/--external-temporal",
            help="Start the dev server (default) or use MICRODEMAND_TEMPORAL_ADDRESS as it is.",
        ),
    ] = True,
) -> None:
    """Start the whole system in the foreground: Temporal dev server, worker, projections."""
    from adapters.stack import run_stack

    asyncio.run(run_stack(store_settings(), embedded_temporal=embedded_temporal))


@app.command()
def worker() -> None:
    """Run only a worker on the task queue (scale these out on a Temporal cluster)."""
    from adapters.stack import run_worker_only

    asyncio.run(run_worker_only(store_settings()))


@app.command()
def projections() -> None:
    """Run only the projection runners that keep the read views up to date."""
    from adapters.stack import run_projections

    asyncio.run(run_projections(store_settings()))


cli_loop.register(app)
cli_operators.register(app)
cli_reports.register(app)
cli_points.register(app, store_settings)


def main() -> None:
    """Entry point of the `microdemand` script."""
    code: int = 0
    try:
        app()
    except SystemExit as done:
        if isinstance(done.code, str):
            print(done.code, file=sys.stderr)
        code = done.code if isinstance(done.code, int) else int(done.code is not None)
    except KeyboardInterrupt:
        code = 130
    except STORE_ERRORS as error:
        code = report_store_error(error)
    except Exception:  # a defect, not a user's mistake: show everything
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
