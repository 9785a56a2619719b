"""The base of every projection: events in, staged view changes out, one view per projection."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from projections.view import View

V = TypeVar("V", bound=View)


class UnhandledEventError(TypeError):
    """A projection met an event of its aggregate it has no handler for: its view would go stale."""

    def __init__(self, projection: str, event: object) -> None:
        super().__init__(f"projection {projection} has no handler for {type(event).__name__} events")


class Projection(Generic[V]):
    """Keeps one view from events: `process_event` stages the view's changes for one event.

    `topics` (event topics) limits what the runner reads from the store for it (the database passes
    the others over); empty means every event.
    """

    name: ClassVar[str]
    topics: ClassVar[tuple[str, ...]] = ()

    def __init__(self, view: V) -> None:
        self.view = view

    def process_event(self, domain_event: Any, position: int) -> None:
        """Stage the view's changes for one event at notification `position`."""
        raise NotImplementedError
