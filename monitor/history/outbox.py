"""The outbox: every alert is written here before it is sent, with a unique dedupe key.

An alert is added in the transaction of the reading that caused it (``History.record``), so
a crash never loses one. One sender at a time sends it: it leases the alert (status
``sending``, its name, an expiry) in one write transaction, so the daemon and a command run
beside it never both send it. The sender records each target that received it, so a retry
goes only to the targets that missed it; the alert is marked sent once every target has it,
and a failed send waits for its next attempt (``monitor.delivery`` decides when). A lease
whose sender died is taken back; one that ran out is taken by the next sender.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlite_utils

from monitor.errors import DiskFull
from monitor.history.schema import (
    DatabaseThread,
    first,
    free_bytes,
    rows,
    stamp,
    unstamp,
    unstamp_optional,
    write_transaction,
)
from monitor.models import CLAIM_KINDS, AlertKind, Message, Money, OutboxStatus


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """An alert in the outbox: the message, and how its delivery stands."""

    id: int
    message: Message
    status: OutboxStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    delivered: tuple[str, ...] = ()  # the keys of the targets that received it


# How long a sender may hold an alert: longer than any one send takes (Apprise gives each
# target its own timeouts), short enough that an alert a hung sender holds goes out soon.
LEASE = timedelta(minutes=5)
# The space a sender wants free before it sends: recording an outcome writes a few pages
# to the write-ahead log, and a send whose outcome cannot be written is sent again later.
ROOM_TO_WRITE = 1024 * 1024


class Outbox:
    """The ``alerts`` table. Writes that belong to a larger transaction take part in it."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        thread: DatabaseThread | None = None,
        path: Path | None = None,
    ) -> None:
        self.db = db
        self.path = path
        self.thread = thread or DatabaseThread(db.conn)
        self.run = self.thread.run  # await outbox.run(outbox.lease_next, ...): off the loop
        self.quick = self.thread.quick  # a few rows: at once when the database is free
        # What a sender could not write down (the disk was full) after a target took the
        # alert: written before anything else is sent, so nothing is sent twice.
        self.unwritten: list[Callable[[], None]] = []

    def check_room(self) -> None:
        """Raise DiskFull when the database's file system has less than ``ROOM_TO_WRITE``
        left: a send is only started when its outcome can surely be written down."""
        if self.path is None:
            return
        free = free_bytes(str(self.path))
        if free is not None and free < ROOM_TO_WRITE:
            raise DiskFull(str(self.path))

    def write_unwritten(self) -> int:
        """Write what could not be written before, in order; return how much. Raise
        DiskFull (and keep the rest) while the disk is still full."""
        done = 0
        while self.unwritten:
            self.unwritten[0]()
            self.unwritten.pop(0)
            done += 1
        return done

    def add(self, messages: Iterable[Message], *, now: datetime) -> int:
        """Add messages inside the caller's transaction; return how many were new (an alert
        whose dedupe key is already in the outbox is not added again)."""
        before = self.db.conn.total_changes
        when = stamp(now)
        for message in messages:
            self.db.table("alerts").insert(_row(message, when), ignore=True)
        return self.db.conn.total_changes - before

    def enqueue(self, messages: Iterable[Message], *, now: datetime) -> int:
        """Add messages that come from no observation (e.g. a refused config), in one transaction."""
        with write_transaction(self.db):
            return self.add(messages, now=now)

    def claim_prices(self, order_id: str, currency: str) -> tuple[Money | None, Money | None]:
        """Return the lowest price a claim alert (sent or pending) has named for an order,
        and what the latest claim alert asked the shop for, if any (one query: every check
        asks for both)."""
        kinds = sorted(k.value for k in CLAIM_KINDS)
        found = rows(
            self.db,
            f"SELECT amount, asked FROM alerts WHERE order_id = ? AND currency = ? "
            f"AND (amount IS NOT NULL OR asked IS NOT NULL) "
            f"AND kind IN ({', '.join('?' * len(kinds))}) ORDER BY id",
            [order_id, currency, *kinds],
        )
        amounts = [Decimal(r["amount"]) for r in found if r["amount"] is not None]
        asked = [r["asked"] for r in found if r["asked"] is not None]
        return (
            Money(min(amounts), currency) if amounts else None,
            Money(Decimal(asked[-1]), currency) if asked else None,
        )

    def due(self, now: datetime, *, after_id: int = 0, limit: int = 100) -> list[OutboxEntry]:
        """Return pending alerts whose next attempt is due, oldest first, from ``after_id`` on."""
        return _entries(
            rows(
                self.db,
                "SELECT * FROM alerts WHERE status = ? AND next_attempt_at <= ? AND id > ? "
                "ORDER BY id LIMIT ?",
                [OutboxStatus.PENDING.value, stamp(now), after_id, limit],
            )
        )

    def lease_next(
        self,
        now: datetime,
        *,
        owner: str,
        after_id: int = 0,
        kinds: Collection[AlertKind] | None = None,
        retry_now: bool = False,
        lease_for: timedelta = LEASE,
    ) -> OutboxEntry | None:
        """Take the oldest alert to send now (from ``after_id`` on, of ``kinds`` if given) and
        lease it to ``owner`` until ``lease_for`` from now; None when there is none.

        To send now: a pending alert whose next attempt is due (with ``retry_now``, any
        pending or given-up one), or one whose sender's lease has run out. The choice and the
        lease are one write transaction, so two processes never take the same alert.
        """
        with write_transaction(self.db):
            row = first(
                self.db,
                "SELECT id FROM alerts WHERE id > :after "
                "AND (:any_kind OR kind IN (SELECT value FROM json_each(:kinds))) AND ("
                "  (status = :pending AND (:retry_now OR next_attempt_at <= :now))"
                "  OR (:retry_now AND status = :failed)"
                "  OR (status = :sending AND lease_until <= :now)"
                ") ORDER BY id LIMIT 1",
                {
                    "after": after_id,
                    "any_kind": kinds is None,
                    "kinds": json.dumps([k.value for k in kinds or ()]),
                    "retry_now": retry_now,
                    "now": stamp(now),
                    "pending": OutboxStatus.PENDING.value,
                    "failed": OutboxStatus.FAILED.value,
                    "sending": OutboxStatus.SENDING.value,
                },
            )
            if row is None:
                return None
            self.db.execute(
                "UPDATE alerts SET status = :sending, lease_owner = :owner, lease_until = :until "
                "WHERE id = :id",
                {
                    "sending": OutboxStatus.SENDING.value,
                    "owner": owner,
                    "until": stamp(now + lease_for),
                    "id": row["id"],
                },
            )
            leased = first(self.db, "SELECT * FROM alerts WHERE id = ?", [row["id"]])
        assert leased is not None  # taken under the write lock a moment ago
        return _entry(leased)

    def release_abandoned(self, *, alive: Callable[[str], bool]) -> int:
        """Put back in the queue the alerts leased to senders that no longer run (``alive``
        says, of a lease owner); return how many. An owner it cannot tell about keeps its
        lease until it runs out."""
        leased = rows(
            self.db,
            "SELECT id, lease_owner FROM alerts WHERE status = ?",
            [OutboxStatus.SENDING.value],
        )
        abandoned = [r["id"] for r in leased if not alive(r["lease_owner"] or "")]
        if not abandoned:
            return 0
        with write_transaction(self.db):
            for alert_id in abandoned:
                self.db.execute(
                    "UPDATE alerts SET status = :pending, lease_owner = NULL, lease_until = NULL "
                    "WHERE id = :id AND status = :sending",
                    {
                        "pending": OutboxStatus.PENDING.value,
                        "sending": OutboxStatus.SENDING.value,
                        "id": alert_id,
                    },
                )
        return len(abandoned)

    def count_due(self, now: datetime, *, kinds: Collection[AlertKind]) -> int:
        """Return how many pending alerts of ``kinds`` are due (e.g. those quiet hours hold)."""
        names = [k.value for k in kinds]
        found = rows(
            self.db,
            f"SELECT count(*) AS n FROM alerts WHERE status = ? AND next_attempt_at <= ? "
            f"AND kind IN ({', '.join('?' * len(names))})",
            [OutboxStatus.PENDING.value, stamp(now), *names],
        )
        return int(found[0]["n"])

    def entries(self, *, status: OutboxStatus | None = None) -> list[OutboxEntry]:
        """Return every alert in the outbox (optionally only one status), newest first."""
        where, args = ("WHERE status = ?", [status.value]) if status else ("", [])
        return _entries(rows(self.db, f"SELECT * FROM alerts {where} ORDER BY id DESC", args))

    def entry(self, alert_id: int) -> OutboxEntry | None:
        """Return the alert with this id, as it was sent (or is to be), or None."""
        row = first(self.db, "SELECT * FROM alerts WHERE id = ?", [alert_id])
        return _entry(row) if row is not None else None

    def of_order(self, order_id: str) -> list[OutboxEntry]:
        """Return the alerts about one order, oldest first."""
        return _entries(
            rows(self.db, "SELECT * FROM alerts WHERE order_id = ? ORDER BY id", [order_id])
        )

    def unsent_attachments(self) -> set[str]:
        """Return the files attached to alerts not yet sent (pending, being sent, or given
        up: ``alerts --retry`` sends those again), which must stay until they are."""
        found = rows(
            self.db,
            "SELECT DISTINCT a.value AS path FROM alerts, json_each(alerts.attachments) AS a "
            "WHERE status != ?",
            [OutboxStatus.SENT.value],
        )
        return {row["path"] for row in found}

    def mark_sent(self, alert_id: int, now: datetime) -> None:
        """Record that every target has the alert; its lease ends."""
        with write_transaction(self.db):
            self.db.execute(
                "UPDATE alerts SET status = :sent, sent_at = :now, attempts = attempts + 1, "
                "last_error = NULL, lease_owner = NULL, lease_until = NULL WHERE id = :id",
                {"sent": OutboxStatus.SENT.value, "now": stamp(now), "id": alert_id},
            )

    def mark_delivered(self, alert_id: int, target: str) -> None:
        """Record that one target received an alert, so a retry skips it."""
        with write_transaction(self.db):
            self.db.execute(
                "UPDATE alerts SET delivered = json_insert(delivered, '$[#]', :target) "
                "WHERE id = :id AND NOT EXISTS "
                "(SELECT 1 FROM json_each(alerts.delivered) WHERE value = :target)",
                {"target": target, "id": alert_id},
            )

    def mark_failed(
        self,
        alert_id: int,
        *,
        owner: str,
        error: str,
        retry_at: datetime,
        give_up: bool = False,
    ) -> None:
        """Record a failed send by the lease's ``owner``: retry at ``retry_at``, or stop
        retrying (status failed). A sender whose lease was taken over records nothing."""
        status = OutboxStatus.FAILED if give_up else OutboxStatus.PENDING
        with write_transaction(self.db):
            self.db.execute(
                "UPDATE alerts SET attempts = attempts + 1, last_error = :error, "
                "next_attempt_at = :retry_at, status = :status, lease_owner = NULL, "
                "lease_until = NULL WHERE id = :id AND lease_owner IS :owner",
                {
                    "error": error,
                    "retry_at": stamp(retry_at),
                    "status": status.value,
                    "id": alert_id,
                    "owner": owner,
                },
            )

    def pending_count(self) -> int:
        """How many alerts are still to be sent (waiting, or being sent right now)."""
        found = rows(
            self.db,
            "SELECT count(*) AS n FROM alerts WHERE status IN (?, ?)",
            [OutboxStatus.PENDING.value, OutboxStatus.SENDING.value],
        )
        return int(found[0]["n"])


def _row(message: Message, now: str) -> dict[str, Any]:
    price = message.price
    return {
        "dedupe_key": message.dedupe_key,
        "order_id": message.order_id,
        "kind": message.kind.value,
        "title": message.title,
        "body": message.body,
        "markdown": message.markdown,
        "tags": list(message.tags),
        "attachments": list(message.attachments),
        "amount": str(price.amount) if price else None,
        "currency": price.currency if price else None,
        "asked": str(message.asked.amount) if message.asked else None,
        "created_at": now,
        "next_attempt_at": now,
    }


def _entries(found: Iterable[sqlite3.Row]) -> list[OutboxEntry]:
    return [_entry(row) for row in found]


def _entry(row: sqlite3.Row) -> OutboxEntry:
    amount, currency = row["amount"], row["currency"]
    message = Message(
        dedupe_key=row["dedupe_key"],
        order_id=row["order_id"],
        kind=AlertKind(row["kind"]),
        title=row["title"],
        body=row["body"],
        tags=tuple(json.loads(row["tags"])),
        price=Money(Decimal(amount), currency) if amount is not None else None,
        asked=Money(Decimal(row["asked"]), currency) if row["asked"] is not None else None,
        markdown=row["markdown"],
        attachments=tuple(json.loads(row["attachments"])),
    )
    return OutboxEntry(
        id=row["id"],
        message=message,
        status=OutboxStatus(row["status"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        created_at=unstamp(row["created_at"]),
        next_attempt_at=unstamp(row["next_attempt_at"]),
        sent_at=unstamp_optional(row["sent_at"]),
        delivered=tuple(json.loads(row["delivered"])),
    )
