"""Run every projection for a Settings: events from the store, views in the views database.

Add a projection with one line in PROJECTIONS. Each runs in eventsourcing's ProjectionRunner,
which records every view change with its tracking position, so a stopped runner resumes where
its view stopped and a fresh (or dropped) view replays from position zero.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from time import monotonic
from typing import Any, Protocol, cast

from eventsourcing.persistence import InfrastructureFactory, TrackingRecorder
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.utils import Environment

from engine.application import Demands
from engine.settings import Settings
from projections.demand_index import DemandIndexProjection
from projections.points import PointsProjection
from projections.points_postgres import PostgresPointsView
from projections.points_sqlite import SQLitePointsView
from projections.points_views import PointsView
from projections.postgres_views import PostgresDemandIndexView
from projections.sqlite_views import SQLiteDemandIndexView
from projections.views import DemandIndexView


@dataclass(frozen=True)
class ProjectionSpec:
    """A projection and the class of its view on each database."""

    projection: type[Projection[Any]]
    sqlite_view: type[SQLiteTrackingRecorder]
    postgres_view: type[PostgresTrackingRecorder]

    @property
    def name(self) -> str:
        """The projection's name: the prefix of its view settings and its tracking table."""
        return self.projection.name

    def view_class(self, settings: Settings) -> type[TrackingRecorder]:
        """The view class for the configured database."""
        return self.postgres_view if settings.store == "postgres" else self.sqlite_view


INDEX = ProjectionSpec(DemandIndexProjection, SQLiteDemandIndexView, PostgresDemandIndexView)
POINTS = ProjectionSpec(PointsProjection, SQLitePointsView, PostgresPointsView)
PROJECTIONS: tuple[ProjectionSpec, ...] = (INDEX, POINTS)
"""Every projection the system runs. Each must track every notification it is given (a
default handler that only tracks), and keep its SQLite tracking in a table of its own."""


class ResettableView(Protocol):
    """A view that can drop its tables and tracking."""

    def drop(self) -> None:
        """Drop tables and tracking."""


def runner_env(settings: Settings, name: str, views: Mapping[str, str] | None = None) -> dict[str, str]:
    """The app reads the plain store settings; the view reads its own, prefixed with its name.

    ProjectionRunner builds the application from `env` and the view from the same `env` named
    after the projection, where `<NAME>_KEY` wins over `KEY`: that keeps the SQLite event file
    and views file apart, and names the PostgreSQL tracking table after the projection.
    `views` puts the view in another database than the settings' own (a second, fresh view).
    """
    env = dict(settings.store_env())
    env.update({f"{name.upper()}_{key}": value for key, value in (views or settings.views_env()).items()})
    return env


def open_view(
    settings: Settings, spec: ProjectionSpec, views: Mapping[str, str] | None = None
) -> TrackingRecorder:
    """A projection's view for reading (its tables are created if they do not exist yet)."""
    env = Environment(spec.name, runner_env(settings, spec.name, views))
    return InfrastructureFactory[Any].construct(env=env).tracking_recorder(spec.view_class(settings))


def open_index_view(settings: Settings) -> DemandIndexView:
    """The demand index for read-only queries: rates, the overdue board, the ticket index."""
    return cast(DemandIndexView, open_view(settings, INDEX))


def open_points_view(settings: Settings) -> PointsView:
    """The points ledger for reading: balances, recent entries, rankings."""
    return cast(PointsView, open_view(settings, POINTS))


def reset_view(settings: Settings, spec: ProjectionSpec) -> None:
    """Drop a projection's view and tracking, so its next run replays the store from zero."""
    view = open_view(settings, spec)
    try:
        cast(ResettableView, view).drop()
    finally:
        _close(view)


class RunningProjections:
    """The started runners, their views, and a way to wait until they have caught up."""

    def __init__(self, runners: Mapping[str, ProjectionRunner[Demands, Any]]) -> None:
        self.runners = dict(runners)

    def view(self, name: str) -> TrackingRecorder:
        """The live view of the projection with this name."""
        return self.runners[name].view

    @property
    def index(self) -> DemandIndexView:
        """The live demand index."""
        return cast(DemandIndexView, self.view(DemandIndexProjection.name))

    def check(self) -> None:
        """Raise the error that stopped a projection thread, if any did."""
        for runner in self.runners.values():
            runner.run_forever(timeout=0)  # returns at once; re-raises a thread's error

    def wait_until_caught_up(self, timeout: float = 30.0) -> None:
        """Block until every view has processed the store up to its current last notification.

        Raises a projection thread's error as soon as it happens, TimeoutError after `timeout`.
        """
        deadline = monotonic() + timeout
        for name, runner in self.runners.items():
            target = runner.app.recorder.max_notification_id()
            while not self._caught_up(runner, target):
                self.check()
                if monotonic() > deadline:
                    tracked = runner.view.max_tracking_id(runner.app_name)
                    raise TimeoutError(f"projection {name} is at {tracked}, the store at {target}")
                runner.is_interrupted.wait(0.02)  # an error wakes us at once
            self.check()

    @staticmethod
    def _caught_up(runner: ProjectionRunner[Demands, Any], target: int | None) -> bool:
        tracked = runner.view.max_tracking_id(runner.app_name) or 0
        if target is None or tracked >= target:
            return True
        topics = runner.projection.topics
        if not topics:
            return False
        # A projection that subscribes to some topics never tracks the others: it has caught
        # up when none of its topics remains between its position and the target.
        pending = runner.app.recorder.select_notifications(
            start=tracked, limit=1, stop=target, topics=topics, inclusive_of_start=False
        )
        return not pending


@contextmanager
def running_projections(
    settings: Settings, specs: tuple[ProjectionSpec, ...] = PROJECTIONS
) -> Iterator[RunningProjections]:
    """Run the projections while the block runs; on exit stop them and raise any thread's error."""
    with ExitStack() as stack:
        runners: dict[str, ProjectionRunner[Demands, Any]] = {}
        for spec in specs:
            runner: ProjectionRunner[Demands, Any] = ProjectionRunner(
                application_class=Demands,
                projection_class=spec.projection,
                view_class=spec.view_class(settings),
                env=runner_env(settings, spec.name),
            )
            stack.callback(_close, runner.view)  # after the runner has stopped
            runners[spec.name] = stack.enter_context(runner)
        yield RunningProjections(runners)


def _close(view: TrackingRecorder) -> None:
    datastore = getattr(view, "datastore", None)
    if datastore is not None:
        datastore.close()
