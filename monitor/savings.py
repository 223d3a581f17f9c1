"""What price protection has brought in: refunded, pending, still to claim, and missed.

Pure: given the orders, their windows and what the database remembers of alerts and claims,
return totals per currency. Amounts are ``Decimal``; currencies are never mixed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from monitor import rules
from monitor.config import Order
from monitor.models import Money
from monitor.shops import Shop


@dataclass
class Totals:
    """Per-currency sums; each maps an ISO code to an amount."""

    refunded: dict[str, Decimal] = field(default_factory=dict)
    pending: dict[str, Decimal] = field(default_factory=dict)  # claimed, no answer yet
    to_claim: dict[str, Decimal] = field(default_factory=dict)  # alerted, window open, no claim
    missed: dict[str, Decimal] = field(default_factory=dict)  # alerted, window closed, no claim
    rejected: dict[str, Decimal] = field(default_factory=dict)

    def currencies(self) -> list[str]:
        found = set()
        for part in (self.refunded, self.pending, self.to_claim, self.missed, self.rejected):
            found |= set(part)
        return sorted(found)


def owed(order: Order, lowest: Money) -> Money:
    """Return what a price is worth to the user: (paid - price) x quantity, never below 0."""
    difference = Money(order.paid, order.currency) - lowest
    return Money(max(difference.amount, Decimal(0)), order.currency).times(order.quantity)


def totals(
    orders: Iterable[Order],
    shops: Mapping[str, Shop],
    states: Mapping[str, rules.OrderState],
    *,
    now: datetime,
) -> Totals:
    """Given each order's alert and claim state, return the totals per currency."""
    result = Totals()
    for order in orders:
        state = states.get(order.id, rules.OrderState())
        claim = state.claim
        if claim is not None and claim.amount is not None:
            bucket = {
                "refunded": result.refunded,
                "claimed": result.pending,
                "rejected": result.rejected,
            }[claim.state]
            _add(bucket, claim.amount)
            continue
        if claim is not None or state.last_alerted is None:
            continue
        window = rules.window_for(order, shops[order.shop])
        _add(
            result.to_claim if window.is_open(now) else result.missed,
            owed(order, state.last_alerted),
        )
    return result


def _add(bucket: dict[str, Decimal], money: Money) -> None:
    bucket[money.currency] = bucket.get(money.currency, Decimal(0)) + money.amount
