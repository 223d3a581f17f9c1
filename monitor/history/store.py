"""The state database (SQLite through sqlite-utils): products, price history, orders, claims.

The database runs in WAL mode and every write is one transaction, so ``kill -9`` at any point
leaves it consistent. The outbox (``outbox.py``) shares the connection, so an observation
and the alerts it caused are recorded together or not at all.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import sqlite_utils

from monitor.errors import DiskFull, StateError
from monitor.history.labels import WindowLabels
from monitor.history.outbox import Outbox
from monitor.history.pending import PendingDrops
from monitor.history.schema import (
    BUSY_TIMEOUT_MS,
    DatabaseThread,
    first,
    migrate,
    migrations,
    out_of_space,
    rows,
    stamp,
    unstamp,
    unstamp_optional,
    write_transaction,
)
from monitor.models import (
    Availability,
    Claim,
    ClaimState,
    Message,
    Money,
    Observation,
    Order,
    OrderState,
    PriceRun,
    ProductState,
    RefundForm,
    Status,
)
from monitor.private import private_dir, private_file, tighten


def _identity(path: Path) -> tuple[int, int] | None:
    """The file at ``path`` (device and inode), or None when there is none."""
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def _companions(path: Path) -> list[Path]:
    """SQLite's files beside the database ``path``: the write-ahead log and its index."""
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def _database(conn: sqlite3.Connection) -> sqlite_utils.Database:
    """sqlite-utils' Database over ``conn``, without sqlite-utils' plugins: one installed for
    the ``sqlite-utils`` command has no business with this connection, and looking for them
    reads every installed package's metadata at every start."""
    return sqlite_utils.Database(conn, execute_plugins=False)


def _enable_wal(db: sqlite_utils.Database) -> None:
    """Put the database in WAL mode, waiting for other processes that open it at the same
    moment: the switch needs the file to itself, and SQLite answers "database is locked" at
    once, without its busy timeout, when another connection is between reading and writing
    it (8 processes opening a new database at once failed now and then)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            db.enable_wal()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _is_default_state_dir(folder: Path) -> bool:
    """Return True when ``folder`` is where the database lives by default: a place the
    program chose, so its mode is the program's to set."""
    from monitor.config.paths import default_database_path

    try:
        return folder.resolve() == default_database_path().parent.resolve()
    except (OSError, RuntimeError):
        return False


class History:
    """The state database. Open with ``History.open(path)``; close with ``close()``."""

    def __init__(self, db: sqlite_utils.Database, path: Path | None = None) -> None:
        self.db = db
        self.path = path
        self.read_only = False  # set by open_read_only(): writes are skipped or refused
        self._identity = _identity(path) if path is not None else None
        self.thread = DatabaseThread(db.conn)
        self.run = self.thread.run  # await history.run(history.sync_orders, ...): off the loop
        self.quick = self.thread.quick  # await history.quick(history.record, ...): see there
        self.outbox = Outbox(db, self.thread, path)
        self.labels = WindowLabels(db)  # the windows product pages' labels gave orders
        self.pending = PendingDrops(db)  # drops waiting for the look that confirms them

    @classmethod
    def open(cls, path: Path) -> History:
        """Open (creating if needed) the database at ``path`` and bring its schema up to date.

        Private by default (``monitor.private``): the database and SQLite's ``-wal`` and
        ``-shm`` files are ``0600``, tightened if an older version left them looser. Its
        folder is created ``0700``; an existing one is tightened only when it is the default
        state directory (XDG's or systemd's), not a folder the user named in the config.
        """
        try:
            private_dir(path.parent, ours=_is_default_state_dir(path.parent))
            # SQLite gives the -wal and -shm files it creates the database file's mode.
            private_file(path)
            for companion in _companions(path):
                tighten(companion)  # left by an older version: SQLite keeps their mode
            # Autocommit at the driver level: transactions are always explicit (write_transaction),
            # so a stray statement can never leave a write lock held. The connection is used
            # from the database thread while an event loop runs (DatabaseThread), one call at
            # a time.
            db = _database(sqlite3.connect(path, isolation_level=None, check_same_thread=False))
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _enable_wal(db)
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA foreign_keys = ON")
            migrate(db)
            for companion in _companions(path):
                tighten(companion)
        except (OSError, sqlite3.Error) as exc:
            if out_of_space(exc, str(path)):
                raise DiskFull(str(path)) from exc
            raise StateError(f"cannot open the database {path}: {exc}") from exc
        return cls(db, path)

    @classmethod
    def open_read_only(cls, path: Path) -> History:
        """Open the database at ``path`` for reading only: what ``status``, ``alerts`` and
        ``savings`` fall back to when the disk is full and ``open()`` cannot write.

        SQLite's shared-memory index may be impossible to create on a full disk; the file is
        then read as it is on disk (``immutable``), without its write-ahead log: what was
        written since the last checkpoint is not shown. (The index exists whenever another
        process has the database open, and then the log is read.) A database that needs a
        schema update cannot be read this way.
        """
        failure: sqlite3.Error | None = None
        for query in ("mode=ro", "mode=ro&immutable=1"):
            try:
                conn = sqlite3.connect(
                    f"{path.resolve().as_uri()}?{query}", uri=True, check_same_thread=False
                )
                db = _database(conn)
                pending = migrations.pending(db)
            except sqlite3.Error as exc:
                failure = exc
                continue
            if pending:
                conn.close()
                raise DiskFull(str(path))  # it needs writing before it can be read
            history = cls(db, path)
            history.read_only = True
            return history
        raise StateError(f"cannot read the database {path}: {failure}") from failure

    def moved(self) -> str | None:
        """Say how the database file changed under us ("was deleted", "was replaced by
        another file"), or None while it is the file that was opened."""
        if self.path is None or self._identity is None:
            return None
        now = _identity(self.path)
        if now is None:
            return "was deleted"
        if now != self._identity:
            return "was replaced by another file"
        return None

    def close(self) -> None:
        self.thread.close()
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with write_transaction(self.db):
            yield

    # --- products and orders --------------------------------------------------------------

    def product_id(self, url: str, sku: str | None, *, now: datetime) -> int:
        """Return the id of the product at ``url`` + ``sku``, adding it if it is new."""
        return self._product_ids([(url, sku or "")], now=now)[(url, sku or "")]

    def _product_ids(
        self, keys: Sequence[tuple[str, str]], *, now: datetime
    ) -> dict[tuple[str, str], int]:
        # Plain statements, not sqlite-utils' insert_all and query, which build each row's
        # statement anew: a first start with 10,000 orders adds as many products.
        conn = self.db.conn
        created = stamp(now)
        with self.transaction():
            conn.executemany(
                "INSERT OR IGNORE INTO products (url, sku, created_at) VALUES (?, ?, ?)",
                [(url, sku, created) for url, sku in keys],
            )
            select = "SELECT id FROM products WHERE url = ? AND sku = ?"
            return {key: conn.execute(select, key).fetchone()[0] for key in dict.fromkeys(keys)}

    def sync_orders(self, orders: Sequence[Order], *, now: datetime) -> dict[str, int]:
        """Store the config's orders; return each order id's product id.

        Only what changed is written: an unchanged config (every ``status``) writes nothing,
        so reading still works on a full disk. A read-only History writes nothing: it looks
        the orders' products up (``product_ids_of``).
        """
        if self.read_only:
            return self.product_ids_of(orders)
        stored = self._stored_orders()
        changed = {o.id for o in orders if stored.get(o.id, (0, None))[1] != _stored_form(o)}
        product_ids = {o.id: stored[o.id][0] for o in orders if o.id not in changed}
        if not changed:
            return product_ids
        changed_orders = [o for o in orders if o.id in changed]
        # One transaction for the lot: a commit per order made syncing 10,000 orders,
        # which every command and every reload does, take most of a second.
        with self.transaction():
            ids = self._product_ids([(o.url, o.sku or "") for o in changed_orders], now=now)
            for order in changed_orders:
                product_ids[order.id] = ids[(order.url, order.sku or "")]
            self.db.conn.executemany(
                _UPSERT_ORDER,
                [
                    {
                        "id": order.id,
                        "product_id": product_ids[order.id],
                        **_order_columns(order),
                        "updated_at": stamp(now),
                    }
                    for order in changed_orders
                ],
            )
        return {o.id: product_ids[o.id] for o in orders}

    def product_ids_of(self, orders: Sequence[Order]) -> dict[str, int]:
        """Each order's product id, looked up by its url and sku without writing anything;
        an order whose product the database has never seen is left out."""
        known = {
            (row["url"], row["sku"]): row["id"]
            for row in rows(self.db, "SELECT id, url, sku FROM products")
        }
        return {o.id: known[(o.url, o.sku or "")] for o in orders if (o.url, o.sku or "") in known}

    def _stored_orders(self) -> dict[str, tuple[int, tuple[object, ...]]]:
        """Every stored order's product id, and what it was stored as (``_stored_form``)."""
        columns = ", ".join(f"o.{name}" for name in _ORDER_COLUMNS)
        return {
            row["id"]: (row["product_id"], tuple(row)[2:])
            for row in rows(
                self.db,
                f"SELECT o.id, o.product_id, p.url, p.sku, {columns} "
                "FROM orders o JOIN products p ON p.id = o.product_id",
            )
        }

    def product_state(self, product_id: int) -> ProductState:
        row = first(self.db, "SELECT * FROM products WHERE id = ?", [product_id])
        if row is None:
            raise StateError(f"no product with id {product_id}")
        return ProductState(
            id=row["id"],
            url=row["url"],
            sku=row["sku"],
            last_checked_at=unstamp_optional(row["last_checked_at"]),
            last_status=Status(row["last_status"]) if row["last_status"] else None,
            last_reason=row["last_reason"],
            failures=row["failures"],
            failing_since=unstamp_optional(row["failing_since"]),
        )

    # --- observations ---------------------------------------------------------------------

    def record(
        self, product_id: int, observation: Observation, messages: Sequence[Message] = ()
    ) -> int:
        """Store one observation and enqueue its alerts in one transaction.

        Return how many of ``messages`` were new (an alert whose dedupe key is already in the
        outbox is not added again).
        """
        seen = stamp(observation.seen_at)
        price = observation.price
        with self.transaction():
            # One statement, so the failure count is read and written under the same lock.
            self.db.execute(
                "UPDATE products SET last_checked_at = :seen, last_status = :status, "
                "last_reason = :reason, "
                "failing_since = CASE WHEN :failed THEN coalesce(failing_since, :seen) END, "
                "failures = CASE WHEN :failed THEN failures + 1 ELSE 0 END WHERE id = :id",
                {
                    "seen": seen,
                    "status": observation.status.value,
                    "reason": observation.reason or None,
                    "failed": observation.failed,
                    "id": product_id,
                },
            )
            if observation.status is Status.PRICE and price is not None:
                self._record_price(product_id, price, observation.extraction.availability, seen)
            return self.outbox.add(messages, now=observation.seen_at)

    def _record_price(
        self, product_id: int, price: Money, availability: Availability, seen: str
    ) -> None:
        """Extend the product's last price run when the price is the same, else start one."""
        last = first(
            self.db,
            "SELECT * FROM prices WHERE product_id = ? ORDER BY id DESC LIMIT 1",
            [product_id],
        )
        if last is not None and _same_run(last, price, availability):
            self.db.execute(
                "UPDATE prices SET last_seen = :seen, checks = checks + 1 WHERE id = :id",
                {"seen": seen, "id": last["id"]},
            )
            return
        # Every check may come here: the plain statement, not sqlite-utils' insert(), which
        # reads the table's columns first.
        self.db.execute(
            "INSERT INTO prices (product_id, amount, currency, availability, first_seen, "
            "last_seen, checks) VALUES (:product_id, :amount, :currency, :availability, :seen, "
            ":seen, 1)",
            {
                "product_id": product_id,
                "amount": str(price.amount),
                "currency": price.currency,
                "availability": availability.value,
                "seen": seen,
            },
        )

    def price_runs(self, product_id: int) -> list[PriceRun]:
        """Return a product's price history, oldest first."""
        return [
            PriceRun(
                price=Money(Decimal(row["amount"]), row["currency"]),
                availability=Availability(row["availability"]),
                first_seen=unstamp(row["first_seen"]),
                last_seen=unstamp(row["last_seen"]),
                checks=row["checks"],
            )
            for row in rows(
                self.db, "SELECT * FROM prices WHERE product_id = ? ORDER BY id", [product_id]
            )
        ]

    # --- claims -----------------------------------------------------------------------------

    def add_claim(self, *steps: Claim) -> None:
        """Record steps of the user's claim on an order (claimed, refunded, rejected) at once."""
        with self.transaction():
            for claim in steps:
                reference = claim.amount or claim.price
                self.db.table("claims").insert(
                    {
                        "order_id": claim.order_id,
                        "state": claim.state.value,
                        "price": str(claim.price.amount) if claim.price else None,
                        "amount": str(claim.amount.amount) if claim.amount else None,
                        "currency": reference.currency if reference is not None else None,
                        "note": claim.note,
                        "at": stamp(claim.at),
                        "form": claim.form.value if claim.form else None,
                    }
                )

    def claims(self, order_id: str | None = None) -> list[Claim]:
        """Return the claim steps, oldest first (of one order, or all)."""
        where, args = ("WHERE order_id = ?", [order_id]) if order_id else ("", [])
        return [
            _claim(row) for row in rows(self.db, f"SELECT * FROM claims {where} ORDER BY id", args)
        ]

    def latest_claim(self, order_id: str) -> Claim | None:
        row = first(
            self.db, "SELECT * FROM claims WHERE order_id = ? ORDER BY id DESC LIMIT 1", [order_id]
        )
        return _claim(row) if row is not None else None

    def order_state(self, order: Order) -> OrderState:
        """Return what the database knows of an order's alerts and claims, for the rules."""
        last_alerted, last_asked = self.outbox.claim_prices(order.id, order.currency)
        return OrderState(
            last_alerted=last_alerted, last_asked=last_asked, claims=tuple(self.claims(order.id))
        )

    def removed_orders(self, kept: Iterable[str]) -> dict[str, str]:
        """Return the orders the database knows that are no longer in the config, each with
        its currency: their claims and refunds still count in ``savings``."""
        keep = set(kept)
        return {
            row["id"]: row["currency"]
            for row in rows(self.db, "SELECT id, currency FROM orders ORDER BY id")
            if row["id"] not in keep
        }

    def order_states(self, orders: Iterable[Order]) -> dict[str, OrderState]:
        return {order.id: self.order_state(order) for order in orders}


_ORDER_COLUMNS = ("shop", "title", "paid", "currency", "quantity", "ordered", "delivered")
_UPSERT_ORDER = (
    f"INSERT INTO orders (id, product_id, {', '.join(_ORDER_COLUMNS)}, updated_at) "
    f"VALUES (:id, :product_id, {', '.join(':' + c for c in _ORDER_COLUMNS)}, :updated_at) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in ("product_id", *_ORDER_COLUMNS, "updated_at"))
)


def _order_columns(order: Order) -> dict[str, object]:
    """The columns an order is stored with, besides its id and its product."""
    return {
        "shop": order.shop,
        "title": order.title,
        "paid": str(order.paid),
        "currency": order.currency,
        "quantity": order.quantity,
        "ordered": order.ordered.isoformat(),
        "delivered": order.delivered.isoformat() if order.delivered else None,
    }


def _stored_form(order: Order) -> tuple[object, ...]:
    """An order as ``_stored_orders`` reads it back: its product's url and sku, then its
    columns. A stored order that differs is out of date."""
    columns = _order_columns(order)
    return (order.url, order.sku or "", *(columns[name] for name in _ORDER_COLUMNS))


def _same_run(last: sqlite3.Row, price: Money, availability: Availability) -> bool:
    return (
        Decimal(last["amount"]) == price.amount
        and last["currency"] == price.currency
        and last["availability"] == availability.value
    )


def _claim(row: sqlite3.Row) -> Claim:
    currency = row["currency"]
    return Claim(
        order_id=row["order_id"],
        state=ClaimState(row["state"]),
        price=Money(Decimal(row["price"]), currency) if row["price"] is not None else None,
        amount=Money(Decimal(row["amount"]), currency) if row["amount"] is not None else None,
        at=unstamp(row["at"]),
        note=row["note"],
        form=RefundForm(row["form"]) if row["form"] else None,
    )
