"""Verbs for administrators: the first run's keys and identity, identities, tokens, the reveals kept."""

from __future__ import annotations

from typing import Annotated

import typer

from adapters.cli.options import Json, ScopeOption
from adapters.cli.output import console, fail, print_json, table
from adapters.cli.runtime import allowed, scope, store_system
from engine.vocabulary import Act, Role

app = typer.Typer()
identities = typer.Typer(help="Who the system knows: names, roles and, for operators, their place.")
tokens = typer.Typer(help="Bearer tokens: the CLI's and the HTTP API's way of saying who is asking.")
PANEL = "Administrators"


@app.command(rich_help_panel=PANEL)
def init() -> None:
    """Create what a first run needs: the keys (on the embedded stack) and the first administrator.

    Does nothing that is already there; `make run` does this by itself and says where things are.
    """
    current = store_system()
    keys = current.keys
    if keys.created:
        console.print(f"created the {', '.join(keys.created)} keys in {keys.folder}")
    token_file = current.ensure_administrator()
    if token_file is not None:
        console.print(f"created the administrator `admin`; its token is in {token_file} (keep it private)")
    if not keys.created and token_file is None:
        console.print("nothing to do: the keys and an administrator are there")


@identities.command("add")
def add_identity(
    name: Annotated[str, typer.Argument(help="The name (a member's name as claims record it).")],
    role: Annotated[Role, typer.Option(help="What they are to the system.")],
    scope_text: ScopeOption = None,
    unit: Annotated[str | None, typer.Option(help="A member's unit (for claims and dual points).")] = None,
    phone: Annotated[
        str | None,
        typer.Option(help="A resident's phone number: their own demands are those reported from it."),
    ] = None,
) -> None:
    """Add someone (or change their role or scope); then issue them a token.

    A resident is known by their phone number, kept only as a keyed hash: they read, supplement,
    withdraw and evaluate the demands reported from it, and nothing else."""
    from engine.access import Identity

    allowed(Act.MANAGE)
    place = scope(scope_text)
    if role is Role.OPERATOR and place.everywhere:
        console.print("note: an operator without --scope acts everywhere (the city's operators)")
    if (role is Role.RESIDENT) != (phone is not None):
        fail("--phone is for residents, and a resident needs one (their demands are those it reported)", 2)
    system = store_system()
    resident_key = system.resident_lookup.phone(phone) if phone is not None else None
    if phone is not None and resident_key is None:
        fail("that is not a phone number", 2)
    with system.directory() as directory:
        directory.register(Identity(name=name, role=role, scope=place, unit=unit, resident_key=resident_key))
    console.print(f"{name} is a {role.value}" + ("" if place.everywhere else f" of {place}"))


@identities.command("list")
def list_identities(as_json: Json = False) -> None:
    """Everyone the system knows, their role and scope, and how many live tokens they have."""
    allowed(Act.MANAGE)
    with store_system().directory() as directory:
        rows = directory.identities()
    if as_json:
        print_json([{**i.model_dump(mode="json"), "disabled": off, "tokens": n} for i, off, n in rows])
        return
    console.print(
        table(
            f"Identities ({len(rows)})",
            ["name", "role", "scope", "unit", "tokens", "disabled"],
            ((i.name, i.role.value, str(i.scope), i.unit, n, "yes" if off else "no") for i, off, n in rows),
        )
    )


@identities.command("disable")
def disable_identity(
    name: Annotated[str, typer.Argument(help="Who.")],
    reason: Annotated[str, typer.Option(help="Why (recorded).")],
) -> None:
    """Refuse every token of someone from now on."""
    from engine.directory import UnknownIdentityError

    allowed(Act.MANAGE)
    with store_system().directory() as directory:
        try:
            directory.disable(name, reason)
        except UnknownIdentityError as error:
            fail(str(error))
    console.print(f"{name} is disabled")


@tokens.command("issue")
def issue_token(
    name: Annotated[str, typer.Argument(help="Whose token.")],
    label: Annotated[str, typer.Option(help="What it is for, e.g. 'console on Li's phone'.")] = "",
) -> None:
    """Issue a bearer token; it is printed once and kept only as its digest."""
    from engine.directory import UnknownIdentityError

    allowed(Act.MANAGE)
    with store_system().directory() as directory:
        try:
            token = directory.issue(name, label)
        except UnknownIdentityError as error:
            fail(str(error))
    typer.echo(token)


@tokens.command("revoke")
def revoke_token(
    prefix: Annotated[str, typer.Argument(help="The token, or at least its first 8 characters.")],
    reason: Annotated[str, typer.Option(help="Why (recorded).")],
) -> None:
    """Revoke a token: it is refused from now on."""
    allowed(Act.MANAGE)
    with store_system().directory() as directory:
        try:
            count = directory.revoke(prefix, reason)
        except ValueError as error:
            fail(str(error), 2)
    if not count:
        fail(f"no live token starts with {prefix}")
    console.print(f"revoked {count} token{'s' if count > 1 else ''}")


@app.command(rich_help_panel=PANEL)
def disclosures(
    forgotten: Annotated[
        bool, typer.Option("--forgotten", help="List the residents forgotten instead.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Every reveal of residents' personal data: who, on which demand (or export), when, and why
    (`--forgotten`: every resident forgotten, by whom, when and why)."""
    allowed(Act.MANAGE)
    with store_system().directory() as directory:
        rows = directory.erasures() if forgotten else directory.disclosures()
    if as_json:
        print_json(rows)
    elif forgotten:
        console.print(
            table(
                f"Residents forgotten ({len(rows)})",
                ["when", "who", "role", "resident (keyed hash)", "keys", "why"],
                ((r["at"], r["by"], r["role"], r["resident"], r["keys"], r["why"]) for r in rows),
            )
        )
    else:
        console.print(
            table(
                f"Reveals of residents' data ({len(rows)})",
                ["when", "who", "role", "demand", "why"],
                ((r["at"], r["by"], r["role"], r["demand_id"], r["why"]) for r in rows),
            )
        )


@app.command("forget-resident", rich_help_panel=PANEL)
def forget_resident(
    phone: Annotated[str | None, typer.Option(help="The resident's phone number.")] = None,
    name: Annotated[str | None, typer.Option(help="The resident's name (everyone of that name).")] = None,
    why: Annotated[str, typer.Option(help="Why (recorded; e.g. the erasure request's reference).")] = "",
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Forget a resident: destroy their keys, so their name, phone and address become unreadable in
    every stored event and in Temporal's history. Demands, histories, rates and points stay.

    Cannot be undone. Recorded in the directory (who, when, why; the resident only as a keyed hash).
    """
    from adapters.forgetting import find, forget

    who = allowed(Act.FORGET)
    if not phone and not name:
        fail("say whom to forget: --phone or --name", 2)
    if not why.strip():
        fail("say why (--why): every forgetting is recorded", 2)
    current = store_system()
    found = find(current, phone, name)
    if not found.kids:
        fail("no resident with that phone number or name has a key: nothing to forget", 1)
    keys = len(found.kids)
    console.print(
        f"{keys} resident key{'s' if keys > 1 else ''} match. Their name, phone and address become "
        "unreadable in every stored event and in Temporal's history, for good."
    )
    if not yes and not typer.confirm("Forget?", default=False):
        fail("nothing was forgotten", 1)
    destroyed = forget(current, who, found, why.strip())
    console.print(f"forgotten: {destroyed} key{'s' if destroyed != 1 else ''} destroyed (recorded)")


@app.command(rich_help_panel=PANEL)
def reseal() -> None:
    """Seal residents still stored in plain text (events from before sealing), then wrap every
    resident's key with the current codec key and hash it with the current lookup key (after a
    rotation). Resumes where the last pass stopped; safe to run at any time."""
    from adapters.forgetting import reseal as reseal_store

    allowed(Act.FORGET)
    current = store_system()
    with current.store() as store:
        done = reseal_store(current, store)
    console.print(
        f"read {done.scanned} events (up to {done.position}): {done.sealed} sealed now; "
        f"{done.rewrapped} keys wrapped again, {done.rehashed} hashed again"
    )


app.add_typer(identities, name="identity", rich_help_panel=PANEL)
app.add_typer(tokens, name="token", rich_help_panel=PANEL)
