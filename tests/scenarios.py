"""Orders the end-to-end tests share."""

from __future__ import annotations

from datetime import timedelta

from monitor.testing import order_table
from monitor.testing.orders import today

# Two phones bought two days ago, paid in 12 installments.
PHONE: dict[str, object] = {
    "title": "Xiaomi 14 Pro",
    "quantity": 2,
    "ordered": today() - timedelta(days=2),
    "payment": "installments",
    "installments": 12,
}


def phone(url: str, **changes: object) -> dict[str, object]:
    """The phone order at ``url`` (order 5231120712345678 at testmall, paid 4999.00)."""
    return order_table(url, **{**PHONE, **changes})  # type: ignore[arg-type]
