"""Pure rules: given an order, what we have seen and the time, which alerts are owed, and
when to look again.

No I/O and no clock: ``now`` is passed in, so every rule is a table-driven test away. The
window itself is computed in ``models/window.py``; what is owed and saved, in ``ledger.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from monitor import ledger
from monitor.backoff import backoff
from monitor.models import (
    LOGIN_PAGE,
    AlertKind,
    Availability,
    Disagreement,
    DropAlert,
    FailureAlert,
    Money,
    Observation,
    Order,
    OrderState,
    PageVerdict,
    PendingDrop,
    PriceAlert,
    Product,
    ProductState,
    ReviewAlert,
    ReviewReason,
    Shop,
    Status,
    Window,
    WindowAlert,
    dedupe_key,
    product_subject,
    window_for,
)

# A drop of more than this share of the paid price is more likely a misread page, a
# different variant or a coupon-only price than a real price cut: the user checks it first.
PLAUSIBLE_DROP = Decimal("0.70")
# A window-closed summary is only worth sending shortly after the window closed; an order
# whose window closed long ago (say, added to the config late) gets none.
SUMMARY_WITHIN = timedelta(days=7)
# A product that keeps failing is polled less and less often, but at least this often
# (or at its own interval, when that is longer).
MAX_BACKOFF = timedelta(hours=12)


def evaluate(
    order: Order, shop: Shop, observation: Observation, state: OrderState, now: datetime
) -> list[PriceAlert]:
    """Given an order, its shop, a fresh observation and the alert state, return owed alerts.

    A drop is owed when the window is open, the product is in stock, and the price is at
    least the threshold below the paid price and, after an earlier alert or a claim, at
    least the threshold below that price too. A drop too deep to trust, a price in another
    currency, or a price the page does not tie to the order's variant is "needs review".
    """
    window = window_for(order, shop)
    if not window.is_open(now):
        return []
    paid = order.paid_money
    extraction = observation.extraction
    foreign = extraction.foreign
    if observation.status is Status.UNKNOWN and foreign is not None:
        return [_review(order, ReviewReason.CURRENCY, foreign, window, observation)]
    disagreement = extraction.disagreement
    if observation.status is Status.UNKNOWN and disagreement is not None:
        return _stale_review(order, disagreement, window, observation)
    price = observation.price
    if observation.status is not Status.PRICE or price is None or price.currency != order.currency:
        return []
    if extraction.availability is Availability.OUT_OF_STOCK:
        return []

    minimum = order.minimum_drop()
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
        return [_review(order, ReviewReason.IMPLAUSIBLE, price, window, observation)]
    if not extraction.variant_confirmed:
        return [_review(order, ReviewReason.VARIANT, price, window, observation)]
    so_far = ledger.balance(state.claims, order.currency)
    total = drop.times(order.quantity)
    asked = (total - so_far.refunded - so_far.pending).at_least_zero()
    if asked.amount == 0:
        return []  # what this price is worth is refunded or claimed already
    return [
        DropAlert(
            kind=kind,
            order_id=order.id,
            dedupe_key=dedupe_key(order.id, kind, price),
            paid=paid,
            current=price,
            drop=drop,
            total=total,
            further=further,
            window=window,
            seen_at=observation.seen_at,
            url=observation.url,
            asked=asked,
            refunded=so_far.refunded,
            refunded_at=so_far.last_refund_at,
            pending=so_far.pending,
        )
    ]


def _stale_review(
    order: Order, disagreement: Disagreement, window: Window, observation: Observation
) -> list[PriceAlert]:
    """ "Needs review" when the page's two prices disagree and the lower one would be owed
    money: the user looks before anyone claims. Nothing when neither price is a drop."""
    lower = disagreement.lower
    if lower.currency != order.currency:
        return []
    drop = order.paid_money - lower
    if drop.amount <= 0 or drop.amount < order.minimum_drop():
        return []
    review = _review(order, ReviewReason.STALE, lower, window, observation)
    return [replace(review, disagreement=disagreement)]


def _review(
    order: Order, reason: ReviewReason, seen: Money, window: Window, observation: Observation
) -> ReviewAlert:
    return ReviewAlert(
        order_id=order.id,
        dedupe_key=dedupe_key(order.id, AlertKind.NEEDS_REVIEW, seen),
        reason=reason,
        paid=order.paid_money,
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

    "Closing" goes out once, within ``remind_before`` of the deadline, when an alerted drop
    is still owed in part or whole: neither refunded nor claimed (or for every order, with
    ``always``). "Closed" goes out once after the deadline for orders that had a drop or a
    claim: what was claimed, refunded or missed.
    """
    window = window_for(order, shop)
    lowest = state.last_alerted
    claim = state.claim
    so_far = ledger.balance(state.claims, order.currency)
    owed = ledger.owed(order, lowest, state.claims) if lowest else None

    def alert(kind: AlertKind) -> WindowAlert:
        return WindowAlert(
            kind=kind,
            order_id=order.id,
            dedupe_key=dedupe_key(order.id, kind, window.deadline),
            window=window,
            lowest=lowest,
            owed=owed,
            claim_state=claim.state if claim else None,
            claimed=so_far.pending if so_far.pending.amount else None,
            refunded=so_far.refunded if so_far.refunded.amount else None,
        )

    if window.is_open(now) and window.deadline - now <= remind_before:
        unclaimed = owed is not None and owed.amount > 0
        if unclaimed or always:
            return [alert(AlertKind.WINDOW_CLOSING)]
    if window.deadline <= now < window.deadline + SUMMARY_WITHIN and (lowest or claim):
        return [alert(AlertKind.WINDOW_CLOSED)]
    return []


def failure_alerts(
    product: Product, before: ProductState, observation: Observation, *, threshold: int
) -> list[FailureAlert]:
    """Return "checks failing" when a product reaches ``threshold`` unknowns in a row, and
    "recovered" on its first good read after that: one of each per streak. Return "product
    gone" once when the shop says the product no longer exists (404, 410, an off-shelf page).
    """
    order_ids = tuple(o.id for o in product.orders)
    subject = product_subject(product.id)
    if observation.status is Status.NOT_FOUND:
        if before.last_status is Status.NOT_FOUND:
            return []
        return [
            FailureAlert(
                kind=AlertKind.PRODUCT_GONE,
                dedupe_key=dedupe_key(subject, AlertKind.PRODUCT_GONE),
                order_ids=order_ids,
                url=product.url,
                failures=0,
                since=observation.seen_at,
                reason=observation.reason,
            )
        ]
    failed = observation.failed
    since = before.failing_since or observation.seen_at
    if failed and before.failures + 1 == threshold:
        kind, failures = AlertKind.CHECKS_FAILING, threshold
    elif not failed and before.failures >= threshold:
        kind, failures = AlertKind.RECOVERED, before.failures
    else:
        return []
    return [
        FailureAlert(
            kind=kind,
            dedupe_key=dedupe_key(subject, kind, since),
            order_ids=order_ids,
            url=product.url,
            failures=failures,
            since=since,
            reason=observation.reason,
        )
    ]


def cookie_alerts(
    product: Product, observation: Observation, *, cookies_version: str
) -> list[FailureAlert]:
    """Return "cookies expired for SHOP" when the page of a shop with a cookies file is a
    login wall: once for each version of the file (``cookies_version``, its modification
    time), whatever the product, since it is the shop's cookies that expired."""
    shop = product.shop
    blocked = observation.extraction.page is PageVerdict.BLOCKED
    if not shop.cookies_file or not blocked or LOGIN_PAGE not in observation.reason:
        return []
    kind = AlertKind.COOKIES_EXPIRED
    return [
        FailureAlert(
            kind=kind,
            dedupe_key=dedupe_key(f"shop:{shop.key}", kind, cookies_version),
            order_ids=tuple(o.id for o in product.orders),
            url=product.url,
            failures=0,
            since=observation.seen_at,
            reason=observation.reason,
        )
    ]


def is_watched(order: Order, shop: Shop, now: datetime) -> bool:
    """Return True until an order's window closes, so its product still needs polling: an
    order dated in the future is watched already, and alerts once its window opens."""
    return now < window_for(order, shop).deadline


# --- when to look again -------------------------------------------------------------------------


def polling_backoff(interval: timedelta, failures: int) -> timedelta | None:
    """Given a product's interval and its failures in a row, return the wait before the next
    try, or None to keep the normal schedule.

    One failure keeps the schedule; each further one doubles the wait, up to MAX_BACKOFF
    (or the interval, when that is longer). A success resets the count.
    """
    if failures < 2:
        return None
    return backoff(failures, first=interval, longest=max(MAX_BACKOFF, interval))


class StopReason(StrEnum):
    """Why a product is no longer polled."""

    WINDOWS_CLOSED = "windows_closed"  # every window of its orders has closed
    GONE = "gone"  # the shop says the product no longer exists


@dataclass(frozen=True, slots=True)
class NextPoll:
    """What a product's schedule does after a check: stop, wait longer, or carry on."""

    stop: StopReason | None = None
    delay: timedelta | None = None  # wait this long before the next check instead


def next_poll(product: Product, observation: Observation, failures: int, now: datetime) -> NextPoll:
    """Given a product just checked, what it found and its failures in a row, return what its
    schedule does: stop when every window has closed or the shop says the product is gone,
    back off while it fails (never sooner than a Retry-After), else carry on."""
    if not any(is_watched(o, product.shop, now) for o in product.orders):
        return NextPoll(stop=StopReason.WINDOWS_CLOSED)
    if observation.status is Status.NOT_FOUND:
        return NextPoll(stop=StopReason.GONE)
    if not observation.failed:
        return NextPoll()
    delay = polling_backoff(product.interval, failures)
    asked = observation.retry_after
    if asked is not None and asked > product.interval.total_seconds():
        # The shop said when to come back (Retry-After): not before that.
        delay = max(delay or timedelta(0), timedelta(seconds=asked))
    return NextPoll(delay=delay)


class Confirmation(StrEnum):
    """What a new look says of a drop that waits for its confirming look."""

    WAITING = "waiting"  # the same price, but read before the confirming look was due
    CONFIRMED = "confirmed"  # the same price, read when it was due or later: alert it
    REFUTED = "refuted"  # another price, or none: the drop that waited is not alerted


def confirmation(pending: PendingDrop, observation: Observation) -> Confirmation:
    """Given a drop waiting for its confirming look and a new look at the product, return
    whether the look confirms it (the same price, at the drop's due time or later), leaves
    it waiting (the same price, too soon), or refutes it (any other price, or none)."""
    if observation.status is not Status.PRICE or observation.price != pending.price:
        return Confirmation.REFUTED
    if observation.seen_at < pending.due:
        return Confirmation.WAITING
    return Confirmation.CONFIRMED
