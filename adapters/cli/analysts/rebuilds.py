"""`replay`: rebuild views from event zero beside the live ones, verify them row by row, swap them in."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from adapters.cli.options import Json
from adapters.cli.output import console, fail, print_json, progress_bars, table
from engine.vocabulary import Act

if TYPE_CHECKING:
    from adapters.replay import Rebuilt, Verified

app = typer.Typer()
PANEL = "Analysts"


class ViewName(StrEnum):
    """The views a replay can rebuild, as people call them."""

    INDEX = "index"
    POINTS = "points"

    @property
    def view(self) -> str:
        """The view's own name (its tables' prefix)."""
        return "demand_index" if self is ViewName.INDEX else "points"


@app.command(rich_help_panel=PANEL)
def replay(
    views: Annotated[
        list[ViewName] | None,
        typer.Option("--view", help="Rebuild only this view (repeat for more); default: all."),
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(
            help="Compare each rebuilt view with the live one row by row, at the live view's position; "
            "exit 1 naming every row that differs."
        ),
    ] = False,
    swap: Annotated[
        bool,
        typer.Option(
            help="Make the rebuilt views live (after --verify, only if they are equal). The live views' "
            "writer must be stopped: `microdemand up` or `projections`."
        ),
    ] = False,
    as_json: Json = False,
) -> None:
    """Rebuild views from event zero into fresh tables while the live ones keep serving.

    A view whose code changed is rebuilt this way, never patched by hand. A progress bar shows the
    rebuild; a summary says how many events, how fast, how long. The rebuilt tables are
    `<view>_<part>_rebuild` beside the live ones, until --swap makes them live.
    """
    from adapters.cli.runtime import allowed, store_system
    from adapters.replay import LiveViewMovingError, RebuildFailedError, make_live, rebuild_all, specs_named
    from adapters.replay import verify as compare
    from projections.database import WriterBusyError

    allowed(Act.REBUILD)
    current = store_system()
    specs = specs_named(current, [v.view for v in views or []])
    done: list[Rebuilt] = []
    checked: list[Verified] = []
    try:
        with progress_bars("rebuilding") as advance:
            if verify:
                for spec in specs:
                    checked.append(compare(current, spec, on_progress=advance))
                    done.append(checked[-1].rebuilt)
            else:
                done.extend(rebuild_all(current, specs, on_progress=advance))  # a process per view
            differ = any(v.differences for v in checked)
            if swap and not differ:
                for spec in specs:
                    make_live(current, spec, on_progress=advance)
    except (RebuildFailedError, WriterBusyError) as error:
        fail(str(error), 1)
    except LiveViewMovingError as error:
        fail(str(error), 2)
    _report(done, checked, swapped=swap and not differ, as_json=as_json)
    if differ:
        raise typer.Exit(1)


def _report(done: list[Rebuilt], checked: list[Verified], *, swapped: bool, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "rebuilt": [
                    {**r.model_dump(), "events_per_second": round(r.events_per_second)} for r in done
                ],
                "verified": [
                    {"view": v.view, "position": v.position, "differences": [str(d) for d in v.differences]}
                    for v in checked
                ],
                "swapped": swapped,
            }
        )
        return
    if done:
        console.print(
            table(
                "Rebuilt from event zero" + (", and made live" if swapped else ""),
                ["view", "events", "events/s", "time", "position"],
                (
                    (r.view, r.events, round(r.events_per_second), f"{r.seconds:.1f}s", r.position)
                    for r in done
                ),
            )
        )
    for verified in checked:
        if not verified.differences:
            console.print(
                f"{verified.view}: the rebuild equals the live view at position {verified.position}"
            )
            continue
        console.print(
            f"{verified.view}: {len(verified.differences)} rows differ at position {verified.position}"
        )
        for difference in verified.differences:
            console.print(f"  {difference}", highlight=False, markup=False)
