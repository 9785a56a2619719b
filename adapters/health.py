"""Whether the system is well: Temporal and its workers, the event store, each projection and its lag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel

from adapters.bootstrap import System
from projections import status

POLLER_FRESHNESS = timedelta(minutes=1)
"""A worker that polled within this long is taken to be alive."""
LAG_WARNING = 1000
"""A view this many notifications behind the store is reported as lagging."""


class Part(BaseModel):
    """One part's health: well or not, and what was found."""

    name: str
    well: bool
    detail: str


class Health(BaseModel):
    """The whole system's health, part by part."""

    well: bool
    checked_at: datetime
    parts: list[Part]


async def check_health(system: System) -> Health:
    """Check each part without changing anything; a part that cannot be reached is not well."""
    parts = [await _temporal(system), *check_store_and_views(system)]
    return Health(well=all(p.well for p in parts), checked_at=datetime.now(UTC), parts=parts)


async def _temporal(system: System) -> Part:
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    queue = system.settings.task_queue
    try:
        client = await system.temporal()
    except RuntimeError as error:
        return Part(name="worker", well=False, detail=f"cannot reach Temporal: {error}")
    fresh: list[str] = []
    for kind in (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
        described = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace, task_queue=TaskQueue(name=queue), task_queue_type=kind
            )
        )
        now = datetime.now(UTC)
        fresh += [
            p.identity
            for p in described.pollers
            if now - p.last_access_time.ToDatetime(UTC) < POLLER_FRESHNESS
        ]
    workers = sorted(set(fresh))
    if not workers:
        return Part(
            name="worker", well=False, detail=f"no worker polled task queue {queue} in the last minute"
        )
    return Part(name="worker", well=True, detail=f"{len(workers)} polling {queue}: {', '.join(workers)}")


def check_store_and_views(system: System) -> list[Part]:
    """The event store and each view: readable, written by a runner that is not failing, how far behind."""
    from adapters.bootstrap import StoreUnavailableError

    try:
        system.check_database()
        with system.store() as store:
            last = store.recorder.max_notification_id() or 0
    except (StoreUnavailableError, Exception) as error:  # a store that is down is a finding, not a crash
        return [Part(name="store", well=False, detail=f"cannot read the event store: {error}")]
    parts = [Part(name="store", well=True, detail=f"{system.where}: {last} events")]
    for spec in system.projection_specs():
        db = system.views_database()
        try:
            view = spec.open(db)
            position, running = view.position(), db.writer_running(spec.name)
            said = status.read(db, spec.name)
        except Exception as error:
            parts.append(Part(name=spec.name, well=False, detail=f"cannot read the view: {error}"))
            continue
        finally:
            db.close()
        lag = max(0, last - position)
        # Between its retries a failing runner lets its writer lock go: what it said tells why.
        failing = said if said is not None and not said.well else None
        well = running and failing is None and lag < LAG_WARNING
        if failing is not None:
            since = f"{failing.at:%Y-%m-%d %H:%M:%S} UTC"
            state = (
                f"FAILING since {since} ({failing.failures} failures, retried with backoff): {failing.error}"
            )
            state += "" if running else " (no runner holds the view at this moment)"
        else:
            state = "running" if running else "NOT RUNNING (start `microdemand projections` or `up`)"
        parts.append(
            Part(name=spec.name, well=well, detail=f"{state}; at {position}, {lag} behind the store")
        )
    return parts
