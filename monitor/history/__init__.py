"""The state database: the only package that writes SQL.

schema.py   the tables, built by sqlite-utils' Migrations; how times and amounts are stored
store.py    History: products, the run-length price history, orders, claims
outbox.py   Outbox: alerts written before they are sent, and how each delivery stands
labels.py   WindowLabels: the window a product page's label ("15天价保") gave an order
pending.py  PendingDrops: drops seen once, waiting for the look that confirms them
snapshot.py copy_database: a copy that writes nothing beside the original (a dry run)
"""

from __future__ import annotations

import sys


def _import_sqlite_utils() -> None:
    """Import sqlite-utils without numpy and pandas.

    sqlite-utils imports both when they are installed (numpy comes with matplotlib, for
    ``history --plot``), only to map their scalar types to column types; nothing here stores
    one. numpy's import starts OpenBLAS's threads, which spin: 0.14 s of CPU, more than the
    rest of a ``check``'s start-up. They stay importable by anything else afterwards.
    """
    kept_out = [name for name in ("numpy", "pandas") if name not in sys.modules]
    for name in kept_out:
        sys.modules[name] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name in kept_out:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]


_import_sqlite_utils()  # before the modules below import it

from monitor.history.outbox import Outbox, OutboxEntry  # noqa: E402
from monitor.history.store import History  # noqa: E402

__all__ = ["History", "Outbox", "OutboxEntry"]
