"""Options and arguments that several verbs share, declared once."""

from __future__ import annotations

from typing import Annotated

import typer

Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]
DemandId = Annotated[str, typer.Argument(help="The demand id, e.g. demand-wechat-1024.")]
Actor = Annotated[str, typer.Option("--as", help="The operator acting (recorded for accountability).")]
ScopeOption = Annotated[
    str | None,
    typer.Option("--scope", help="all, or one place: grid:G, community:C, street:S, district:D or city:X."),
]
Reason = Annotated[str, typer.Option(help="Why (recorded).")]
