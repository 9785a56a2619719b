"""Options and arguments that several verbs share, declared once."""

from __future__ import annotations

from typing import Annotated

import typer

Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]
DemandId = Annotated[str, typer.Argument(help="The demand id, e.g. demand-wechat-1024.")]
ScopeOption = Annotated[
    str | None,
    typer.Option("--scope", help="all, or one place: grid:G, community:C, street:S, district:D or city:X."),
]
Reason = Annotated[str, typer.Option(help="Why (recorded).")]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="As things stood at this moment, rebuilt from the events up to it: 2026-03-01T09:00 "
        "(local time unless it names its offset) or a day, 2026-03-01 (its end).",
    ),
]
Reveal = Annotated[
    bool, typer.Option("--reveal", help="Include residents' names, phones and addresses (personal data).")
]
Why = Annotated[
    str,
    typer.Option(
        "--why", help="Why residents' personal data is needed (kept with the record of each reveal)."
    ),
]
