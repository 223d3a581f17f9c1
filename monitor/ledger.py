"""Pure: the user's claims, refunds and rejections -> what each step records, and what price
protection has brought in, per currency.

Given the orders and what the database remembers of their alerts and claims, return totals:
refunded, pending, still to claim, missed and rejected. Amounts are ``Decimal``; currencies
are never mixed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from monitor.models import Claim, ClaimState, Money, Order, OrderState, Shop, window_for


def claimed(
    order: Order,
    state: OrderState,
    *,
    at: datetime,
    price: Decimal | None = None,
    amount: Decimal | None = None,
    note: str | None = None,
) -> Claim | None:
    """Return the claim the user made on an order: by default at the last alerted price, for
    what that price is worth to them. Return None when no price is given or alerted."""
    unit = Money(price, order.currency) if price else state.baseline
    if amount is None and unit is None:
        return None
    total = Money(amount, order.currency) if amount else order.owed_at(unit) if unit else None
    return Claim(order.id, ClaimState.CLAIMED, unit, total, at, note)


def refunded(
    order: Order, state: OrderState, *, at: datetime, amount: Decimal, note: str | None = None
) -> Claim:
    """Return the refund the shop paid on an order, tied to the price the claim was based on."""
    price = state.claim.price if state.claim else state.baseline
    return Claim(order.id, ClaimState.REFUNDED, price, Money(amount, order.currency), at, note)


def rejected(order: Order, state: OrderState, *, at: datetime, reason: str | None = None) -> Claim:
    """Return the shop's refusal of the claim on an order (what was asked for stays on record)."""
    latest = state.claim
    return Claim(
        order.id,
        ClaimState.REJECTED,
        latest.price if latest else None,
        latest.amount if latest else None,
        at,
        reason,
    )


@dataclass
class Totals:
    """Per-currency sums; each maps an ISO code to an amount."""

    refunded: dict[str, Decimal] = field(default_factory=dict)
    pending: dict[str, Decimal] = field(default_factory=dict)  # claimed, no answer yet
    to_claim: dict[str, Decimal] = field(default_factory=dict)  # alerted, window open, no claim
    missed: dict[str, Decimal] = field(default_factory=dict)  # alerted, window closed, no claim
    rejected: dict[str, Decimal] = field(default_factory=dict)

    def currencies(self) -> list[str]:
        found: set[str] = set()
        for part in (self.refunded, self.pending, self.to_claim, self.missed, self.rejected):
            found |= set(part)
        return sorted(found)


def totals(
    orders: Iterable[Order],
    shops: Mapping[str, Shop],
    states: Mapping[str, OrderState],
    *,
    now: datetime,
) -> Totals:
    """Given each order's alert and claim state, return the totals per currency."""
    result = Totals()
    buckets = {
        ClaimState.REFUNDED: result.refunded,
        ClaimState.CLAIMED: result.pending,
        ClaimState.REJECTED: result.rejected,
    }
    for order in orders:
        state = states.get(order.id, OrderState())
        claim = state.claim
        if claim is not None and claim.amount is not None:
            _add(buckets[claim.state], claim.amount)
            continue
        if claim is not None or state.last_alerted is None:
            continue
        window = window_for(order, shops[order.shop])
        _add(
            result.to_claim if window.is_open(now) else result.missed,
            order.owed_at(state.last_alerted),
        )
    return result


def _add(bucket: dict[str, Decimal], money: Money) -> None:
    bucket[money.currency] = bucket.get(money.currency, Decimal(0)) + money.amount
