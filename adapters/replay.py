"""Rebuilding views from event zero beside the live ones; verifying them row by row; swapping them in.

A view whose code changed is rebuilt, never patched by hand: `rebuild` runs the view's own
projection runner from position zero into fresh tables (`<view>_<part>_rebuild`) while the live
tables keep serving; `verify` compares the rebuild with the live view at the live view's own
position; `make_live` swaps the rebuild in once the live view's writer is stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from adapters.bootstrap import System
from projections.database import WriterBusyError
from projections.rebuild import REBUILD_SUFFIX, Difference, differences, swap
from projections.runner import REBUILD_PAGE_SIZE, ProjectionRunner, ProjectionSpec

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
) -> Rebuilt:
    """Run the view's projection from event zero (or where its rebuild stopped) into its rebuild tables.

    Stops once caught up with the store (or at position `until`). RebuildFailedError on an error.
    """
    with system.store() as store:
        last = until if until is not None else (store.recorder.max_notification_id() or 0)
        runner = ProjectionRunner(
            spec, store, system.views_database, suffix=REBUILD_SUFFIX, follow=False, fresh=fresh,
            until=until, page_size=REBUILD_PAGE_SIZE,
        )  # fmt: skip
        started = time.monotonic()
        runner.start()
        try:
            while runner.alive:
                if runner.error is not None:
                    raise RebuildFailedError(
                        f"rebuilding view {spec.name} stopped at position {runner.position}: {runner.error}"
                    )
                if on_progress is not None:
                    on_progress(spec.name, runner.position, max(last, runner.position))
                time.sleep(0.1)
        finally:
            runner.stop()
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
        live, rebuilt = spec.view(db), spec.view(db, REBUILD_SUFFIX)
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
            swap(spec.view(db), spec.view(db, REBUILD_SUFFIX))
        finally:
            lock.release()
    finally:
        db.close()
    return topped_up
