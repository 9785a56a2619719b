"""The composition root: every part of microdemand built from one Settings, in one place.

The CLI, the worker, the projections process, the HTTP API and the tests get their parts here;
nothing below `adapters/` reads the environment. Errors raise (a bad policy file, a database
that is down); only the entry points turn them into messages for people.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone, tzinfo
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from temporalio.client import Client
    from temporalio.worker import Worker

    from adapters.codec import ResidentCodec
    from adapters.demands_client import DemandsClient
    from adapters.keyring import ResidentKeyring
    from adapters.keys import Keys
    from adapters.settings import Settings
    from engine.application import Demands
    from engine.directory import Directory
    from engine.lookup import ResidentLookup
    from engine.policies.points import PointsPolicy
    from engine.policies.timelimits import TimeLimits
    from engine.sealing import Sealer
    from engine.timebank import TimeBank
    from projections.database import Database
    from projections.index.view import DemandIndexView
    from projections.points.view import PointsView
    from projections.runner import ProjectionSpec, RunningProjections

# Each part is imported where it is built, not here: a CLI verb that reads one view should not
# pay for eventsourcing, the projections and Temporal at start (see bench/cli_start.py).

_creating = threading.local()
"""Whether this thread holds the lock of `System.creating_tables` already."""
_made: set[tuple[str, str]] = set()
"""(schema, what) whose tables this process has created or found: no lock is needed for them again."""
SANDBOXED_MODULES = ("workflows", "workflows.demand")
"""The modules the workflow sandbox imports anew for every workflow (the rest is passed through)."""
PACKAGES = ("engine", "workflows", "projections", "adapters")
"""The project's packages: `up` writes their bytecode, so every CLI call starts as an installed one."""
ACTIVITY_THREADS = 8
"""Concurrent appends: the store's work is I/O-bound, but SQLite has one writer at a time."""


class StoreUnavailableError(RuntimeError):
    """The event store's database cannot be used; the message names it and says why."""


class StartupError(RuntimeError):
    """A part of the stack cannot start (a port taken, a server that will not come up): said in
    one line, as a user's problem to fix, never as a traceback."""


def is_store_error(error: BaseException) -> bool:
    """Whether `error` says an event store or view database is down, missing or locked."""
    import sqlite3

    from eventsourcing.persistence import OperationalError

    if isinstance(error, OperationalError | sqlite3.OperationalError):
        return True
    try:
        import psycopg
        from psycopg_pool import PoolTimeout
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(error, psycopg.OperationalError | PoolTimeout)


class System:
    """Builds the store, the time bank, the views, the projections, the Temporal client and the worker."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    # ---- policies ------------------------------------------------------------------------------

    @cached_property
    def time_limits(self) -> TimeLimits:
        """The time-limit policy (PolicyError if its file is invalid)."""
        return self.settings.time_limits

    @cached_property
    def points_policy(self) -> PointsPolicy:
        """The points policy (PolicyError if its file is invalid)."""
        return self.settings.points_policy

    @property
    def local_zone(self) -> tzinfo:
        """The local time of reports, buckets and the times the CLI shows (UTC+8 in China): the
        `time_zone` setting's zone if given, else the fixed `report_utc_offset_hours`."""
        if self.settings.time_zone:
            from zoneinfo import ZoneInfo

            return ZoneInfo(self.settings.time_zone)
        return timezone(timedelta(hours=self.settings.report_utc_offset_hours))

    @property
    def zone_label(self) -> str:
        """The local time as a label shown once beside times: `Asia/Shanghai`, `UTC+8`, `UTC`, `UTC+5.5`."""
        if self.settings.time_zone:
            return self.settings.time_zone
        hours = self.settings.report_utc_offset_hours
        return "UTC" if not hours else f"UTC{hours:+g}"

    @property
    def utc_offset(self) -> timedelta:
        """The local time's offset from UTC now (calendar buckets are counted with it)."""
        return datetime.now(self.local_zone).utcoffset() or timedelta(0)

    # ---- where things are stored ---------------------------------------------------------------

    @property
    def where(self) -> str:
        """The store, as said to people."""
        s = self.settings
        if s.store == "postgres":
            return f"PostgreSQL {s.postgres_dbname} at {s.postgres_host}:{s.postgres_port}"
        return f"the SQLite files in {s.var_dir}"

    def store_env(self) -> dict[str, str]:
        """eventsourcing settings for the event store."""
        s = self.settings
        if s.store == "postgres":
            return self._postgres_env()
        path = s.sqlite_path or s.var_dir / "events.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "10",
        }

    def timebank_env(self) -> dict[str, str]:
        """Where the time bank is stored: its own SQLite file beside the events, or the same PostgreSQL.

        SQLite keeps every application in one `stored_events` table per file, so the time bank gets
        a file of its own: its events must not appear in the demands' notification log. On
        PostgreSQL each application has its own table (`timebank_events`) in the store's schema.
        """
        return self._beside_the_store("timebank.db")

    def directory_env(self) -> dict[str, str]:
        """Where the directory (identities, tokens, disclosures) is stored: as the time bank is."""
        return self._beside_the_store("directory.db")

    def _beside_the_store(self, filename: str) -> dict[str, str]:
        env = self.store_env()
        if self.settings.store == "sqlite":
            env["SQLITE_DBNAME"] = str(
                (self.settings.sqlite_path or self.settings.var_dir / "events.db").with_name(filename)
            )
        return env

    @cached_property
    def keys(self) -> Keys:
        """The deployment's keys (created under var/keys/ on the embedded default; KeyMissingError else)."""
        from adapters.keys import load_keys

        return load_keys(self.settings)

    @cached_property
    def resident_lookup(self) -> ResidentLookup:
        """The keyed hashes of residents' phone numbers and names (under the lookup key)."""
        from engine.lookup import ResidentLookup

        return ResidentLookup(self.keys.lookup)

    @cached_property
    def keyring(self) -> ResidentKeyring:
        """Residents' own keys: `keyring.db` beside the events, or a table in the store's schema."""
        from adapters.keyring import ResidentKeyring

        s = self.settings
        keys = self.keys
        if s.store == "postgres":
            with self.creating_tables("keyring"):
                return ResidentKeyring(
                    codec_key=keys.codec, previous_codec_keys=keys.codec_previous,
                    postgres=self._conninfo(), schema=s.postgres_schema, pool_size=s.postgres_pool_size,
                )  # fmt: skip
        path = Path(self._beside_the_store("keyring.db")["SQLITE_DBNAME"])
        return ResidentKeyring(
            codec_key=keys.codec, previous_codec_keys=keys.codec_previous, sqlite_path=path
        )

    @cached_property
    def sealer(self) -> Sealer:
        """Seals residents with their own keys: in the store's events and in Temporal's payloads."""
        from engine.sealing import Sealer

        return Sealer(self.keyring, self.resident_lookup)

    def payload_codec(self) -> ResidentCodec:
        """The Temporal payload codec with this deployment's keys (a codec endpoint serves this one)."""
        from adapters.codec import ResidentCodec

        return ResidentCodec(self.keys.codec, self.sealer, self.keys.codec_previous)

    @contextmanager
    def creating_tables(self, what: str) -> Iterator[None]:
        """Around what may create the store's tables: on PostgreSQL a session advisory lock, so
        processes starting at once on a fresh schema never run the same `CREATE ... IF NOT EXISTS`
        together (PostgreSQL refuses one: "tuple concurrently updated"). Re-entrant in a thread; once
        `what`'s tables stand, the process opens it again without the lock (an HTTP request opens
        the store or the time bank, and must not pay a connection for the lock each time)."""
        made = (self.settings.postgres_schema or "public", what)
        if self.settings.store != "postgres" or getattr(_creating, "held", False) or made in _made:
            yield
            return
        import zlib

        from projections.database import connect_patiently

        key = zlib.crc32(f"microdemand:{self.settings.postgres_schema or 'public'}:store-ddl".encode())
        patience = self.settings.postgres_connect_timeout
        with connect_patiently(self._conninfo(), patience, autocommit=True) as connection:
            connection.execute("SELECT pg_advisory_lock(%s)", (key,))
            _creating.held = True
            try:
                yield
                _made.add(made)
            finally:
                _creating.held = False
                connection.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def _conninfo(self) -> dict[str, Any]:
        s = self.settings
        return {
            "host": s.postgres_host, "port": s.postgres_port, "dbname": s.postgres_dbname,
            "user": s.postgres_user, "password": s.postgres_password.get_secret_value(),
            "connect_timeout": s.postgres_connect_timeout,
        }  # fmt: skip

    def _postgres_env(self) -> dict[str, str]:
        s = self.settings
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_HOST": s.postgres_host,
            "POSTGRES_PORT": str(s.postgres_port),
            "POSTGRES_DBNAME": s.postgres_dbname,
            "POSTGRES_USER": s.postgres_user,
            "POSTGRES_PASSWORD": s.postgres_password.get_secret_value(),
            # At most `postgres_pool_size` connections, one kept open and the rest made while needed:
            # each process opens the store, the directory and the time bank, and a deployment's
            # processes starting at once must not take every connection slot the server has.
            "POSTGRES_POOL_SIZE": "1",
            "POSTGRES_MAX_OVERFLOW": str(max(0, s.postgres_pool_size - 1)),
            "POSTGRES_CONNECT_TIMEOUT": str(s.postgres_connect_timeout),
            "POSTGRES_PRE_PING": "y",  # a connection that dropped is replaced, not handed out
        }
        if s.postgres_schema:
            env["POSTGRES_SCHEMA"] = s.postgres_schema
        return env

    def check_database(self) -> None:
        """Connect to PostgreSQL once, directly: a wrong name or a server that is down is said at once,
        not after a pool has retried for minutes. StoreUnavailableError if it cannot be used."""
        s = self.settings
        if s.store != "postgres":
            return
        import psycopg

        from projections.database import connect_patiently

        conninfo = {**self._conninfo(), "password": s.postgres_password.get_secret_value() or None}
        try:
            connect_patiently(conninfo, s.postgres_connect_timeout).close()
        except psycopg.OperationalError as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise StoreUnavailableError(f"cannot use {self.where}: {reason}") from None

    def views_database(self) -> Database:
        """The views' database: its own SQLite file, or the store's PostgreSQL schema."""
        from projections.database import PostgresDatabase, SQLiteDatabase

        s = self.settings
        if s.store == "postgres":
            conninfo = {
                "host": s.postgres_host, "port": s.postgres_port, "dbname": s.postgres_dbname,
                "user": s.postgres_user, "password": s.postgres_password.get_secret_value(),
            }  # fmt: skip
            return PostgresDatabase(
                conninfo, s.postgres_schema, s.postgres_pool_size, s.postgres_connect_timeout
            )
        return SQLiteDatabase(s.views_sqlite_path or s.var_dir / "views.db")

    @contextmanager
    def scratch_database(self) -> Iterator[Database]:
        """A throw-away SQLite views database in a temporary folder, removed on the way out.

        Views as they stood at a moment, or under another policy, are built here: never in the
        live views' database, whose tables and writers they must not disturb.
        """
        from projections.database import SQLiteDatabase

        with tempfile.TemporaryDirectory(prefix="microdemand-scratch-") as folder:
            db = SQLiteDatabase(Path(folder) / "views.db")
            try:
                yield db
            finally:
                db.close()

    # ---- the store and the views -------------------------------------------------------------

    def open_store(self) -> Demands:
        """The event-store application (the caller closes it)."""
        from engine.application import Demands

        with self.creating_tables("store"):
            return Demands(
                env=self.store_env(), limits=self.time_limits, actor_key=self.keys.actor, sealer=self.sealer
            )

    @contextmanager
    def store(self) -> Iterator[Demands]:
        """The event-store application, closed on the way out."""
        store = self.open_store()
        try:
            yield store
        finally:
            store.close()

    @contextmanager
    def directory(self) -> Iterator[Directory]:
        """The directory of identities, tokens and disclosures, closed on the way out."""
        from engine.directory import Directory

        with self.creating_tables("directory"):
            directory = Directory(self.directory_env())
        try:
            yield directory
        finally:
            directory.close()

    def ensure_administrator(self) -> Path | None:
        """On a directory with no administrator, register `admin` and write its token to the token
        file (mode 600); the file's path, or None if there was one already."""
        from engine.access import Identity, Role

        with self.directory() as directory:
            if directory.has_administrator():
                return None
            directory.register(Identity(name="admin", role=Role.ADMINISTRATOR))
            token = directory.issue("admin", "created by `microdemand init`")
        path = self.token_file
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(token + "\n")
        return path

    @property
    def token_file(self) -> Path:
        """Where the CLI's token is kept when none is set: `<var_dir>/admin.token` by default."""
        return self.settings.token_file or self.settings.var_dir / "admin.token"

    @contextmanager
    def index_view(self) -> Iterator[DemandIndexView]:
        """The demand index for reading, closed on the way out."""
        from projections.index.view import DemandIndexView

        view = DemandIndexView(self.views_database(), utc_offset=self.utc_offset)
        try:
            yield view
        finally:
            view.close()

    @contextmanager
    def points_view(self) -> Iterator[PointsView]:
        """The points ledger for reading, closed on the way out."""
        from projections.points.view import PointsView

        view = PointsView(self.views_database())
        try:
            yield view
        finally:
            view.close()

    @contextmanager
    def time_bank(self, ledger: PointsView | None = None) -> Iterator[TimeBank]:
        """The time bank, reading earned points from `ledger` (or a points view of its own)."""
        from engine.timebank import TimeBank

        with ExitStack() as stack:
            if ledger is None:
                ledger = stack.enter_context(self.points_view())
            with self.creating_tables("timebank"):
                bank = TimeBank(self.timebank_env(), ledger=ledger)
            stack.callback(bank.close)
            yield bank

    # ---- projections -------------------------------------------------------------------------

    def projection_specs(self, points_policy: PointsPolicy | None = None) -> tuple[ProjectionSpec[Any], ...]:
        """Every projection the system runs: the demand index and the points ledger.

        `points_policy` prices the ledger by another policy than the configured one (`whatif`).
        """
        from projections.index.projection import DemandIndexProjection
        from projections.index.view import DemandIndexView
        from projections.points.projection import PointsProjection
        from projections.points.view import PointsView
        from projections.runner import ProjectionSpec

        policy = points_policy or self.points_policy
        lookup = self.resident_lookup
        return (
            ProjectionSpec(
                DemandIndexView,
                lambda view: DemandIndexProjection(view, lookup),
                {"utc_offset": self.utc_offset},
            ),
            ProjectionSpec(PointsView, lambda view: PointsProjection(view, policy)),
        )

    @contextmanager
    def projections(
        self, specs: Sequence[ProjectionSpec[Any]] | None = None, **options: Any
    ) -> Iterator[RunningProjections]:
        """Run the projections (all, or `specs`) while the block runs, each the only writer of its view."""
        from projections.runner import running_projections

        with ExitStack() as stack:
            store = stack.enter_context(self.store())
            running = stack.enter_context(
                running_projections(specs or self.projection_specs(), store, self.views_database, **options)
            )
            yield running

    # ---- Temporal ------------------------------------------------------------------------------

    async def temporal(self) -> Client:
        """A Temporal client for the configured target (TLS, API key), speaking pydantic payloads."""
        from adapters.temporal import connect

        return await connect(self.settings, self.keys.codec, self.sealer, self.keys.codec_previous)

    async def client(self) -> DemandsClient:
        """The demands' client: push, command, ask."""
        from adapters.demands_client import DemandsClient

        return DemandsClient(await self.temporal(), self.settings.task_queue)

    def worker(self, client: Client, store: Demands, **overrides: Any) -> Worker:
        """A worker on the configured task queue, recording through `store` on its own thread pool.

        `overrides` replace Worker options (tests swap in a faulty recorder or a shorter run).
        """
        from temporalio.worker import Worker

        from adapters.sandbox import workflow_runner
        from workflows.activities import Recorder
        from workflows.demand import MicroDemandWorkflow

        write_bytecode(SANDBOXED_MODULES)
        recorder = Recorder(store)
        options: dict[str, Any] = {
            "task_queue": self.settings.task_queue,
            "workflows": [MicroDemandWorkflow],
            "activities": [recorder.record, recorder.lookup, recorder.reject],
            "activity_executor": ThreadPoolExecutor(ACTIVITY_THREADS, thread_name_prefix="record"),
            "max_concurrent_activities": ACTIVITY_THREADS,
            "graceful_shutdown_timeout": timedelta(seconds=10),  # let in-flight appends finish
            "workflow_runner": workflow_runner(),
        }
        return Worker(client, **{**options, **overrides})


def write_bytecode(modules: Sequence[str]) -> None:
    """Compile `modules` (a package: every module in it) to bytecode on disk, as `pip install` does.

    The workflow sandbox imports its modules anew for every workflow; with no bytecode on disk (an
    editable install under PYTHONDONTWRITEBYTECODE) each import compiles the source again, a fifth
    of a busy worker's time, and a tenth of a CLI call's (docs/benchmarks.md). Up-to-date files are
    left as they are; where the files cannot be written, only that is lost.
    """
    import compileall
    import importlib.util

    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        try:
            for folder in spec.submodule_search_locations or ():
                compileall.compile_dir(folder, quiet=2)
            if spec.origin and spec.origin.endswith(".py"):
                compileall.compile_file(spec.origin, quiet=2)
        except OSError:
            continue
