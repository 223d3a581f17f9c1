"""Drops seen once and waiting for the look that confirms them (``pending_drops``).

One row per product at most: the price the drop showed, when it was seen and when the
confirming look is due. It is written in the transaction of the look that saw it, and gone
once a look confirms or refutes it, so a daemon stopped in between, or a ``check
--no-wait``, leaves it for the next run to confirm.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import sqlite_utils

from monitor.history.schema import first, rows, stamp, unstamp, write_transaction
from monitor.models import Money, PendingDrop


class PendingDrops:
    """The drops waiting for their confirming look, in the state database: ``History.pending``."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def of(self, product_id: int) -> PendingDrop | None:
        """Return the drop of this product that waits for its confirming look, if one does."""
        row = first(self.db, "SELECT * FROM pending_drops WHERE product_id = ?", [product_id])
        return _pending(row) if row is not None else None

    def all(self) -> list[PendingDrop]:
        """Return every drop waiting for its confirming look, the first due first."""
        return [_pending(row) for row in rows(self.db, "SELECT * FROM pending_drops ORDER BY due")]

    def put(self, product_id: int, drop: PendingDrop | None) -> None:
        """Make ``drop`` the product's drop waiting for confirmation; None: it has none."""
        with write_transaction(self.db):
            if drop is None:
                self.db.execute("DELETE FROM pending_drops WHERE product_id = ?", [product_id])
                return
            self.db.execute(
                "INSERT OR REPLACE INTO pending_drops (product_id, amount, currency, seen_at, due) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    product_id,
                    str(drop.price.amount),
                    drop.price.currency,
                    stamp(drop.seen_at),
                    stamp(drop.due),
                ],
            )


def _pending(row: sqlite3.Row) -> PendingDrop:
    return PendingDrop(
        product_id=row["product_id"],
        price=Money(Decimal(row["amount"]), row["currency"]),
        seen_at=unstamp(row["seen_at"]),
        due=unstamp(row["due"]),
    )
