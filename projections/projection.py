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
    the others over); empty means every event. A projection that never looks at residents' personal
    data says so (`residents = False`): its events are decoded without opening the sealed residents
    (each reads as forgotten), so no key is read and nothing decrypted for it.
    """

    name: ClassVar[str]
    topics: ClassVar[tuple[str, ...]] = ()
    residents: ClassVar[bool] = True

    def __init__(self, view: V) -> None:
        self.view = view

    def process_event(self, domain_event: Any, position: int) -> None:
        """Stage the view's changes for one event at notification `position`."""
        raise NotImplementedError
