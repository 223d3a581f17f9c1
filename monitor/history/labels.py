"""The window a product page's label ("15天价保") gave an order that sets none of its own.

One row per order (``window_labels``): the longest label seen, the product it was seen on,
and when it was first seen. A label seen on a product the order was for before it was
edited is not the order's any more.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlite_utils

from monitor.history.schema import rows, stamp, write_transaction
from monitor.models import Order, WindowSource


class WindowLabels:
    """The windows page labels gave orders, in the state database: ``History.labels``."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def days(self, orders: Iterable[Order]) -> dict[str, int]:
        """Return the window days a page's label gave each of these orders that has one, by
        order id, for the product the order is for now."""
        ids = [order.id for order in orders]
        if not ids:
            return {}
        found = rows(
            self.db,
            "SELECT w.order_id, w.days FROM window_labels w "
            "JOIN orders o ON o.id = w.order_id AND o.product_id = w.product_id "
            "WHERE w.order_id IN (SELECT value FROM json_each(?))",
            [json.dumps(ids)],
        )
        return {row["order_id"]: row["days"] for row in found}

    def apply(self, orders: Iterable[Order]) -> list[Order]:
        """Return the orders, each that sets no window of its own with the window its product
        page's label gave it, once one was seen (``Order.with_window_label``)."""
        orders = list(orders)
        days = self.days(o for o in orders if o.window_source is not WindowSource.ORDER)
        return [order.with_window_label(days.get(order.id)) for order in orders]

    def learn(
        self, product_id: int, orders: Sequence[Order], days: int, *, at: datetime
    ) -> list[Order]:
        """Remember that the product's page advertised a ``days``-day window, for those of
        ``orders`` that set no window of their own, and return the orders with the windows
        their labels now give them (``note``'s rules: the longest label seen is kept)."""
        relying = [o.id for o in orders if o.window_source is not WindowSource.ORDER]
        self.note(product_id, relying, days, at=at)
        return self.apply(orders)

    def note(self, product_id: int, order_ids: Sequence[str], days: int, *, at: datetime) -> None:
        """Remember that the product's page advertised a ``days``-day window, for these orders.

        A label never shortens the window it gave an order: the longest seen is kept. The
        order was bought under the terms its page showed then, and a later, shorter label
        (a promotion that ended, a policy changed for new orders) is not its own; a window
        closed too early would miss refunds the shop still owes. A longer label lengthens it.
        """
        if not order_ids:
            return
        with write_transaction(self.db):
            self.db.conn.executemany(
                "INSERT INTO window_labels (order_id, product_id, days, seen_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (order_id) DO UPDATE SET "
                "product_id = excluded.product_id, days = excluded.days, "
                "seen_at = excluded.seen_at "
                "WHERE excluded.days > window_labels.days "
                "OR excluded.product_id != window_labels.product_id",
                [(order_id, product_id, days, stamp(at)) for order_id in order_ids],
            )
