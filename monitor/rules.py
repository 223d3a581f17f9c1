"""Pure rules: given an order, what we have seen and the time, which alerts are owed.

No I/O and no clock: ``now`` is passed in, so every rule is a table-driven test away.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from monitor.config import Order
from monitor.models import (
    Alert,
    AlertKind,
    Availability,
    FailureAlert,
    Money,
    Observation,
    ReviewAlert,
    ReviewReason,
    Status,
    Window,
    WindowAlert,
)
from monitor.shops import Shop

# A drop of more than this share of the paid price is more likely a misread page, a
# different variant or a coupon-only price than a real price cut: the user checks it first.
PLAUSIBLE_DROP = Decimal("0.70")
# A window-closed summary is only worth sending shortly after the window closed; an order
# whose window closed long ago (say, added to the config late) gets none.
SUMMARY_WITHIN = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Claim:
    """The user's latest claim on an order, as recorded with ``price-monitor claim``."""

    state: str  # claimed, refunded or rejected
    price: Money | None  # the unit price the claim was based on
    amount: Money | None  # what was claimed (or refunded)
    at: datetime


@dataclass(frozen=True, slots=True)
class OrderState:
    """What the database remembers about an order's alerts and claims."""

    last_alerted: Money | None = None  # the lowest price a claim alert named (sent or pending)
    claim: Claim | None = None

    @property
    def baseline(self) -> Money | None:
        """The price a new alert must beat: the lowest alerted or claimed price."""
        prices = [m for m in (self.last_alerted, self.claim.price if self.claim else None) if m]
        return min(prices, key=lambda m: m.amount) if prices else None


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
) -> list[Alert | ReviewAlert]:
    """Given an order, its shop, a fresh observation and the alert state, return owed alerts.

    A drop is owed when the window is open, the product is in stock, and the price is at
    least the threshold below the paid price and, after an earlier alert or a claim, at
    least the threshold below that price too. A drop too deep to trust, a price in another
    currency, or a price the page does not tie to the order's variant is "needs review".
    """
    window = window_for(order, shop)
    if not window.is_open(now):
        return []
    paid = Money(order.paid, order.currency)
    extraction = observation.extraction
    foreign = extraction.foreign
    if observation.status is Status.UNKNOWN and foreign is not None:
        return [_review(order, ReviewReason.CURRENCY, paid, foreign, window, observation)]
    price = observation.price
    if observation.status is not Status.PRICE or price is None or price.currency != order.currency:
        return []
    if extraction.availability is Availability.OUT_OF_STOCK:
        return []

    minimum = order.threshold.of(order.paid)
    drop = paid - price
    if drop.amount <= 0 or drop.amount < minimum:
        return []
    further: Money | None = None
    kind = AlertKind.DROP
    baseline = state.baseline
    if baseline is not None:
        further = baseline - price
        if further.amount <= 0 or further.amount < minimum:
            return []
        kind = AlertKind.FURTHER_DROP
    if drop.amount > paid.amount * PLAUSIBLE_DROP:
        return [_review(order, ReviewReason.IMPLAUSIBLE, paid, price, window, observation)]
    if not extraction.variant_confirmed:
        return [_review(order, ReviewReason.VARIANT, paid, price, window, observation)]
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


def _review(
    order: Order,
    reason: ReviewReason,
    paid: Money,
    seen: Money,
    window: Window,
    observation: Observation,
) -> ReviewAlert:
    return ReviewAlert(
        order_id=order.id,
        dedupe_key=dedupe_key(order.id, AlertKind.NEEDS_REVIEW, seen),
        reason=reason,
        paid=paid,
        seen=seen,
        window=window,
        seen_at=observation.seen_at,
        url=observation.url,
    )


def reminders(
    order: Order,
    shop: Shop,
    state: OrderState,
    now: datetime,
    *,
    remind_before: timedelta,
    always: bool = False,
) -> list[WindowAlert]:
    """Return the window alerts owed at ``now``: closing soon, or just closed.

    "Closing" goes out once, within ``remind_before`` of the deadline, when a drop was
    alerted and no claim is recorded (or for every order, with ``always``). "Closed" goes
    out once after the deadline for orders that had a drop or a claim: what was claimed,
    refunded or missed.
    """
    window = window_for(order, shop)
    lowest = state.last_alerted
    owed = (Money(order.paid, order.currency) - lowest).times(order.quantity) if lowest else None
    claim = state.claim

    def alert(kind: AlertKind) -> WindowAlert:
        return WindowAlert(
            kind=kind,
            order_id=order.id,
            dedupe_key=f"{order.id}|{kind.value}|{window.deadline.isoformat()}",
            window=window,
            lowest=lowest,
            owed=owed,
            claim_state=claim.state if claim else None,
            claimed=claim.amount if claim and claim.state != "refunded" else None,
            refunded=claim.amount if claim and claim.state == "refunded" else None,
        )

    if window.is_open(now) and window.deadline - now <= remind_before:
        unclaimed = lowest is not None and claim is None
        if unclaimed or always:
            return [alert(AlertKind.WINDOW_CLOSING)]
    if window.deadline <= now < window.deadline + SUMMARY_WITHIN and (lowest or claim):
        return [alert(AlertKind.WINDOW_CLOSED)]
    return []


def failure_alerts(
    *,
    product_id: int,
    order_ids: tuple[str, ...],
    url: str,
    failures_before: int,
    failing_since: datetime | None,
    observation: Observation,
    threshold: int,
    status_before: str | None = None,
) -> list[FailureAlert]:
    """Return "checks failing" when a product reaches ``threshold`` unknowns in a row, and
    "recovered" on its first good read after that: one of each per streak. Return "product
    gone" once when the shop says the product no longer exists (404, 410, an off-shelf page).
    """
    failed = observation.status is Status.UNKNOWN
    since = failing_since or observation.seen_at
    if observation.status is Status.NOT_FOUND:
        if status_before == Status.NOT_FOUND.value:
            return []
        return [
            FailureAlert(
                kind=AlertKind.PRODUCT_GONE,
                dedupe_key=f"product:{product_id}|{AlertKind.PRODUCT_GONE.value}",
                order_ids=order_ids,
                url=url,
                failures=0,
                since=observation.seen_at,
                reason=observation.reason,
            )
        ]
    if failed and failures_before + 1 == threshold:
        kind = AlertKind.CHECKS_FAILING
        failures = threshold
    elif not failed and failures_before >= threshold:
        kind = AlertKind.RECOVERED
        failures = failures_before
    else:
        return []
    return [
        FailureAlert(
            kind=kind,
            dedupe_key=f"product:{product_id}|{kind.value}|{since.isoformat()}",
            order_ids=order_ids,
            url=url,
            failures=failures,
            since=since,
            reason=observation.reason,
        )
    ]


def is_watched(order: Order, shop: Shop, now: datetime) -> bool:
    """Return True while an order's window is open, so its product still needs polling."""
    return window_for(order, shop).is_open(now)
