"""Pure rules: given an order, what we have seen and the time, which alerts are owed.

No I/O and no clock: ``now`` is passed in, so every rule is a table-driven test away.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from monitor.config import Order
from monitor.models import Alert, AlertKind, Availability, Money, Observation, Status, Window
from monitor.shops import Shop

# A drop of more than this share of the paid price is more likely a misread page, a
# different variant or a coupon-only price than a real price cut: the user checks it first.
PLAUSIBLE_DROP = Decimal("0.70")


@dataclass(frozen=True, slots=True)
class OrderState:
    """What the database remembers about an order's alerts."""

    last_alerted: Money | None = None  # the lowest price already alerted (sent or pending)


def window_for(order: Order, shop: Shop) -> Window:
    """Given an order and its shop, return its price-protection window.

    The window opens at the start of the order (or delivery) day and closes at the end of
    day ``window_days`` later, in the shop's time zone. A shop that counts from delivery,
    for an order without a delivery date, gets a window counted from the order date,
    marked ``estimated`` (it closes no later than the real one).
    """
    tz = ZoneInfo(shop.timezone)
    estimated = False
    first_day = order.ordered
    if shop.window_starts == "delivery":
        if order.delivered is not None:
            first_day = order.delivered
        else:
            estimated = True
    start = datetime.combine(first_day, time.min, tzinfo=tz)
    deadline = datetime.combine(
        first_day + timedelta(days=order.window_days + 1), time.min, tzinfo=tz
    )
    return Window(start=start, deadline=deadline, starts_on=shop.window_starts, estimated=estimated)


def dedupe_key(order_id: str, kind: AlertKind, price: Money) -> str:
    """Return the outbox key that makes an alert for this order, kind and price unique."""
    return f"{order_id}|{kind.value}|{price.rounded()} {price.currency}"


def evaluate(
    order: Order, shop: Shop, observation: Observation, state: OrderState, now: datetime
) -> list[Alert]:
    """Given an order, its shop, a fresh observation and the alert state, return owed alerts.

    A drop is owed when the window is open, the product is in stock, and the price is at
    least the threshold below the paid price and, after an earlier alert, at least the
    threshold below the last alerted price. An implausibly deep drop is "needs review".
    """
    price = observation.price
    if observation.status is not Status.PRICE or price is None:
        return []
    if price.currency != order.currency:
        return []
    window = window_for(order, shop)
    if not window.is_open(now):
        return []
    if observation.extraction.availability is Availability.OUT_OF_STOCK:
        return []

    paid = Money(order.paid, order.currency)
    minimum = order.threshold.of(order.paid)
    drop = paid - price
    if drop.amount <= 0 or drop.amount < minimum:
        return []

    further: Money | None = None
    kind = AlertKind.DROP
    if state.last_alerted is not None:
        further = state.last_alerted - price
        if further.amount <= 0 or further.amount < minimum:
            return []
        kind = AlertKind.FURTHER_DROP
    if drop.amount > paid.amount * PLAUSIBLE_DROP:
        kind = AlertKind.NEEDS_REVIEW

    return [
        Alert(
            kind=kind,
            order_id=order.id,
            dedupe_key=dedupe_key(order.id, kind, price),
            paid=paid,
            current=price,
            drop=drop,
            total=drop.times(order.quantity),
            further=further,
            window=window,
            seen_at=observation.seen_at,
            url=observation.url,
        )
    ]


def is_watched(order: Order, shop: Shop, now: datetime) -> bool:
    """Return True while an order's window is open, so its product still needs polling."""
    return window_for(order, shop).is_open(now)
