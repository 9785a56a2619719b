"""The SQLite bridge for projections: a subscription that polls for new notifications.

eventsourcing's SQLite recorder raises NotImplementedError from `subscribe()`, so its
ProjectionRunner cannot follow an SQLite store as shipped. PostgreSQL has LISTEN/NOTIFY; SQLite
gets this small poller, selected with the APPLICATION_RECORDER_TOPIC setting. SQLite has one
writer at a time, so notification ids commit in order and polling `id > last` misses nothing.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence

from eventsourcing.persistence import Notification, Subscription
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import get_topic


class PollingSubscription(Subscription[SQLiteApplicationRecorder]):
    """Yields notifications after `gt` in order, polling the recorder when it has caught up."""

    batch_size = 500

    def __init__(
        self,
        recorder: SQLiteApplicationRecorder,
        gt: int | None = None,
        topics: Sequence[str] = (),
        interval: float = 0.1,
    ) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._interval = interval
        self._stopping = threading.Event()
        self._buffer: deque[Notification] = deque()

    def stop(self) -> None:
        """Stop iterating; a waiting `next()` returns at once."""
        super().stop()
        self._stopping.set()

    def __next__(self) -> Notification:
        while not self._has_been_stopped:
            if self._buffer:
                notification = self._buffer.popleft()
                self._last_notification_id = notification.id
                return notification
            self._buffer.extend(
                self._recorder.select_notifications(
                    start=self._last_notification_id or 0,
                    limit=self.batch_size,
                    topics=self._topics,
                    inclusive_of_start=False,
                )
            )
            if not self._buffer:
                self._stopping.wait(self._interval)
        raise StopIteration


class PollingSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """The library's SQLite application recorder, with a polling `subscribe()`."""

    poll_interval = 0.1

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[SQLiteApplicationRecorder]:
        """Follow the store from after notification `gt`."""
        return PollingSubscription(self, gt=gt, topics=topics, interval=self.poll_interval)


POLLING_RECORDER_TOPIC = get_topic(PollingSQLiteApplicationRecorder)
"""Value of APPLICATION_RECORDER_TOPIC that selects the polling recorder."""
