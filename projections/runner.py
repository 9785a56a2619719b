"""Projection runners: follow the event store in pages, each page's view changes and position in one
transaction; watched, restarted with backoff, and the only writer of their view.

eventsourcing's own ProjectionRunner writes one transaction per event and stops for good on the
first error; this one polls `select_notifications` (SQLite has no subscription, and polling an
indexed id is cheap on PostgreSQL too), processes a page at a time, and restarts after a failure
from the last committed position, stepping one event at a time through the page that failed so
the view stops exactly before an event it cannot take. See docs/decisions/0003.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from time import monotonic
from typing import Any, Generic, TypeVar

from engine.application import Demands
from engine.eventmodel import PydanticMapper
from engine.logs import get_logger
from projections import status
from projections.database import Database, WriterBusyError
from projections.projection import Projection
from projections.view import View

V = TypeVar("V", bound=View)
log = get_logger(__name__)

PAGE_SIZE = 1_000
"""Notifications per page, and so per view transaction while a runner catches up."""

REBUILD_PAGE_SIZE = 5_000
"""Notifications per page while a view is rebuilt from zero: a demand's events then mostly fall in
one page, so its row is written once where pages of `PAGE_SIZE` wrote it at nearly every event."""


class Page:
    """A page of notifications, each decoded into its domain event once, when first asked for.

    `end` is the last position of the store the page covers: its last notification's, or, for a
    page of some topics only that came back short, the last position that was committed when it
    was read (the notifications of other topics up to there were passed over in the database).
    Without `residents`, sealed residents are decoded as forgotten, not opened (see
    `Projection.residents`).
    """

    def __init__(
        self, notifications: Sequence[Any], store: Demands, end: int, residents: bool = True
    ) -> None:
        self.notifications = notifications
        self.end = end
        self._events: list[Any] = [None] * len(notifications)
        mapper = store.mapper
        self._decode: Callable[[Any], Any] = (
            mapper.to_domain_event
            if residents or not isinstance(mapper, PydanticMapper)
            else partial(mapper.to_domain_event, residents=False)
        )

    def event(self, index: int) -> Any:
        """The domain event of the notification at `index` (decoded by whichever runner asks first)."""
        event = self._events[index]
        if event is None:
            event = self._events[index] = self._decode(self.notifications[index])
        return event


class NotificationFeed:
    """Pages of the store shared by the runners of one process: a full page is read and decoded once.

    Runners that rebuild together ask for the same pages, so the second one finds the page the
    first one read. Only full pages are kept (notification ids commit in order, so a full page can
    never change); a short page at the end of the store is read afresh each time.

    A runner whose projection takes some topics only asks for those: the database passes the
    others over, and they are never read, decoded or skipped here (`Page.end` says how far the
    page covered the store, so the runner's position still reaches the store's last notification).
    """

    def __init__(self, store: Demands, keep: int = 4) -> None:
        self.store = store
        self.keep = keep
        self._pages: OrderedDict[_Key, Future[Page]] = OrderedDict()
        self._lock = threading.Lock()

    def page(
        self,
        after: int,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        residents: bool = True,
    ) -> Page:
        """Up to `limit` notifications after position `after` (and at most up to `stop`), of `topics`
        only if any are given; without `residents`, decoded without opening residents."""
        key = (after, limit, stop, tuple(sorted(set(topics))), residents)
        with self._lock:
            future = self._pages.get(key)
            reader = future is None
            if future is None:
                future = self._pages[key] = Future()
                while len(self._pages) > self.keep:
                    self._pages.popitem(last=False)
        return self._read(key, future) if reader else future.result()

    def _read(self, key: _Key, future: Future[Page]) -> Page:
        after, limit, stop, topics, residents = key
        recorder = self.store.recorder
        try:
            if topics:
                # What was committed before the read: notification ids commit in order, so every
                # notification up to here is in the store and the filtered read sees all of them.
                # A short page then covers the store up to here, and no further.
                last = max(after, recorder.max_notification_id() or 0)
                stop = last if stop is None else min(stop, last)
            notifications = recorder.select_notifications(
                start=after, limit=limit, stop=stop, topics=topics, inclusive_of_start=False
            )
        except BaseException as error:
            with self._lock:
                self._pages.pop(key, None)
            future.set_exception(error)
            raise
        mapper = self.store.mapper
        if residents and isinstance(mapper, PydanticMapper):
            mapper.prefetch_keys(notifications)  # one keyring query a page, not one per resident
        if notifications and (len(notifications) == limit or not topics):
            end = notifications[-1].id
        else:
            end = after if stop is None else max(after, stop)  # a short page of some topics
        page = Page(notifications, self.store, end, residents)
        if len(notifications) < limit:
            with self._lock:
                self._pages.pop(key, None)
        future.set_result(page)
        return page


_Key = tuple[int, int, int | None, tuple[str, ...], bool]
"""A page's key in the feed: after, limit, stop, topics, residents."""


@dataclass(frozen=True)
class ProjectionSpec(Generic[V]):
    """A view class and how to build its projection (policies and all) around a view of it."""

    view: type[V]
    projection: Callable[[V], Projection[V]]
    options: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """What the view is opened with beside its database and suffix (the demand index's calendar)."""

    @property
    def name(self) -> str:
        """The view's name."""
        return self.view.name

    def open(self, db: Database, suffix: str = "", *, indexes: bool = True) -> V:
        """The view over `db` (its tables with `suffix`), with the spec's options."""
        return self.view(db, suffix, indexes=indexes, **self.options)


class ProjectionRunner:
    """Keeps one view up to date from the store in a thread of its own, until stopped."""

    def __init__(
        self,
        spec: ProjectionSpec[Any],
        store: Demands,
        open_database: Callable[[], Database],
        *,
        suffix: str = "",
        page_size: int = PAGE_SIZE,
        poll_interval: float = 0.05,
        max_backoff: float = 30.0,
        follow: bool = True,
        fresh: bool = False,
        until: int | None = None,
        feed: NotificationFeed | None = None,
    ) -> None:
        self.spec = spec
        self.feed = feed or NotificationFeed(store)
        self.name = spec.name
        self.store = store
        self.open_database = open_database
        self.suffix = suffix
        self.page_size = page_size
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.follow = follow
        self.fresh = fresh
        """Drop the view's tables once, under its writer lock, before the first page (a rebuild)."""
        self.until = until
        """Stop once this position is processed (a rebuild compared with a live view standing there)."""
        self.position = 0
        self.events = 0
        """Notifications read for the view (of its projection's topics only, if it names some)."""
        self.failures = 0
        self.error: BaseException | None = None
        self.fatal = False
        self._failed_at: int | None = None
        self._pending = 0
        self._said_well = False
        self._stopping = threading.Event()
        self.ready = threading.Event()
        """Set once the runner holds its view's writer lock and knows its position (or failed for good)."""
        self._progress = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=f"projection-{self.name}", daemon=True)

    # ---- control -----------------------------------------------------------------------------

    def start(self) -> ProjectionRunner:
        """Start following in the background."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current page and wait for the thread."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread to end (a runner that does not follow ends once caught up)."""
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        """Whether the thread runs (it keeps running through failures, retrying)."""
        return self._thread.is_alive()

    def wait(self, position: int, timeout: float = 30.0, *, raise_errors: bool = True) -> None:
        """Block until the view has processed `position`; raise the runner's error as soon as it fails."""
        deadline = monotonic() + timeout
        failures = self.failures
        with self._progress:
            while self.position < position:
                if raise_errors and self.error is not None and (self.failures > failures or self.fatal):
                    raise self.error
                if not self._thread.is_alive() and not self._stopping.is_set() and self.error is not None:
                    raise self.error
                left = deadline - monotonic()
                if left <= 0:
                    raise TimeoutError(f"projection {self.name} is at {self.position}, not yet at {position}")
                self._progress.wait(min(left, 0.1))

    # ---- the thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        delay = 1.0
        while not self._stopping.is_set():
            try:
                self._follow()
                return
            except WriterBusyError as error:
                self._failed(error, fatal=True)  # whoever waits for it says so (wait_ready raises it)
                return
            except Exception as error:
                self._failed(error)
                log.error(
                    "projection failed; restarting from its last position",
                    projection=self.name, position=self.position, error=f"{type(error).__name__}: {error}",
                    retry_in=delay,
                )  # fmt: skip
                if self._stopping.wait(delay):
                    return
                delay = min(delay * 2, self.max_backoff)

    def _failed(self, error: BaseException, fatal: bool = False) -> None:
        if not fatal:  # said before anyone waiting hears of it, so health knows by then
            self._said_well = False
            self._say_failing(error, self.failures + 1)
        with self._progress:
            self.error, self.fatal = error, fatal
            self.failures += 1
            self._progress.notify_all()
        if fatal:
            self.ready.set()

    def _say_failing(self, error: BaseException, failures: int) -> None:
        try:  # said from a connection of its own: the view's may be what failed
            db = self.open_database()
            try:
                status.record(db, self.name + self.suffix, error, failures)
            finally:
                db.close()
        except Exception as unsaid:  # the database that failed may be where it would be said
            log.warning(
                "cannot record a projection's failure", projection=self.name, error=type(unsaid).__name__
            )

    def _well(self, db: Database) -> None:
        """Say once, after a start or a failure, that the runner takes its events again."""
        if not self._said_well and self._failed_at is None:
            status.record(db, self.name + self.suffix, None, self.failures)
            self._said_well = True

    def _follow(self) -> None:
        self._pending = 0
        with ExitStack() as stack:
            db = self.open_database()
            stack.callback(db.close)
            lock = db.writer_lock(self.name + self.suffix)
            stack.callback(lock.release)
            # Secondary indexes wait until the view has caught up: a rebuild (or a first start)
            # fills its tables without keeping every index up to date page after page.
            view = self.spec.open(db, self.suffix, indexes=False)
            if self.fresh:
                view.drop()
                self.fresh = False  # a restart after a failure resumes the rebuild, not restarts it
            elif view.outdated():
                log.warning(
                    "view's tables are of an older shape: rebuilding it from zero", projection=self.name
                )
                view.drop()
            projection = self.spec.projection(view)
            with self._progress:
                self.position = view.position()
                self._progress.notify_all()
            self.ready.set()
            topics = tuple(projection.topics)  # read from the store for it, the others left there
            residents = projection.residents
            checked = monotonic()
            while not self._stopping.is_set():
                if monotonic() - checked > 5:
                    if not lock.alive():
                        raise RuntimeError(f"lost the writer lock of view {self.name}")
                    checked = monotonic()
                done = self.until is not None and self.position >= self.until
                page = (
                    None
                    if done
                    else self.feed.page(self.position, self.page_size, self.until, topics, residents)
                )
                if page is None or page.end <= self.position:
                    if not view.indexed:
                        view.create_indexes()
                    self._well(db)
                    if not self.follow:
                        return
                    self._stopping.wait(self.poll_interval)
                    continue
                failed_at = self._failed_at
                careful = (
                    failed_at is not None
                    and bool(page.notifications)
                    and page.notifications[0].id <= failed_at
                )
                try:
                    self._process(page, projection, view, careful)
                except Exception:
                    if careful:
                        raise
                    # Step through the failed page one event at a time: everything before the
                    # event that fails is committed, and the view stops exactly before it.
                    self._process(page, projection, view, careful=True)
                page = None  # its events go before the next page is read: one page held, not two
                if self._failed_at is not None and self.position >= self._failed_at:
                    self._failed_at = None
                    with self._progress:
                        self.error = None
                    log.info("projection recovered", projection=self.name, position=self.position)
                self._well(db)
            if not view.indexed:
                view.create_indexes()  # stopped before it caught up: the view is queried all the same

    def _process(self, page: Page, projection: Projection[Any], view: View, careful: bool) -> None:
        process = projection.process_event  # dispatchers are rebuilt on each attribute access
        for index, notification in enumerate(page.notifications):
            if notification.id <= self.position:
                continue
            self._pending += 1
            try:
                process(page.event(index), notification.id)
            except BaseException:
                self._failed_at = notification.id
                self._pending = 0
                view.discard()
                raise
            if careful:
                self._commit(view, notification.id)
        self._commit(view, page.end)

    def _commit(self, view: View, position: int) -> None:
        if position <= self.position:
            return
        try:
            view.commit(position)
        except BaseException:
            self._failed_at = self._failed_at or position
            raise
        with self._progress:
            self.position = position
            self.events += self._pending
            self._pending = 0
            self._progress.notify_all()


class RunningProjections:
    """The started runners, and a way to wait until they have caught up with the store."""

    def __init__(self, runners: Sequence[ProjectionRunner], store: Demands) -> None:
        self.runners = {runner.name: runner for runner in runners}
        self.store = store

    def check(self) -> None:
        """Raise the error of a runner that is failing now, if any is."""
        for runner in self.runners.values():
            if runner.error is not None:
                raise runner.error

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until every runner holds its writer lock; raise the error of one that cannot run."""
        deadline = monotonic() + timeout
        for runner in self.runners.values():
            runner.ready.wait(max(0.0, deadline - monotonic()))
        self.raise_fatal()

    def raise_fatal(self) -> None:
        """Raise the error of a runner that stopped for good (another process writes its view)."""
        for runner in self.runners.values():
            if runner.fatal and runner.error is not None:
                raise runner.error

    def lag(self) -> dict[str, int]:
        """How many notifications each view is behind the store."""
        last = self.store.recorder.max_notification_id() or 0
        return {name: max(0, last - runner.position) for name, runner in self.runners.items()}

    def wait_until_caught_up(self, timeout: float = 30.0) -> None:
        """Block until every view has processed the store up to its current last notification.

        Raises a runner's error as soon as it happens, TimeoutError after `timeout`.
        """
        target = self.store.recorder.max_notification_id() or 0
        deadline = monotonic() + timeout
        for runner in self.runners.values():
            runner.wait(target, timeout=max(0.0, deadline - monotonic()))


@contextmanager
def running_projections(
    specs: Sequence[ProjectionSpec[Any]],
    store: Demands,
    open_database: Callable[[], Database],
    **options: Any,
) -> Iterator[RunningProjections]:
    """Run a runner per spec while the block runs; stop them all on the way out."""
    feed = NotificationFeed(store, keep=2 * len(specs) + 2)
    runners = [ProjectionRunner(spec, store, open_database, feed=feed, **options) for spec in specs]
    try:
        for runner in runners:
            runner.start()
        yield RunningProjections(runners, store)
    finally:
        for runner in runners:
            runner.stop()
