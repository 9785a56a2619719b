"""What every verb needs: the System built from settings, running a call, sending a command, one-line errors.

The one place where the CLI turns the parts' errors (a bad setting or policy file, a refused
command, an unknown demand, a store or server that is down) into a line and an exit code.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from adapters.cli.output import err_console, fail, show_status

if TYPE_CHECKING:
    from datetime import datetime

    from pydantic import BaseModel

    from adapters.bootstrap import System
    from adapters.services import Services
    from engine.access import Identity
    from engine.commands import Command
    from engine.periods import Period
    from engine.scope import Scope
    from projections.index.view import DemandIndexView
    from projections.points.view import PointsView

T = TypeVar("T")
M = TypeVar("M", bound="BaseModel")
V = TypeVar("V")


@cache
def system() -> System:
    """The System of this run, from the environment and .env; a bad setting is one line."""
    from pydantic import ValidationError

    from adapters.bootstrap import System
    from adapters.settings import Settings
    from engine.values import field_errors

    try:
        return System(Settings())
    except ValidationError as error:
        fail(f"invalid settings: {field_errors(error, env_prefix='MICRODEMAND_')}", 2)


@cache
def policies() -> None:
    """Refuse a bad policy file (time limits, points) at once, in one line: called at the start of
    every verb that may use a policy, before it does anything."""
    from engine.policies.files import PolicyError

    current = system()
    try:
        _ = current.time_limits, current.points_policy
    except PolicyError as error:
        fail(str(error), 2)


@cache
def store_system() -> System:
    """The System, for a verb that opens the event store or a view: the database is checked first.

    Verbs that only talk to Temporal don't wait on (or for) the database.
    """
    from adapters.bootstrap import StoreUnavailableError

    current = system()
    try:
        current.check_database()
    except StoreUnavailableError as error:
        fail(str(error), 2)
    return current


@cache
def services() -> Services:
    """The application layer of this run."""
    from adapters.services import Services

    return Services(store_system())


@cache
def identity() -> Identity:
    """Who this CLI acts as: the token in MICRODEMAND_TOKEN, or in the token file
    (MICRODEMAND_TOKEN_FILE, by default `<var_dir>/admin.token`, written by `microdemand init`)."""
    from engine.directory import UnauthenticatedError

    current = system()
    token = current.settings.token.get_secret_value() if current.settings.token else None
    if token is None:
        try:
            token = current.token_file.read_text("ascii").strip()
        except OSError:
            fail(
                f"no identity: set MICRODEMAND_TOKEN, or MICRODEMAND_TOKEN_FILE (none at "
                f"{current.token_file}); `microdemand init` creates the first administrator "
                "on the embedded stack",
                2,
            )
    try:
        return services().authenticate(token)
    except UnauthenticatedError as error:
        fail(f"not authenticated: {error}", 2)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine, turning the domain's and Temporal's refusals into one-line errors.

    What a refusal can be is imported only once there is an error: a verb that answers from the
    views never loads the Temporal client (most of a second) to be ready for one."""
    import asyncio  # here: a verb answered from the views never needs the event loop

    try:
        return asyncio.run(coroutine)
    except Exception as error:
        _refuse(error)
        raise


def _refuse(error: Exception) -> None:
    """Exit with one line if `error` is a user's or the stack's refusal; return if it is a defect."""
    from pydantic import ValidationError

    from adapters.demands_client import CommandRefusedError
    from engine.access import Forbidden
    from engine.application import DemandNotFoundError
    from engine.lifecycle import Refused
    from engine.values import field_errors

    if isinstance(error, Forbidden):
        fail(str(error), 3)
    if isinstance(error, CommandRefusedError | Refused | DemandNotFoundError):
        fail(str(error), 1)
    if isinstance(error, ValidationError):
        fail(field_errors(error), 2)
    if isinstance(error, RuntimeError) and "connect" in str(error).lower():
        fail(
            f"cannot reach Temporal at {system().settings.temporal_address}: "
            "start the stack with `make run` (or set MICRODEMAND_TEMPORAL_ADDRESS)",
            2,
        )


def send(demand_id: str, command: Command, as_json: bool) -> None:
    """Send one command as the CLI's identity and show the demand's new status (or one line why not)."""
    show_status(run(services().command(identity(), demand_id, command)), as_json)


def build(model: type[M], **fields: object) -> M:
    """Validate CLI input into a payload; a bad value is a one-line error naming the field."""
    from pydantic import ValidationError

    from engine.values import field_errors

    try:
        return model(**{k: v for k, v in fields.items() if v is not None})
    except ValidationError as error:
        fail(field_errors(error), 2)


def duration(text: str | None) -> timedelta | None:
    """`12h`, `1d` ... as a timedelta (None stays None); a bad one is a one-line error."""
    from engine.durations import parse_duration

    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as error:
        fail(str(error), 2)


def scope(text: str | None) -> Scope:
    """`community:Xinhua` ... as a Scope (`all` or nothing: everywhere); a bad one is one line."""
    from engine.scope import Scope

    try:
        return Scope.parse(text)
    except ValueError as error:
        fail(str(error), 2)


def period(text: str) -> Period:
    """`2026`, `2026-Q3`, `2026-10` ... as a Period; a bad one is one line."""
    from engine.periods import Period

    try:
        return Period.parse(text)
    except ValueError as error:
        fail(str(error), 2)


def moment(text: str) -> datetime:
    """`2026-03-01T09:00` (local time), `...+08:00` or a day `2026-03-01` (its end); a bad one is one line."""
    from adapters.timetravel import moment as parse

    try:
        return parse(text, system().local_zone)
    except ValueError as error:
        fail(str(error), 2)


@contextmanager
def index_view_at(at: datetime | None) -> Iterator[DemandIndexView]:
    """The live demand index, or (`at` given) the index as it stood then, built with a progress bar."""
    if at is None:  # the live view: nothing of time travel is imported
        with store_system().index_view() as index:
            yield index
    else:
        from adapters.timetravel import index_as_of

        with _as_it_stood(index_as_of, at) as index:
            yield index


@contextmanager
def points_view_at(at: datetime | None) -> Iterator[PointsView]:
    """The live points ledger, or (`at` given) the ledger as it stood then, built with a progress bar."""
    if at is None:
        with store_system().points_view() as ledger:
            yield ledger
    else:
        from adapters.timetravel import points_as_of

        with _as_it_stood(points_as_of, at) as ledger:
            yield ledger


@contextmanager
def _as_it_stood(
    as_of: Callable[[System, datetime, Callable[[int, int], None]], AbstractContextManager[V]], at: datetime
) -> Iterator[V]:
    """A view rebuilt from the events up to `at`, with a progress bar while it is read."""
    from adapters.cli.output import progress_bar

    policies()  # the events are projected into views under the configured policies
    with progress_bar("reading the events up to then") as advance, as_of(store_system(), at, advance) as view:
        yield view


def store_error(error: Exception) -> int:
    """One line saying which store could not be used and why; the exit code for it."""
    err_console.print(
        f"[bold red]error:[/] cannot use {system().where}: {error}", highlight=False, soft_wrap=True
    )
    return 2


def allowed(act: Any, *, account: str | None = None) -> Identity:
    """The CLI's identity, if it may do `act` at all (or for `account`); one line and exit 3 if not."""
    from engine.access import Forbidden

    who = identity()
    try:
        services().allow(who, act, account=account)
    except Forbidden as error:
        fail(str(error), 3)
    return who


def places(act: Any, scope_text: str | None) -> tuple[Scope, ...]:
    """The places a listing or figure may show: the scope asked for and, for an operator, their own;
    one line and exit 3 if the CLI's identity may not do `act` at all."""
    return services().places(allowed(act), scope(scope_text))


def allowed_on(act: Any, demand_id: str) -> Identity:
    """The CLI's identity, if it may do `act` on this demand; one line and exit 3 if not."""
    who = identity()
    run(services().allow_on(who, act, demand_id))
    return who
