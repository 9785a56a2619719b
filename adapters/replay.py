"""Rebuilding views from event zero beside the live ones; verifying them row by row; swapping them in.

A view whose code changed is rebuilt, never patched by hand: `rebuild` runs the view's own
projection runner from position zero into fresh tables (`<view>_<part>_rebuild`) while the live
tables keep serving; `verify` compares the rebuild with the live view at the live view's own
position; `make_live` swaps the rebuild in once the live view's writer is stopped.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.connection
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

from pydantic import BaseModel, ConfigDict

from adapters.bootstrap import System
from projections.database import WriterBusyError
from projections.rebuild import REBUILD_SUFFIX, Difference, differences, swap
from projections.runner import REBUILD_PAGE_SIZE, NotificationFeed, ProjectionRunner, ProjectionSpec

Progress = Callable[[str, int, int], None]
"""Told (view, position reached, last position) while a view is rebuilt."""


class RebuildFailedError(RuntimeError):
    """A rebuild stopped on an error; the message names the view, the position and the error."""


class LiveViewMovingError(RuntimeError):
    """The live view kept moving while it was compared: its writer must be stopped to verify it."""


class Rebuilt(BaseModel):
    """What a rebuild did: events read, how long it took, the position it reached."""

    model_config = ConfigDict(frozen=True)

    view: str
    events: int
    seconds: float
    position: int

    @property
    def events_per_second(self) -> float:
        """Throughput of the rebuild."""
        return self.events / self.seconds if self.seconds > 0 else float(self.events)


class Verified(BaseModel):
    """A rebuilt view compared with the live one at the same position."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    view: str
    position: int
    differences: list[Difference]
    rebuilt: Rebuilt


def specs_named(system: System, names: Sequence[str] | None) -> list[ProjectionSpec[Any]]:
    """The projections of the views named (all of them if none are); ValueError for an unknown name."""
    specs = list(system.projection_specs())
    if not names:
        return specs
    known = {spec.name: spec for spec in specs}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"no view named {', '.join(unknown)} (views: {', '.join(known)})")
    return [known[name] for name in names]


def rebuild(
    system: System,
    spec: ProjectionSpec[Any],
    *,
    fresh: bool = True,
    until: int | None = None,
    on_progress: Progress | None = None,
    suffix: str = REBUILD_SUFFIX,
) -> Rebuilt:
    """Run the view's projection from event zero (or where its rebuild stopped) into its rebuild tables.

    Stops once caught up with the store (or at position `until`). RebuildFailedError on an error.
    The rebuild runs in a process of its own (see `rebuild_all`).
    """
    return rebuild_all(system, [spec], fresh=fresh, until=until, on_progress=on_progress, suffix=suffix)[0]


def rebuild_all(
    system: System,
    specs: Sequence[ProjectionSpec[Any]],
    *,
    fresh: bool = True,
    until: int | None = None,
    on_progress: Progress | None = None,
    suffix: str = REBUILD_SUFFIX,
) -> list[Rebuilt]:
    """Rebuild several views at once, each in a process of its own; what each did, in `specs` order.

    The views are independent (each has its own tables, tracking and writer lock), so each is
    rebuilt by its own runner in a child process, on a core of its own, with no interpreter lock
    shared and its garbage collector tuned for a long fill (`_rebuild_here`). The children are
    forked: they inherit the specs as they are (policies, lookup) and open their own connections.
    RebuildFailedError names the first view that failed, once every child has ended.
    """
    context = multiprocessing.get_context("fork")
    children = []
    outcomes: dict[str, Rebuilt | str] = {}
    pending: dict[Connection, ProjectionSpec[Any]] = {}

    def take(receive: Connection) -> str:
        """Handle a child's next message; its kind ("ended" once the child has closed its end)."""
        spec = pending[receive]
        try:
            message = receive.recv()
        except EOFError:
            outcomes.setdefault(spec.name, f"rebuilding view {spec.name} ended without a word")
            del pending[receive]
            return "ended"
        if message[0] == "progress" and on_progress is not None:
            on_progress(spec.name, message[1], message[2])
        elif message[0] == "done":
            outcomes[spec.name] = Rebuilt.model_validate(message[1])
        elif message[0] == "failed":
            outcomes[spec.name] = str(message[1])
        return str(message[0])

    for spec in specs:
        receive, send = context.Pipe(duplex=False)
        child = context.Process(
            target=_child, args=(send, system, spec, fresh, until, suffix), name=f"rebuild-{spec.name}"
        )
        child.start()
        send.close()  # the child holds the sending end; the parent sees EOF when it ends
        children.append((spec, child, receive))
        pending[receive] = spec
        # One child at a time opens its store, keyring and tables: PostgreSQL refuses concurrent
        # CREATE ... IF NOT EXISTS of one table ("tuple concurrently updated").
        while take(receive) not in ("ready", "ended"):
            pass
    while pending:
        for ready in multiprocessing.connection.wait(list(pending)):
            assert isinstance(ready, Connection)
            take(ready)
    for _, child, receive in children:
        child.join()
        receive.close()
    for spec in specs:
        outcome = outcomes[spec.name]
        if isinstance(outcome, str):
            raise RebuildFailedError(outcome)
    return [outcome for spec in specs if isinstance(outcome := outcomes[spec.name], Rebuilt)]


def _child(
    send: Connection,
    system: System,
    spec: ProjectionSpec[Any],
    fresh: bool,
    until: int | None,
    suffix: str,
) -> None:
    """A rebuild's process: rebuild the view here, telling the parent its progress and the outcome.

    It opens its store, keyring and views anew from the same settings: a connection inherited from
    the parent is never used by two processes. The spec (its policy and lookup) is the parent's.
    """
    try:
        done = _rebuild_here(
            System(system.settings), spec, fresh=fresh, until=until, suffix=suffix,
            on_progress=lambda _, position, last: send.send(("progress", position, last)),
            on_ready=lambda: send.send(("ready",)),
        )  # fmt: skip
        send.send(("done", done.model_dump()))
    except Exception as error:
        send.send(("failed", str(error) if isinstance(error, RebuildFailedError) else repr(error)))
    finally:
        send.close()


GC_THRESHOLD = (500_000, 100, 1000)
"""The rebuild process's garbage collector thresholds: a fill allocates millions of short-lived
objects beside a cache of 10,000 rows, and the default (a collection every 700 allocations) took a
quarter of the rebuild's time. Cycles are still collected; the peak RSS is the same as with
50,000 (measured at 100k and 300k events), the rebuild 5-7% faster."""


def _rebuild_here(
    system: System,
    spec: ProjectionSpec[Any],
    *,
    fresh: bool,
    until: int | None,
    suffix: str,
    on_progress: Progress | None,
    on_ready: Callable[[], None] | None = None,
) -> Rebuilt:
    """Rebuild the view in this process: its runner in a thread, watched from this one.

    `on_ready` is called once, when the runner holds its view (store and tables open) or has ended.
    """
    gc.freeze()  # what the process inherited stays: never scanned again
    gc.set_threshold(*GC_THRESHOLD)
    with system.store() as store:
        last = until if until is not None else (store.recorder.max_notification_id() or 0)
        runner = ProjectionRunner(
            spec, store, system.views_database, suffix=suffix, follow=False, fresh=fresh, until=until,
            page_size=REBUILD_PAGE_SIZE, feed=NotificationFeed(store, keep=1),
        )  # fmt: skip
        started = time.monotonic()
        runner.start()
        told = False
        try:
            while runner.alive:
                if not told and runner.ready.is_set() and on_ready is not None:
                    on_ready()
                    told = True
                if runner.error is not None:
                    raise RebuildFailedError(
                        f"rebuilding view {spec.name} stopped at position {runner.position}: {runner.error}"
                    )
                if on_progress is not None:
                    on_progress(spec.name, runner.position, max(last, runner.position))
                runner.join(0.1)  # back at once when it ends, not a tenth of a second later
        finally:
            runner.stop()
            if not told and on_ready is not None:
                on_ready()
        if runner.error is not None:
            raise RebuildFailedError(f"rebuilding view {spec.name} failed: {runner.error}")
        if on_progress is not None:
            on_progress(spec.name, runner.position, max(last, runner.position))
        return Rebuilt(
            view=spec.name, events=runner.events, seconds=time.monotonic() - started, position=runner.position
        )


def verify(
    system: System,
    spec: ProjectionSpec[Any],
    *,
    limit: int = 100,
    attempts: int = 5,
    on_progress: Progress | None = None,
) -> Verified:
    """Rebuild the view up to the live view's position and compare the two row by row.

    If the live view moves on meanwhile (its writer is running), the rebuild follows it to its
    new position and compares again, up to `attempts` times; LiveViewMovingError after that.
    """
    db = system.views_database()
    try:
        live, rebuilt = spec.open(db), spec.open(db, REBUILD_SUFFIX)
        first: Rebuilt | None = None
        for attempt in range(attempts):
            position = live.position()
            # From event zero the first time; after that the rebuild only follows the live view on.
            done = rebuild(system, spec, fresh=attempt == 0, until=position, on_progress=on_progress)
            first = first or done
            found = list(differences(live, rebuilt, limit))
            if live.position() == position:
                return Verified(view=spec.name, position=position, differences=found, rebuilt=first)
    finally:
        db.close()
    raise LiveViewMovingError(
        f"view {spec.name} kept moving while it was compared; stop its writer "
        "(`microdemand up` or `microdemand projections`) and verify again"
    )


def make_live(system: System, spec: ProjectionSpec[Any], on_progress: Progress | None = None) -> Rebuilt:
    """Bring the rebuild up to the store's last event and swap it in for the live view.

    Needs the live view's writer lock: WriterBusyError while `microdemand up` or `projections`
    runs, because a running writer keeps rows of the old tables in memory.
    """
    db = system.views_database()
    try:
        try:
            lock = db.writer_lock(spec.name)
        except WriterBusyError as error:
            raise WriterBusyError(f"{error}; stop it to swap the rebuilt view in") from None
        try:
            topped_up = rebuild(system, spec, fresh=False, on_progress=on_progress)
            swap(spec.open(db), spec.open(db, REBUILD_SUFFIX))
        finally:
            lock.release()
    finally:
        db.close()
    return topped_up
