"""Throw-away views fed by hand: the same projections and views as the live ones, over chosen events.

Analysts ask what the views said at a moment (`--as-of`) or would say under another policy
(`whatif`). Both are answered by running the very projections that keep the live views over a
chosen stream of events (the store's events up to a time, or a re-simulated history) into
views of their own, then asking those views the same queries. Nothing here is a second copy of
a rule: a figure can only be computed one way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from engine.application import Demands
from projections.database import Database
from projections.projection import Projection
from projections.runner import ProjectionSpec
from projections.view import View


class Feed:
    """Projections over views in `db`, fed events one by one and committed a page at a time."""

    def __init__(
        self, specs: Sequence[ProjectionSpec[Any]], db: Database, *, suffix: str = "", page_size: int = 500
    ) -> None:
        self.views: dict[str, View] = {}
        self._projections: list[tuple[Projection[Any], frozenset[str]]] = []
        for spec in specs:
            view = spec.open(db, suffix)
            projection = spec.projection(view)
            self.views[spec.name] = view
            self._projections.append((projection, frozenset(projection.topics)))
        self.page_size = page_size
        self.position = 0
        self.events = 0
        self._uncommitted = 0

    def add(self, domain_event: Any, position: int | None = None) -> None:
        """Project one event at `position` (the next one if not given); commit every page."""
        self.position = position if position is not None else self.position + 1
        topic = _topic(type(domain_event))
        for projection, topics in self._projections:
            if not topics or topic in topics:
                projection.process_event(domain_event, self.position)
        self.events += 1
        self._uncommitted += 1
        if self._uncommitted >= self.page_size:
            self.commit()

    def add_all(self, events: Iterable[Any]) -> None:
        """Project events at the next positions."""
        for domain_event in events:
            self.add(domain_event)

    def commit(self) -> None:
        """Write what every view has staged, with the position reached."""
        for view in self.views.values():
            view.commit(self.position)
        self._uncommitted = 0


_TOPICS: dict[type, str] = {}


def _topic(cls: type) -> str:
    topic = _TOPICS.get(cls)
    if topic is None:
        topic = _TOPICS[cls] = get_topic(cls)
    return topic


def events_until(store: Demands, at: datetime, page_size: int = 1000) -> Iterator[tuple[int, Any]]:
    """The store's events that happened at or before `at`, with their positions, in the store's order.

    A demand whose event is later than `at` is cut there: none of its later events follow, so
    every demand stands exactly as its history had it at `at`.
    """
    cut: set[UUID | str] = set()
    position = 0
    while page := store.recorder.select_notifications(
        start=position, limit=page_size, inclusive_of_start=False
    ):
        for notification in page:
            if notification.originator_id in cut:
                continue
            domain_event: Any = store.mapper.to_domain_event(notification)
            if domain_event.timestamp > at:
                cut.add(notification.originator_id)
                continue
            yield notification.id, domain_event
        position = page[-1].id
