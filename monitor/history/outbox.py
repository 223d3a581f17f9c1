"""The outbox: every alert is written here before it is sent, with a unique dedupe key.

An alert is added in the transaction of the reading that caused it (``History.record``), so
a crash never loses one. A sender records each target that received it, so a retry goes
only to the targets that missed it; it is marked sent once every target has it, and a
failed send waits for its next attempt (``monitor.delivery`` decides when).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlite_utils

from monitor.history.schema import rows, stamp, unstamp, unstamp_optional, write_transaction
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


class Outbox:
    """The ``alerts`` table. Writes that belong to a larger transaction take part in it."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

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

    def last_alerted(self, order_id: str, currency: str) -> Money | None:
        """Return the lowest price a claim alert (sent or pending) has named for an order."""
        kinds = sorted(k.value for k in CLAIM_KINDS)
        found = rows(
            self.db,
            f"SELECT amount FROM alerts WHERE order_id = ? AND currency = ? "
            f"AND amount IS NOT NULL AND kind IN ({', '.join('?' * len(kinds))})",
            [order_id, currency, *kinds],
        )
        amounts = [Decimal(r["amount"]) for r in found]
        return Money(min(amounts), currency) if amounts else None

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

    def all_due(self, now: datetime) -> Iterator[OutboxEntry]:
        """Yield every due alert, oldest first, a batch at a time (a backlog can be large)."""
        last = 0
        while batch := self.due(now, after_id=last):
            yield from batch
            last = batch[-1].id

    def entries(self, *, status: OutboxStatus | None = None) -> list[OutboxEntry]:
        """Return every alert in the outbox (optionally only one status), newest first."""
        where, args = ("WHERE status = ?", [status.value]) if status else ("", [])
        return _entries(rows(self.db, f"SELECT * FROM alerts {where} ORDER BY id DESC", args))

    def undelivered(self) -> list[OutboxEntry]:
        """Return every alert not yet sent (pending or given up), oldest first."""
        return _entries(
            rows(
                self.db,
                "SELECT * FROM alerts WHERE status != ? ORDER BY id",
                [OutboxStatus.SENT.value],
            )
        )

    def mark_sent(self, alert_id: int, now: datetime) -> None:
        with write_transaction(self.db):
            self.db.execute(
                "UPDATE alerts SET status = :sent, sent_at = :now, attempts = attempts + 1, "
                "last_error = NULL WHERE id = :id",
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
        self, alert_id: int, *, error: str, retry_at: datetime, give_up: bool = False
    ) -> None:
        """Record a failed send: retry at ``retry_at``, or stop retrying (status failed)."""
        status = OutboxStatus.FAILED if give_up else OutboxStatus.PENDING
        with write_transaction(self.db):
            self.db.execute(
                "UPDATE alerts SET attempts = attempts + 1, last_error = :error, "
                "next_attempt_at = :retry_at, status = :status WHERE id = :id",
                {
                    "error": error,
                    "retry_at": stamp(retry_at),
                    "status": status.value,
                    "id": alert_id,
                },
            )

    def pending_count(self) -> int:
        found = rows(
            self.db,
            "SELECT count(*) AS n FROM alerts WHERE status = ?",
            [OutboxStatus.PENDING.value],
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
