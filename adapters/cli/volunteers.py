"""Verbs for volunteers and their units: `points`, `redeem`, `ranking`."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adapters.cli.options import AsOf, Json, ScopeOption
from adapters.cli.output import console, fail, print_json, table
from adapters.cli.runtime import allowed, moment, period, places, points_view_at, services, store_system

if TYPE_CHECKING:
    from engine.vocabulary import AccountKind
    from projections.points.models import LedgerEntry

app = typer.Typer()
PANEL = "Volunteers and units"


class By(StrEnum):
    """Whom a ranking ranks."""

    MEMBER = "member"
    UNIT = "unit"


@app.command(
    "points",
    rich_help_panel=PANEL,
    help="Show a member's time-bank balance, their ledger (earnings, reversals) and their redemptions; "
    "or, with --unit, a unit's account: the dual points its members earned it."
    "\n\nEarned points come from the points ledger (closed demands, minus reversals: a late complaint "
    "that reopens a demand takes its points back, and they are earned again when it closes). The "
    "balance is earned minus redeemed and never below zero; `owed` is points already redeemed that a "
    "later reversal took back, which future earnings pay off first. A name the ledger and the time "
    "bank have never heard of is said to be unknown.",
)
def points(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="The member's (or unit's) name, as claims record it.")
    ],
    unit: Annotated[bool, typer.Option("--unit", help="NAME is a unit: show its dual points.")] = False,
    recent: Annotated[int, typer.Option(min=0, max=200, help="How many recent entries to show.")] = 10,
    as_of_text: AsOf = None,
    as_json: Json = False,
) -> None:
    """Show a member's balance, ledger and redemptions, or a unit's dual points."""
    from engine.access import Act
    from engine.vocabulary import AccountKind

    kind = AccountKind.UNIT if unit else AccountKind.MEMBER
    allowed(Act.POINTS, account=None if unit else name)  # a member sees only their own account
    at = moment(as_of_text) if as_of_text is not None else None
    when = f", as of {as_of_text}" if as_of_text else ""
    _known_or_fail(kind, name)  # known today: as of an earlier moment, an account may still be empty
    with points_view_at(at) as ledger:
        entries = ledger.recent(kind, name, recent)
        if unit:
            _show_unit(name, ledger.earned_by(kind, name), entries, when, as_json)
            return
        with store_system().time_bank(ledger) as bank:
            redemptions = [r for r in bank.redemptions(name) if at is None or r.at <= at]
            if at is None:
                balance = bank.balance(name)
            else:
                from adapters.timetravel import balance_as_of

                balance = balance_as_of(store_system(), ledger, name, at)
    if as_json:
        print_json(
            {
                **balance.model_dump(mode="json"),
                "recent": [e.model_dump(mode="json") for e in entries],
                "redemptions": [r.model_dump(mode="json") for r in redemptions],
            }
        )
        return
    console.print(
        table(
            f"Time bank: {name}{when}",
            ["balance", "earned", "redeemed", "owed"],
            [(balance.balance, balance.earned, balance.redeemed, balance.owed)],
        )
    )
    console.print(_entries_table("Recent ledger entries", entries))
    console.print(
        table(
            "Redemptions",
            ["when", "points", "for"],
            ((r.at, -r.points, r.for_what) for r in reversed(redemptions[-recent:] if recent else [])),
        )
    )


def _known_or_fail(kind: AccountKind, name: str) -> None:
    """One line and exit 1 for a name the ledger and the time bank have never heard of."""
    from adapters.services import UnknownAccountError

    with store_system().points_view() as ledger:
        try:
            services().known_account(ledger, kind, name)
        except UnknownAccountError as unknown:
            fail(str(unknown), 1)


def _entries_table(title: str, entries: list[LedgerEntry]) -> Any:
    return table(
        title,
        ["when", "demand", "points", "why", "policy"],
        ((e.at, e.demand_id, e.points, e.reason, e.version) for e in entries),
    )


def _show_unit(name: str, total: Decimal, entries: list[LedgerEntry], when: str, as_json: bool) -> None:
    if as_json:
        print_json(
            {"unit": name, "earned": str(total), "recent": [e.model_dump(mode="json") for e in entries]}
        )
        return
    console.print(table(f"Unit account{when}", ["unit", "earned (dual points)"], [(name, total)]))
    console.print(_entries_table("Recent ledger entries", entries))


@app.command("redeem", rich_help_panel=PANEL)
def redeem(
    member: Annotated[str, typer.Argument(metavar="MEMBER", help="The member redeeming points.")],
    amount: Annotated[str, typer.Argument(metavar="POINTS", help="Points to redeem, e.g. 12 or 12.5.")],
    for_what: Annotated[str, typer.Option("--for", help='What they are redeemed for, e.g. "a haircut".')],
    as_json: Json = False,
) -> None:
    """Redeem a member's points for a service or goods; refused if the balance would go negative."""
    from engine.timebank import InsufficientPointsError, InvalidAmountError, TimeBankBusyError

    if not for_what.strip():
        fail("say what the points are redeemed for with --for", 2)
    from engine.access import Act

    allowed(Act.REDEEM, account=member)
    with store_system().time_bank() as bank:
        try:
            balance = bank.redeem(member, amount, for_what.strip(), datetime.now(UTC))
        except InvalidAmountError as error:
            fail(str(error), 2)
        except (InsufficientPointsError, TimeBankBusyError) as error:
            fail(str(error), 1)
    if as_json:
        print_json(balance.model_dump(mode="json"))
    else:
        typer.echo(
            f"redeemed {amount} points for {for_what.strip()}; {member}'s balance is {balance.balance}"
        )


@app.command(
    "ranking",
    rich_help_panel=PANEL,
    help="Rank members or units by points earned in a period and place (for star ratings and awards)."
    "\n\nPoints count on the day their ledger entry was written: a demand's points on the day it "
    "closed, a reversal on the day it was reopened.",
)
def ranking(
    by: Annotated[By, typer.Option(help="Rank members, or their units (dual points).")] = By.MEMBER,
    scope_text: ScopeOption = None,
    period_text: Annotated[
        str | None,
        typer.Option(
            "--period", help="2026, 2026-Q3, 2026-10 or a range 2026-01..2026-06; default: this year."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many places to show.")] = 20,
    as_of_text: AsOf = None,
    as_json: Json = False,
) -> None:
    """Rank members or units by points earned in a period and place."""
    from engine.access import Act
    from engine.scope import named
    from engine.vocabulary import AccountKind

    wanted_period = period(period_text or str(datetime.now(UTC).year))
    wanted_scope = places(Act.POINTS, scope_text)
    at = moment(as_of_text) if as_of_text is not None else None
    with points_view_at(at) as view:
        standings = view.ranking(AccountKind(by.value), wanted_period, wanted_scope, limit)
    if as_json:
        print_json(
            [{**s.model_dump(mode="json", exclude={"tenths"}), "points": str(s.points)} for s in standings]
        )
        return
    where = named(wanted_scope)
    console.print(
        table(
            f"Points by {by.value}, {wanted_period.label}, {where}"
            + (f", as of {as_of_text}" if as_of_text else ""),
            ["rank", by.value, "points", "demands"],
            ((s.rank, s.account, s.points, s.demands) for s in standings),
        )
    )
