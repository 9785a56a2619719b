"""Back-pressure for pushes: at most so many signal-with-starts in flight to Temporal, a bounded
number waiting their turn, and a clear 503 (retry after a second) beyond that.

A push is answered only once Temporal holds its signal (durably, in the demand's workflow
history), so an accepted push is never lost, whatever happens to this process afterwards; the
workflow records `Collected` a moment later. See decision 0030.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from adapters.http.errors import BusyError
from adapters.services import Services
from engine.access import Identity
from engine.commands import Submission


class Pusher:
    """Sends pushes through the application layer, `concurrency` at a time, `queue` waiting at most."""

    def __init__(self, services: Services, concurrency: int, queue: int) -> None:
        self.services = services
        self.concurrency = concurrency
        self.queue = queue
        self._slots: asyncio.Semaphore | None = None
        self._waiting = 0

    @property
    def waiting(self) -> int:
        """Pushes accepted by HTTP but not yet sent to Temporal."""
        return self._waiting

    async def push(self, identity: Identity, submissions: Sequence[Submission]) -> list[str]:
        """Push every submission (each may be pushed, or none is: checked first); their demand ids."""
        self.services.allow_push(identity, submissions)
        if self._waiting + len(submissions) > self.queue:
            raise BusyError(f"{self._waiting} pushes are waiting already: try again in a moment")
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        slots = self._slots
        self._waiting += len(submissions)

        async def one(submission: Submission) -> str:
            try:
                async with slots:
                    pushed = await self.services.push(identity, [submission])
            finally:
                self._waiting -= 1
            return pushed[0]

        return list(await asyncio.gather(*(one(s) for s in submissions)))
