"""The state database: the only package that writes SQL.

schema.py   the tables, built by sqlite-utils' Migrations; how times and amounts are stored
store.py    History: products, the run-length price history, orders, claims
outbox.py   Outbox: alerts written before they are sent, and how each delivery stands
labels.py   WindowLabels: the window a product page's label ("15天价保") gave an order
pending.py  PendingDrops: drops seen once, waiting for the look that confirms them
snapshot.py copy_database: a copy that writes nothing beside the original (a dry run)
"""

from __future__ import annotations

from monitor.history.outbox import Outbox, OutboxEntry
from monitor.history.store import History

__all__ = ["History", "Outbox", "OutboxEntry"]
