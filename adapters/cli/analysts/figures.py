"""`rates` (now, or as of a moment) and `whatif` (a period under other policies, beside the real figures)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adapters.cli.options import AsOf, Json, ScopeOption
from adapters.cli.output import console, fail, local, percent, print_json, progress_bar, table
from adapters.cli.runtime import index_view_at, moment, period, places, store_system, system
from engine.vocabulary import Act

if TYPE_CHECKING:
    from adapters.whatif import DemandStanding, Figures, WhatIf
    from projections.index.models import RateRow

app = typer.Typer()
PANEL = "Analysts"

PeriodOption = Annotated[
    str | None,
    typer.Option("--period", help="Only demands collected in 2026, 2026-Q3, 2026-10 or a range A..B."),
]


@app.command(rich_help_panel=PANEL)
def rates(
    by: Annotated[
        str | None,
        typer.Option(
            help="Group by grid, community, street, district, city, channel, category, priority, post "
            "or level (the rung a demand stands at)."
        ),
    ] = None,
    per: Annotated[
        str | None, typer.Option(help="Break down per day, week, month or year of collection.")
    ] = None,
    period_text: PeriodOption = None,
    scope_text: ScopeOption = None,
    as_of_text: AsOf = None,
    as_json: Json = False,
) -> None:
    """Collected, claimed, closed; claim, completion, on-time and satisfaction rates.

    With --as-of T, the figures the live view showed at T: the events up to T are projected into a
    throw-away view (a progress bar shows it) and asked the same query at T.
    """
    current = store_system()
    offset = current.utc_offset
    since = until = None
    if period_text is not None:
        since, until = period(period_text).window(current.local_zone)
    at = moment(as_of_text) if as_of_text is not None else None
    wanted = places(Act.FIGURES, scope_text)
    with index_view_at(at) as index:
        try:
            rows = index.rates(
                by=by, per=per, since=since, until=until, scope=wanted, utc_offset=offset, now=at
            )
        except ValueError as error:
            fail(str(error), 2)
    if as_json:
        print_json(rows)
        return
    title = "Rates" + (f" by {by}" if by else "") + (f" per {per}" if per else "")
    title += (f", {period_text}" if period_text else "") + _as_of_title(at)
    console.print(_rates_table(title, rows, by is not None, per is not None))


def _as_of_title(at: datetime | None) -> str:
    if at is None:
        return ""
    return f", as of {local(at, system().local_zone):%Y-%m-%d %H:%M} ({system().zone_label})"


def _rates_table(title: str, rows: list[RateRow], by: bool, per: bool) -> Any:
    figures = ["collected", "claimed", "closed", "withdrawn", "merged", "claim%", "done%", "on-time%",
               "satisf%", "escal.", "overdue"]  # fmt: skip
    labels = (["group"] if by else []) + (["period"] if per else [])
    return table(
        title,
        labels + figures,
        (
            ([r.key] if by else [])
            + ([r.period] if per else [])
            + [
                r.collected,
                r.claimed,
                r.closed,
                r.withdrawn,
                r.merged,
                percent(r.claim_rate),
                percent(r.completion_rate),
                percent(r.on_time_rate),
                percent(r.satisfaction_rate),
                r.escalations,
                r.open_overdue,
            ]
            for r in rows
        ),
    )


@app.command(rich_help_panel=PANEL)
def whatif(
    period_text: Annotated[str, typer.Option("--period", help="The demands collected in 2025, 2025-Q3 ...")],
    timelimits: Annotated[
        Path | None, typer.Option(help="Another time-limit policy (TOML); default: the one in force.")
    ] = None,
    points: Annotated[
        Path | None, typer.Option(help="Another points policy (TOML); default: the one in force.")
    ] = None,
    scope_text: ScopeOption = None,
    as_of_text: AsOf = None,
    top: Annotated[
        int, typer.Option(min=0, max=1000, help="How many of the most changed demands to list.")
    ] = 10,
    as_json: Json = False,
) -> None:
    """Replay a period's demands under other policies: the figures they would have given, beside the real.

    What people did (claims, handling, follow-ups, ratings, operators' escalations, transfers and
    extensions, withdrawals, merges) stays as it happened; what the timers did (warnings, overdue
    marks, automatic escalations, closing unrated) is worked out again under the other time limits,
    by the workflow's own rule. Points are priced by the other points policy. The live views are
    not touched: both sides are projected into throw-away views and asked the same queries.
    """
    from adapters.whatif import what_if
    from engine.policies.files import PolicyError
    from engine.policies.points import load_points_policy
    from engine.policies.timelimits import load_time_limits

    current = store_system()
    try:
        limits = load_time_limits(timelimits) if timelimits else current.time_limits
        policy = load_points_policy(points) if points else current.points_policy
    except PolicyError as error:
        fail(str(error), 2)
    horizon = moment(as_of_text) if as_of_text is not None else datetime.now(UTC)
    with progress_bar("re-simulating the period's demands") as advance:
        result = what_if(
            current, limits=limits, points=policy, period=period(period_text),
            scope=places(Act.FIGURES, scope_text), horizon=horizon, top=top, on_progress=advance,
        )  # fmt: skip
    if as_json:
        print_json(result)
        return
    _show_whatif(result)


def _show_whatif(result: WhatIf) -> None:
    where = "everywhere" if result.scope == "all" else result.scope
    title = f"What if: {result.demands} demands collected in {result.period}, {where}"
    console.print(
        table(title + _as_of_title(result.horizon), ["", "real", "what if", "change"], _compare(result))
    )
    if result.changes:
        console.print(
            table(
                f"The {len(result.changes)} demands whose outcome changes most",
                ["demand", "title", "real", "what if", "facts no longer taken"],
                (
                    (
                        c.demand_id,
                        c.title,
                        _standing(c.real),
                        _standing(c.whatif),
                        "; ".join(c.refused) or "-",
                    )
                    for c in result.changes
                ),
            )
        )
    else:
        console.print("no demand's outcome changes")


def _compare(result: WhatIf) -> list[tuple[str, Any, Any, Any]]:
    def row(name: str, pick: Any, as_percent: bool = False) -> tuple[str, Any, Any, Any]:
        real, other = pick(result.real), pick(result.whatif)
        if as_percent:
            change = "-" if real is None or other is None else f"{(other - real) * 100:+.1f} pts"
            return name, percent(real), percent(other), change
        return name, real, other, f"{other - real:+g}"

    def points(f: Figures, unit: bool = False) -> float:
        return (f.unit_tenths if unit else f.member_tenths) / 10

    return [
        row("on-time rate", lambda f: f.rates.on_time_rate, as_percent=True),
        row("completion rate", lambda f: f.rates.completion_rate, as_percent=True),
        row("closed", lambda f: f.rates.closed),
        row("closed on time", lambda f: f.rates.closed_on_time),
        row("demands ever overdue", lambda f: f.ever_overdue),
        row("overdue marks", lambda f: f.overdue_marks),
        row("open and overdue then", lambda f: f.rates.open_overdue),
        row("escalations by the timers", lambda f: f.escalated_by_timer),
        row("escalations by hand", lambda f: f.escalated_by_hand),
        row("members' points", points),
        row("units' points", lambda f: points(f, unit=True)),
    ]


def _standing(standing: DemandStanding) -> str:
    timing = {None: "", True: " on time", False: " late"}[standing.on_time]
    state = standing.state + timing
    return (
        f"{state}, {standing.escalations} escal., {standing.overdue_marks} overdue, "
        f"{standing.member_tenths / 10:g} pts"
    )
