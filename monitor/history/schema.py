"""The state database's schema, built by sqlite-utils' ``Migrations``, and how values are stored.

Tables: ``products`` (one row per URL + SKU, with the last check's outcome), ``prices``
(run-length price history: an unchanged price only bumps ``last_seen`` and ``checks``),
``orders`` (a copy of the config's orders, for ``status`` and claims), ``alerts`` (the outbox:
a unique dedupe key per alert, written before it is sent), ``claims``, ``window_labels``
(the window a product page's label gave an order) and ``pending_drops`` (a drop waiting for
the look that confirms it).

Times are stored as UTC ISO text, amounts as decimal text (never a float), lists as JSON.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils
from sqlite_utils.migrations import Migrations

from monitor.errors import DatabaseLocked, DiskFull

migrations = Migrations("price-monitor")
T = TypeVar("T")


@migrations(name="0001_initial")
def _initial(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE products (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL,
            sku TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            last_checked_at TEXT,
            last_status TEXT,
            last_reason TEXT,
            failures INTEGER NOT NULL DEFAULT 0,
            failing_since TEXT,
            UNIQUE (url, sku)
        )"""
    )
    db.execute(
        """
        CREATE TABLE prices (
            id INTEGER PRIMARY KEY,
            product_id INTEGER NOT NULL REFERENCES products(id),
            amount TEXT NOT NULL,
            currency TEXT NOT NULL,
            availability TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            checks INTEGER NOT NULL DEFAULT 1
        )"""
    )
    db.execute("CREATE INDEX prices_by_product ON prices (product_id, id)")
    db.execute(
        """
        CREATE TABLE orders (
            id TEXT PRIMARY KEY,
            product_id INTEGER NOT NULL REFERENCES products(id),
            shop TEXT NOT NULL,
            title TEXT NOT NULL,
            paid TEXT NOT NULL,
            currency TEXT NOT NULL,
            quantity INTEGER NOT NULL,
            ordered TEXT NOT NULL,
            delivered TEXT,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            dedupe_key TEXT NOT NULL UNIQUE,
            order_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            markdown TEXT,
            tags TEXT NOT NULL DEFAULT '[]',
            attachments TEXT NOT NULL DEFAULT '[]',
            delivered TEXT NOT NULL DEFAULT '[]',
            amount TEXT,
            currency TEXT,
            created_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_at TEXT NOT NULL,
            sent_at TEXT
        )"""
    )
    db.execute("CREATE INDEX alerts_due ON alerts (status, next_attempt_at)")
    db.execute("CREATE INDEX alerts_by_order ON alerts (order_id, kind)")
    db.execute(
        """
        CREATE TABLE claims (
            id INTEGER PRIMARY KEY,
            order_id TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('claimed', 'refunded', 'rejected')),
            price TEXT,
            amount TEXT,
            currency TEXT,
            note TEXT,
            at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX claims_by_order ON claims (order_id, id)")


@migrations(name="0002_outbox_lease")
def _outbox_lease(db: sqlite_utils.Database) -> None:
    """An alert being sent is ``sending``, leased to one sender (its owner) until an expiry.

    SQLite cannot change a CHECK constraint in place: the table is built anew, rows copied.
    """
    db.execute(
        """
        CREATE TABLE alerts_leased (
            id INTEGER PRIMARY KEY,
            dedupe_key TEXT NOT NULL UNIQUE,
            order_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            markdown TEXT,
            tags TEXT NOT NULL DEFAULT '[]',
            attachments TEXT NOT NULL DEFAULT '[]',
            delivered TEXT NOT NULL DEFAULT '[]',
            amount TEXT,
            currency TEXT,
            created_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_at TEXT NOT NULL,
            sent_at TEXT,
            lease_owner TEXT,
            lease_until TEXT
        )"""
    )
    db.execute(
        "INSERT INTO alerts_leased (id, dedupe_key, order_id, kind, title, body, markdown, tags, "
        "attachments, delivered, amount, currency, created_at, status, attempts, last_error, "
        "next_attempt_at, sent_at) SELECT id, dedupe_key, order_id, kind, title, body, markdown, "
        "tags, attachments, delivered, amount, currency, created_at, status, attempts, last_error, "
        "next_attempt_at, sent_at FROM alerts"
    )
    db.execute("DROP TABLE alerts")
    db.execute("ALTER TABLE alerts_leased RENAME TO alerts")
    db.execute("CREATE INDEX alerts_due ON alerts (status, next_attempt_at)")
    db.execute("CREATE INDEX alerts_by_order ON alerts (order_id, kind)")


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """A transaction that takes the write lock at once (BEGIN IMMEDIATE); nested, a savepoint.

    sqlite-utils' own ``atomic()`` starts with a plain BEGIN, and its inserts read the
    schema before they write: a transaction that has read cannot wait for the write lock
    (SQLite answers "database is locked" at once instead of waiting ``busy_timeout``), so
    another process holding the database for a moment would fail the write.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield
        return
    started = time.monotonic()
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        raise DatabaseLocked(waited=time.monotonic() - started, holder=_holder(db)) from exc
    try:
        yield
        db.execute("COMMIT")
    except BaseException as exc:
        if db.conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # the error below is the one to tell
                db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error) and out_of_space(exc, _path_of(db)):
            raise DiskFull(_path_of(db)) from exc
        raise


def out_of_space(exc: BaseException, path: str) -> bool:
    """Return True when ``exc``, met writing the database at ``path``, means the disk is full:
    SQLite says so ("database or disk is full"), or answers "disk I/O error" (it does when
    its shared-memory file cannot grow) on a file system with no space left."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if not isinstance(exc, sqlite3.Error):
        return False
    if "full" in str(exc):
        return True
    if "disk I/O error" in str(exc):
        return free_bytes(path) == 0
    return False


def free_bytes(path: str) -> int | None:
    """Bytes an ordinary process may still write on the file system of the database at
    ``path``, or None when that cannot be told."""
    try:
        info = os.statvfs(Path(path).parent)
    except OSError:
        return None
    return info.f_bavail * info.f_frsize


def _path_of(db: sqlite_utils.Database) -> str:
    """The file of a connection's main database."""
    for _, name, path in db.conn.execute("PRAGMA database_list"):
        if name == "main":
            return str(path)
    return "?"


@migrations(name="0003_claims_ledger")
def _claims_ledger(db: sqlite_utils.Database) -> None:
    """A refund records what it was paid in; a claim alert, what it asked the shop for."""
    db.execute("ALTER TABLE claims ADD COLUMN form TEXT")  # NULL: cash
    db.execute("ALTER TABLE alerts ADD COLUMN asked TEXT")  # in the alert's currency


@migrations(name="0004_window_labels")
def _window_labels(db: sqlite_utils.Database) -> None:
    """The window a product page's label ("15天价保") gave an order that sets none of its
    own: the longest seen, on the product it was seen on, and when that was first seen."""
    db.execute(
        """
        CREATE TABLE window_labels (
            order_id TEXT PRIMARY KEY,
            product_id INTEGER NOT NULL REFERENCES products(id),
            days INTEGER NOT NULL,
            seen_at TEXT NOT NULL
        )"""
    )


@migrations(name="0005_pending_drops")
def _pending_drops(db: sqlite_utils.Database) -> None:
    """A drop seen once and waiting for the look that confirms it, one per product: kept in
    the database, so that a restarted daemon or a later ``check`` confirms it."""
    db.execute(
        """
        CREATE TABLE pending_drops (
            product_id INTEGER PRIMARY KEY REFERENCES products(id),
            amount TEXT NOT NULL,
            currency TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            due TEXT NOT NULL
        )"""
    )


# How long a write waits for another process's lock before it gives up (DatabaseLocked).
BUSY_TIMEOUT_MS = 10_000
# The checkpoints the inline writes of ``DatabaseThread.quick`` leave to the thread: one
# every so many of them, so the write-ahead log stays a few megabytes.
CHECKPOINT_EVERY = 500


class DatabaseThread:
    """The one thread a connection's work runs in while an event loop runs.

    SQLite calls block: a write waits for another process's lock for up to the busy timeout,
    and a big read takes milliseconds. The daemon (and ``check``) hand that work to this
    thread (``run``), so fetching, the outbox, the watchdog and SIGTERM never wait for the
    database; one thread keeps the calls in order and the connection in one hand at a time.
    The synchronous commands call the database directly.

    A check's few rows are too small to hand over: a hand-over, with the two threads taking
    turns at the GIL, cost a check pass about a millisecond of CPU per product. ``quick``
    does such work at once, in the loop, when the database is free (nothing waits in the
    thread, and SQLite, told not to wait, finds no other process's lock); otherwise it hands
    it over like ``run``. So the loop never waits for a lock, and the checkpoints SQLite
    would make in a commit (an fsync) are made in the thread too.
    """

    def __init__(self, conn: sqlite3.Connection | None = None) -> None:
        self._conn = conn
        self._executor: ThreadPoolExecutor | None = None
        self._handed: list[concurrent.futures.Future[Any]] = []  # not done yet, maybe
        self._inline_writes = 0
        self._inline = False  # quick() has run work in the loop: see there

    async def run(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run ``work(*args, **kwargs)`` in the database thread; return its result."""
        return await asyncio.wrap_future(self._hand_over(work, *args, **kwargs))

    async def quick(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run ``work(*args, **kwargs)``, a few rows' worth, at once if the database is free,
        else in the database thread; return its result.

        ``work`` must be safe to run again when it failed on a lock before it wrote
        anything: it is then run again in the thread, where it may wait for the lock.
        """
        conn = self._conn
        if conn is None or conn.in_transaction or not self._idle():
            return await self.run(work, *args, **kwargs)
        if not self._inline:
            # From now on SQLite waits for no lock on this connection, except in the thread
            # (_patient); and the checkpoints its commits would make are the thread's too.
            conn.execute("PRAGMA busy_timeout = 0")
            conn.execute("PRAGMA wal_autocheckpoint = 0")
            self._inline = True
        changes = conn.total_changes
        try:
            result = work(*args, **kwargs)
        except (DatabaseLocked, sqlite3.OperationalError) as exc:
            wrote = conn.total_changes != changes or conn.in_transaction
            if wrote or (isinstance(exc, sqlite3.OperationalError) and "locked" not in str(exc)):
                raise
            return await self.run(work, *args, **kwargs)  # another process holds the lock
        if conn.total_changes != changes:
            self._inline_writes += 1
            if self._inline_writes % CHECKPOINT_EVERY == 0:
                self._hand_over(_checkpoint, conn)
        return result

    def _hand_over(
        self, work: Callable[..., T], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[T]:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="price-monitor-db")
        future = self._executor.submit(self._patient, work, *args, **kwargs)
        self._handed = [f for f in self._handed if not f.done()] + [future]
        return future

    def _patient(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run ``work`` in the thread, waiting for a lock as long as the busy timeout says."""
        if not self._inline or self._conn is None:
            return work(*args, **kwargs)
        self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        try:
            return work(*args, **kwargs)
        finally:
            self._conn.execute("PRAGMA busy_timeout = 0")

    def _idle(self) -> bool:
        """True when the thread holds no work: the connection is free to use here."""
        self._handed = [f for f in self._handed if not f.done()]
        return not self._handed

    def close(self) -> None:
        """Wait for the work handed over to finish (a write is never cut short)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None


def _checkpoint(conn: sqlite3.Connection) -> None:
    """Copy the write-ahead log into the database without waiting for anyone (PASSIVE): what
    SQLite does by itself every 1,000 pages, here in the thread instead of in a commit."""
    with contextlib.suppress(sqlite3.Error):
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def migrate(db: sqlite_utils.Database) -> None:
    """Bring the schema up to date, one process at a time.

    Two processes opening a new database at once (the daemon starting while ``status``
    runs) would both apply the same migration and one would fail on the record of it: the
    pending migrations are applied under the write lock, and looked up again once it is
    held. An up-to-date database is only read.
    """
    if not migrations.pending(db):
        return
    with write_transaction(db):
        migrations.apply(db)


def daemon_pidfile(database: Path) -> Path:
    """Where a running daemon writes its process id, beside its database."""
    return database.with_name(database.name + ".daemon")


def _holder(db: sqlite_utils.Database) -> str | None:
    """Name the daemon that uses this database, when one is running (it may hold the lock)."""
    main = next((r for r in rows(db, "PRAGMA database_list") if r["name"] == "main"), None)
    if main is None or not main["file"]:
        return None
    try:
        pid = int(daemon_pidfile(Path(main["file"])).read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None  # no daemon file, or its process is gone
    return f"`price-monitor run` (pid {pid})"


def rows(
    db: sqlite_utils.Database, sql: str, params: Sequence[object] | Mapping[str, object] = ()
) -> list[sqlite3.Row]:
    """Return a query's rows, each read by column name (``row["amount"]``).

    Like sqlite-utils' ``db.query()``, without the savepoint it puts around every statement:
    a check reads several rows, and thousands of checks run in a pass.
    """
    cursor = db.conn.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor.execute(sql, params).fetchall()


def first(
    db: sqlite_utils.Database, sql: str, params: Sequence[object] | Mapping[str, object] = ()
) -> sqlite3.Row | None:
    """Return a query's first row, read by column name, or None when it finds none."""
    found = rows(db, sql, params)
    return found[0] if found else None


def stamp(moment: datetime) -> str:
    """Return a timezone-aware datetime as the UTC ISO text stored in the database."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def unstamp(text: str) -> datetime:
    """Return a stored time as a timezone-aware datetime."""
    return datetime.fromisoformat(text)


def unstamp_optional(text: str | None) -> datetime | None:
    return unstamp(text) if text is not None else None
