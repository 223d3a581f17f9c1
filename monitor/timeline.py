"""A product's price over time, with what happened to its orders: what ``history`` prints and
the chart draws.

``read_timeline`` reads it from the database; the rest is pure: the reading a check has
not recorded yet, the lowest price, the sparkline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from monitor.models import (
    Claim,
    DropAlert,
    Money,
    Observation,
    Order,
    PriceAlert,
    PriceRun,
    Shop,
    Status,
    Window,
    window_for,
)

if TYPE_CHECKING:
    from monitor.history import History, OutboxEntry


@dataclass(frozen=True, slots=True)
class Paid:
    """One order on the chart: what was paid for it, and its window."""

    order_id: str
    paid: Money
    window: Window


@dataclass(frozen=True, slots=True)
class Mark:
    """Something that happened at a moment: an alert (its kind) or a claim step (its state),
    at a price when it names one."""

    at: datetime
    label: str
    price: Money | None = None
    alert_id: int | None = None  # for an alert in the outbox: what `alerts show` takes


@dataclass(frozen=True, slots=True)
class Timeline:
    """A product's price runs in one currency, oldest first, and its orders' alerts and claims."""

    title: str
    currency: str
    runs: tuple[PriceRun, ...]
    orders: tuple[Paid, ...]
    alerts: tuple[Mark, ...] = ()
    claims: tuple[Mark, ...] = ()

    @property
    def lowest(self) -> PriceRun | None:
        """The lowest price since the first order's window opened (``lowest_run``)."""
        return lowest_run(self.runs, since=self.orders[0].window.start if self.orders else None)


def read_timeline(
    history: History, product_id: int | None, orders: Sequence[Order], shop: Shop
) -> Timeline:
    """Given a product (None: one the database has never seen) and some of its orders (at
    least one; the first names the chart and the currency), return its timeline."""
    first = orders[0]
    runs = [
        run
        for run in (history.price_runs(product_id) if product_id is not None else [])
        if run.price.currency == first.currency
    ]
    alerts = sorted(
        (_alert_mark(entry) for order in orders for entry in history.outbox.of_order(order.id)),
        key=lambda m: m.at,
    )
    claims = sorted(
        (_claim_mark(step) for order in orders for step in history.claims(order.id)),
        key=lambda m: m.at,
    )
    return Timeline(
        title=first.title,
        currency=first.currency,
        runs=tuple(runs),
        orders=tuple(Paid(o.id, o.paid_money, window_for(o, shop)) for o in orders),
        alerts=tuple(alerts),
        claims=tuple(claims),
    )


def with_reading(
    timeline: Timeline, observation: Observation, alerts: Iterable[tuple[Order, PriceAlert]]
) -> Timeline:
    """Return the timeline with a reading a check has not recorded yet, and the alerts it is
    about to enqueue for the timeline's orders: what the chart of a new drop shows."""
    runs = list(timeline.runs)
    price = observation.price
    if observation.status is Status.PRICE and price and price.currency == timeline.currency:
        availability = observation.extraction.availability
        last = runs[-1] if runs else None
        if last is not None and last.price == price and last.availability is availability:
            runs[-1] = replace(last, last_seen=observation.seen_at, checks=last.checks + 1)
        else:
            runs.append(PriceRun(price, availability, observation.seen_at, observation.seen_at, 1))
    ours = {paid.order_id for paid in timeline.orders}
    new = [
        Mark(alert.seen_at, alert.kind.value, _alert_price(alert))
        for order, alert in alerts
        if order.id in ours
    ]
    return replace(timeline, runs=tuple(runs), alerts=(*timeline.alerts, *new))


def lowest_run(runs: Sequence[PriceRun], *, since: datetime | None = None) -> PriceRun | None:
    """Return the first run at the lowest price among those seen from ``since`` on (all of
    them without it): its price is the lowest, its ``first_seen`` when it was first seen."""
    seen = [r for r in runs if since is None or r.last_seen >= since]
    if not seen:
        return None
    return min(seen, key=lambda r: r.price.amount)  # min keeps the first of equals


BARS = "▁▂▃▄▅▆▇█"


def sparkline(amounts: Sequence[Decimal]) -> str:
    """Given prices, return one bar per price, the lowest ``▁`` and the highest ``█`` (all
    the same price: the middle bar)."""
    if not amounts:
        return ""
    low, high = min(amounts), max(amounts)
    if low == high:
        return BARS[len(BARS) // 2 - 1] * len(amounts)
    top = len(BARS) - 1
    levels = (
        int(((a - low) * top / (high - low)).to_integral_value(ROUND_HALF_UP)) for a in amounts
    )
    return "".join(BARS[level] for level in levels)


def _alert_mark(entry: OutboxEntry) -> Mark:
    message = entry.message
    return Mark(entry.created_at, message.kind.value, message.price, alert_id=entry.id)


def _claim_mark(step: Claim) -> Mark:
    return Mark(step.at, step.state.value, step.price)


def _alert_price(alert: PriceAlert) -> Money:
    return alert.current if isinstance(alert, DropAlert) else alert.seen
