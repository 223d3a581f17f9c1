"""The state database (SQLite through sqlite-utils): the only module that writes SQL.

Tables: ``products`` (one row per URL + SKU, with the last check's outcome), ``prices``
(run-length price history: an unchanged price only bumps ``last_seen`` and ``checks``),
``orders`` (a copy of the config's orders, for ``status`` and claims), ``alerts`` (the outbox:
a unique dedupe key per alert, written before it is sent) and ``claims``.

The schema is built by ``sqlite_utils.migrations.Migrations``; the database runs in WAL mode
and every write is one transaction, so ``kill -9`` at any point leaves it consistent.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from monitor.config import Order
from monitor.errors import StateError
from monitor.models import CLAIM_KINDS, Message, Money, Observation, Status

migrations = Migrations("price-monitor")


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


def stamp(moment: datetime) -> str:
    """Return a timezone-aware datetime as the UTC ISO text stored in the database."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def unstamp(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass(frozen=True, slots=True)
class PriceRun:
    """A run of identical readings of one product's price."""

    price: Money
    availability: str
    first_seen: datetime
    last_seen: datetime
    checks: int


@dataclass(frozen=True, slots=True)
class ProductState:
    id: int
    url: str
    sku: str
    last_checked_at: datetime | None
    last_status: str | None
    last_reason: str | None
    failures: int
    failing_since: datetime | None


@dataclass(frozen=True, slots=True)
class ClaimRecord:
    order_id: str
    state: str
    price: Money | None
    amount: Money | None
    note: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """An alert in the outbox, as stored."""

    id: int
    dedupe_key: str
    order_id: str
    kind: str
    title: str
    body: str
    tags: tuple[str, ...]
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    markdown: str | None = None
    attachments: tuple[str, ...] = ()
    delivered: tuple[str, ...] = ()


class History:
    """The state database. Open with ``History.open(path)``; close with ``close()``."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    @classmethod
    def open(cls, path: Path) -> History:
        """Open (creating if needed) the database at ``path`` and bring its schema up to date."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite_utils.Database(path)
            # Autocommit at the driver level: transactions are always explicit (atomic()),
            # so a stray statement can never leave a write lock held.
            db.conn.isolation_level = None
            db.execute("PRAGMA busy_timeout = 10000")
            db.enable_wal()
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA foreign_keys = ON")
            migrations.apply(db)
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"cannot open the database {path}: {exc}") from exc
        return cls(db)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self.db.atomic():
            yield

    # --- products and orders --------------------------------------------------------------

    def product_id(self, url: str, sku: str | None, *, now: datetime) -> int:
        """Return the id of the product at ``url`` + ``sku``, adding it if it is new."""
        with self._transaction():
            self.db.execute(
                "INSERT OR IGNORE INTO products (url, sku, created_at) VALUES (?, ?, ?)",
                [url, sku or "", stamp(now)],
            )
            row = self.db.execute(
                "SELECT id FROM products WHERE url = ? AND sku = ?", [url, sku or ""]
            ).fetchone()
        return int(row[0])

    def sync_orders(self, orders: Iterable[Order], *, now: datetime) -> dict[str, int]:
        """Store the config's orders; return each order id's product id."""
        product_ids: dict[str, int] = {}
        # One transaction for the lot: a commit per order made syncing 10,000 orders,
        # which every command and every reload does, take most of a second.
        with self._transaction():
            for order in orders:
                product_ids[order.id] = self.product_id(order.url, order.sku, now=now)
            for order in orders:
                self.db.execute(
                    """
                    INSERT INTO orders (id, product_id, shop, title, paid, currency, quantity,
                                        ordered, delivered, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET
                        product_id = excluded.product_id, shop = excluded.shop,
                        title = excluded.title, paid = excluded.paid,
                        currency = excluded.currency, quantity = excluded.quantity,
                        ordered = excluded.ordered, delivered = excluded.delivered,
                        updated_at = excluded.updated_at
                    """,
                    [
                        order.id,
                        product_ids[order.id],
                        order.shop,
                        order.title,
                        str(order.paid),
                        order.currency,
                        order.quantity,
                        order.ordered.isoformat(),
                        order.delivered.isoformat() if order.delivered else None,
                        stamp(now),
                    ],
                )
        return product_ids

    def product_state(self, product_id: int) -> ProductState:
        row = self.db.execute(
            "SELECT id, url, sku, last_checked_at, last_status, last_reason, failures, "
            "failing_since FROM products WHERE id = ?",
            [product_id],
        ).fetchone()
        if row is None:
            raise StateError(f"no product with id {product_id}")
        return ProductState(
            id=row[0],
            url=row[1],
            sku=row[2],
            last_checked_at=unstamp(row[3]) if row[3] else None,
            last_status=row[4],
            last_reason=row[5],
            failures=row[6],
            failing_since=unstamp(row[7]) if row[7] else None,
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
        with self._transaction():
            failed = observation.status is Status.UNKNOWN
            self.db.execute(
                "UPDATE products SET last_checked_at = ?, last_status = ?, last_reason = ?, "
                "failing_since = CASE WHEN ? THEN coalesce(failing_since, ?) ELSE NULL END, "
                "failures = CASE WHEN ? THEN failures + 1 ELSE 0 END WHERE id = ?",
                [
                    seen,
                    observation.status.value,
                    observation.reason or None,
                    failed,
                    seen,
                    failed,
                    product_id,
                ],
            )
            if observation.status is Status.PRICE and price is not None:
                self._record_price(product_id, price, observation.extraction.availability, seen)
            added = 0
            for message in messages:
                added += self._enqueue(message, now=seen)
        return added

    def _record_price(self, product_id: int, price: Money, availability: str, seen: str) -> None:
        last = self.db.execute(
            "SELECT id, amount, currency, availability FROM prices WHERE product_id = ? "
            "ORDER BY id DESC LIMIT 1",
            [product_id],
        ).fetchone()
        unchanged = (
            last is not None
            and Decimal(last[1]) == price.amount
            and last[2] == price.currency
            and last[3] == availability
        )
        if unchanged:
            self.db.execute(
                "UPDATE prices SET last_seen = ?, checks = checks + 1 WHERE id = ?", [seen, last[0]]
            )
        else:
            self.db.execute(
                "INSERT INTO prices (product_id, amount, currency, availability, first_seen, "
                "last_seen, checks) VALUES (?, ?, ?, ?, ?, ?, 1)",
                [product_id, str(price.amount), price.currency, availability, seen, seen],
            )

    def price_runs(self, product_id: int) -> list[PriceRun]:
        """Return a product's price history, oldest first."""
        rows = self.db.execute(
            "SELECT amount, currency, availability, first_seen, last_seen, checks FROM prices "
            "WHERE product_id = ? ORDER BY id",
            [product_id],
        ).fetchall()
        return [
            PriceRun(
                price=Money(Decimal(r[0]), r[1]),
                availability=r[2],
                first_seen=unstamp(r[3]),
                last_seen=unstamp(r[4]),
                checks=r[5],
            )
            for r in rows
        ]

    # --- the outbox -----------------------------------------------------------------------

    def _enqueue(self, message: Message, *, now: str) -> int:
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO alerts (dedupe_key, order_id, kind, title, body, markdown, "
            "tags, attachments, amount, currency, created_at, next_attempt_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                message.dedupe_key,
                message.order_id,
                message.kind.value,
                message.title,
                message.body,
                message.markdown,
                json.dumps(list(message.tags)),
                json.dumps(list(message.attachments)),
                str(message.price.amount) if message.price else None,
                message.price.currency if message.price else None,
                now,
                now,
            ],
        )
        return int(cursor.rowcount)

    def enqueue(self, messages: Sequence[Message], *, now: datetime) -> int:
        """Put messages that come from no observation (e.g. a refused config) in the outbox."""
        with self._transaction():
            return sum(self._enqueue(m, now=stamp(now)) for m in messages)

    def last_alerted(self, order_id: str, currency: str) -> Money | None:
        """Return the lowest price a claim alert (sent or pending) has named for an order."""
        kinds = sorted(k.value for k in CLAIM_KINDS)
        rows = self.db.execute(
            f"SELECT amount FROM alerts WHERE order_id = ? AND currency = ? "
            f"AND kind IN ({', '.join('?' * len(kinds))}) AND amount IS NOT NULL",
            [order_id, currency, *kinds],
        ).fetchall()
        amounts = [Decimal(r[0]) for r in rows]
        return Money(min(amounts), currency) if amounts else None

    def due_alerts(
        self, now: datetime, *, after_id: int = 0, limit: int = 100
    ) -> list[OutboxEntry]:
        """Return pending alerts whose next attempt is due, oldest first, from ``after_id`` on."""
        rows = self.db.execute(
            f"SELECT {_OUTBOX_COLUMNS} FROM alerts WHERE status = 'pending' "
            "AND next_attempt_at <= ? AND id > ? ORDER BY id LIMIT ?",
            [stamp(now), after_id, limit],
        ).fetchall()
        return [_outbox_entry(r) for r in rows]

    def alerts(self, *, status: str | None = None) -> list[OutboxEntry]:
        """Return every alert in the outbox (optionally only one status), newest first."""
        where, args = ("WHERE status = ?", [status]) if status else ("", [])
        rows = self.db.execute(
            f"SELECT {_OUTBOX_COLUMNS} FROM alerts {where} ORDER BY id DESC", args
        ).fetchall()
        return [_outbox_entry(r) for r in rows]

    def mark_sent(self, alert_id: int, now: datetime) -> None:
        with self._transaction():
            self.db.execute(
                "UPDATE alerts SET status = 'sent', sent_at = ?, attempts = attempts + 1, "
                "last_error = NULL WHERE id = ?",
                [stamp(now), alert_id],
            )

    def mark_delivered(self, alert_id: int, target: str) -> None:
        """Record that one target received an alert, so a retry skips it."""
        with self._transaction():
            row = self.db.execute(
                "SELECT delivered FROM alerts WHERE id = ?", [alert_id]
            ).fetchone()
            delivered = json.loads(row[0]) if row else []
            if target not in delivered:
                delivered.append(target)
            self.db.execute(
                "UPDATE alerts SET delivered = ? WHERE id = ?", [json.dumps(delivered), alert_id]
            )

    def mark_failed(
        self, alert_id: int, *, error: str, retry_at: datetime, give_up: bool = False
    ) -> None:
        """Record a failed send: retry at ``retry_at``, or stop retrying (status failed)."""
        with self._transaction():
            self.db.execute(
                "UPDATE alerts SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, "
                "status = ? WHERE id = ?",
                [error, stamp(retry_at), "failed" if give_up else "pending", alert_id],
            )

    # --- claims -----------------------------------------------------------------------------

    def add_claim(
        self,
        order_id: str,
        state: str,
        *,
        at: datetime,
        price: Money | None = None,
        amount: Money | None = None,
        note: str | None = None,
    ) -> None:
        """Record a step of the user's claim on an order: claimed, refunded or rejected."""
        reference = amount or price
        currency = reference.currency if reference is not None else None
        with self._transaction():
            self.db.execute(
                "INSERT INTO claims (order_id, state, price, amount, currency, note, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    order_id,
                    state,
                    str(price.amount) if price else None,
                    str(amount.amount) if amount else None,
                    currency,
                    note,
                    stamp(at),
                ],
            )

    def claims(self, order_id: str | None = None) -> list[ClaimRecord]:
        """Return the claim records, oldest first (of one order, or all)."""
        where, args = ("WHERE order_id = ?", [order_id]) if order_id else ("", [])
        rows = self.db.execute(
            f"SELECT order_id, state, price, amount, currency, note, at FROM claims {where} "
            "ORDER BY id",
            args,
        ).fetchall()
        return [
            ClaimRecord(
                order_id=r[0],
                state=r[1],
                price=Money(Decimal(r[2]), r[4]) if r[2] is not None else None,
                amount=Money(Decimal(r[3]), r[4]) if r[3] is not None else None,
                note=r[5],
                at=unstamp(r[6]),
            )
            for r in rows
        ]

    def latest_claim(self, order_id: str) -> ClaimRecord | None:
        records = self.claims(order_id)
        return records[-1] if records else None

    def pending_count(self) -> int:
        row = self.db.execute("SELECT count(*) FROM alerts WHERE status = 'pending'").fetchone()
        return int(row[0])


_OUTBOX_COLUMNS = (
    "id, dedupe_key, order_id, kind, title, body, tags, status, attempts, last_error, "
    "created_at, next_attempt_at, sent_at, markdown, attachments, delivered"
)


def _outbox_entry(row: Sequence[object]) -> OutboxEntry:
    return OutboxEntry(
        id=int(str(row[0])),
        dedupe_key=str(row[1]),
        order_id=str(row[2]),
        kind=str(row[3]),
        title=str(row[4]),
        body=str(row[5]),
        tags=tuple(json.loads(str(row[6]))),
        status=str(row[7]),
        attempts=int(str(row[8])),
        last_error=str(row[9]) if row[9] is not None else None,
        created_at=unstamp(str(row[10])),
        next_attempt_at=unstamp(str(row[11])),
        sent_at=unstamp(str(row[12])) if row[12] is not None else None,
        markdown=str(row[13]) if row[13] is not None else None,
        attachments=tuple(json.loads(str(row[14]))),
        delivered=tuple(json.loads(str(row[15]))),
    )
