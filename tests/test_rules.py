"""The pure rules: thresholds, drops, further drops, plausibility, and when to look again."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from monitor.models import (
    AlertKind,
    Availability,
    Disagreement,
    Extraction,
    Money,
    Observation,
    Order,
    OrderState,
    Product,
    ReviewReason,
    Status,
    Threshold,
)
from monitor.rules import MAX_BACKOFF, StopReason, evaluate, next_poll, polling_backoff
from monitor.shops import catalogue
from monitor.testing import make_order

JD = catalogue()["jd"]  # Asia/Shanghai, counts from delivery
ORDER = make_order()  # two phones, paid 4999.00, delivered 2026-11-22, a 7-day window
NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def order(**changes: Any) -> Order:
    return make_order(**changes)


def seen(amount: str, currency: str = "CNY", **extraction: Any) -> Observation:
    return Observation(
        url=ORDER.url,
        seen_at=NOW,
        extraction=Extraction(Status.PRICE, price=Money(Decimal(amount), currency), **extraction),
    )


def cny(amount: str) -> Money:
    return Money(Decimal(amount), "CNY")


@pytest.mark.parametrize(
    ("price", "threshold", "kind"),
    [
        ("4999.00", Threshold(amount=Decimal(10)), None),  # unchanged
        ("5099.00", Threshold(amount=Decimal(10)), None),  # higher
        ("4990.00", Threshold(amount=Decimal(10)), None),  # 9 below: under the threshold
        ("4989.00", Threshold(amount=Decimal(10)), AlertKind.DROP),  # exactly the threshold
        ("4899.00", Threshold(percent=Decimal(2)), AlertKind.DROP),  # 100 >= 2% of 4999 (99.98)
        ("4900.00", Threshold(percent=Decimal(2)), None),  # 99 < 99.98
        ("4949.00", Threshold(percent=Decimal(1)), AlertKind.DROP),  # 50 >= 49.99
        ("4950.00", Threshold(percent=Decimal(1)), None),  # 49 < 49.99
        ("1000.00", Threshold(amount=Decimal(10)), AlertKind.NEEDS_REVIEW),  # 80% off: implausible
        ("1500.00", Threshold(amount=Decimal(10)), AlertKind.DROP),  # 70% off exactly: plausible
    ],
)
def test_drop_is_owed_at_the_threshold(
    price: str, threshold: Threshold, kind: AlertKind | None
) -> None:
    alerts = evaluate(order(threshold=threshold), JD, seen(price), OrderState(), NOW)
    assert [a.kind for a in alerts] == ([kind] if kind else [])


def test_drop_alert_carries_the_difference_times_quantity() -> None:
    (alert,) = evaluate(ORDER, JD, seen("4599.00"), OrderState(), NOW)
    assert alert.kind is AlertKind.DROP
    assert (alert.paid, alert.current, alert.drop, alert.total) == (
        cny("4999.00"),
        cny("4599.00"),
        cny("400.00"),
        cny("800.00"),
    )
    assert alert.further is None
    assert alert.dedupe_key == "JD-1|drop|4599.00 CNY"
    assert alert.seen_at == NOW and alert.url == ORDER.url


def test_the_same_drop_is_not_alerted_twice_but_a_lower_one_is() -> None:
    state = OrderState(last_alerted=cny("4599.00"))
    assert evaluate(ORDER, JD, seen("4599.00"), state, NOW) == []
    assert evaluate(ORDER, JD, seen("4595.00"), state, NOW) == []  # 4 more: under the threshold
    assert evaluate(ORDER, JD, seen("4799.00"), state, NOW) == []  # back up
    (alert,) = evaluate(ORDER, JD, seen("4499.00"), state, NOW)
    assert alert.kind is AlertKind.FURTHER_DROP
    assert alert.further == cny("100.00")
    assert alert.total == cny("1000.00")  # the whole difference is still stated
    assert alert.dedupe_key == "JD-1|further_drop|4499.00 CNY"


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 21, 15, 59, tzinfo=UTC),  # before delivery day began in Shanghai
        datetime(2026, 11, 29, 16, 0, tzinfo=UTC),  # the moment the window closed
        datetime(2027, 1, 1, tzinfo=UTC),
    ],
)
def test_no_alert_outside_the_window(moment: datetime) -> None:
    assert evaluate(ORDER, JD, seen("3999.00"), OrderState(), moment) == []


def test_no_alert_without_a_price_or_in_another_currency_or_out_of_stock() -> None:
    unknown = Observation(ORDER.url, NOW, Extraction(Status.UNKNOWN, reason="blocked"))
    assert evaluate(ORDER, JD, unknown, OrderState(), NOW) == []
    assert evaluate(ORDER, JD, seen("10.00", "USD"), OrderState(), NOW) == []
    out = seen("3999.00", availability=Availability.OUT_OF_STOCK)
    assert evaluate(ORDER, JD, out, OrderState(), NOW) == []


def test_failing_products_back_off_doubling_and_a_success_resets() -> None:
    hour = timedelta(hours=1)
    assert polling_backoff(hour, 0) is None and polling_backoff(hour, 1) is None
    assert polling_backoff(hour, 2) == timedelta(hours=2)
    assert polling_backoff(hour, 3) == timedelta(hours=4)
    assert polling_backoff(hour, 30) == MAX_BACKOFF
    assert polling_backoff(24 * hour, 5) == timedelta(hours=24)  # never shorter than the interval


def product(*orders: Order) -> Product:
    return Product(1, JD, orders or (ORDER,))


def observed(status: Status, *, retry_after: float | None = None, reason: str = "") -> Observation:
    return Observation(ORDER.url, NOW, Extraction(status, reason=reason), retry_after=retry_after)


@pytest.mark.parametrize(
    ("observation", "failures", "stop", "delay"),
    [
        (seen("4999.00"), 0, None, None),  # read: the schedule carries on
        (observed(Status.UNKNOWN), 1, None, None),  # one failure keeps the schedule
        (observed(Status.UNKNOWN), 3, None, timedelta(hours=4)),  # then it doubles
        (observed(Status.UNKNOWN, retry_after=30), 1, None, None),  # a short Retry-After: as usual
        (observed(Status.UNKNOWN, retry_after=7200), 1, None, timedelta(hours=2)),
        (observed(Status.UNKNOWN, retry_after=7200), 4, None, timedelta(hours=8)),  # the longer
        (observed(Status.NOT_FOUND, reason="HTTP 410"), 0, StopReason.GONE, None),
    ],
)
def test_after_a_check_the_schedule_carries_on_backs_off_or_stops(
    observation: Observation, failures: int, stop: str | None, delay: timedelta | None
) -> None:
    plan = next_poll(product(), observation, failures, NOW)
    assert (plan.stop or "").startswith(stop or "") and (plan.stop is None) == (stop is None)
    assert plan.delay == delay


def test_polling_stops_once_every_window_of_the_product_has_closed() -> None:
    closed = datetime(2026, 11, 29, 16, 0, tzinfo=UTC)  # the end of the 29th in Shanghai
    still_open = order(id="JD-2", delivered=date(2026, 11, 25))
    assert next_poll(product(ORDER), seen("4999.00"), 0, closed).stop is StopReason.WINDOWS_CLOSED
    assert next_poll(product(ORDER, still_open), seen("4999.00"), 0, closed).stop is None


def stale(shown: str, structured: str) -> Observation:
    """A page whose buy box shows ``shown`` while its JSON-LD says ``structured``."""
    extraction = Extraction(
        Status.UNKNOWN,
        reason="needs review: the page shows another price than its json-ld data",
        disagreement=Disagreement(shown=cny(shown), structured=cny(structured)),
    )
    return Observation(ORDER.url, NOW, extraction)


@pytest.mark.parametrize(
    ("shown", "structured", "seen_price"),
    [
        ("4599.00", "4999.00", "4599.00"),  # a sale on the page, the JSON-LD not updated
        ("4999.00", "4599.00", "4599.00"),  # the sale has ended, the JSON-LD still holds it
    ],
)
def test_stale_structured_data_is_a_review_at_the_lower_price_never_a_claim(
    shown: str, structured: str, seen_price: str
) -> None:
    (alert,) = evaluate(ORDER, JD, stale(shown, structured), OrderState(), NOW)
    assert alert.kind is AlertKind.NEEDS_REVIEW and alert.reason is ReviewReason.STALE
    assert alert.seen == cny(seen_price)
    assert alert.disagreement == Disagreement(shown=cny(shown), structured=cny(structured))
    assert alert.dedupe_key == f"JD-1|needs_review|{seen_price} CNY"


def test_stale_structured_data_without_a_drop_in_either_price_is_no_alert() -> None:
    assert evaluate(ORDER, JD, stale("5099.00", "4999.00"), OrderState(), NOW) == []
    assert evaluate(ORDER, JD, stale("4995.00", "4999.00"), OrderState(), NOW) == []  # < threshold


def test_a_page_to_review_is_no_failed_check_and_keeps_its_schedule() -> None:
    product = Product(ORDER.url, JD, (ORDER,))
    observation = stale("4599.00", "4999.00")
    assert not observation.failed
    assert next_poll(product, observation, failures=5, now=NOW).delay is None
    blocked = Observation(ORDER.url, NOW, Extraction(Status.UNKNOWN, reason="blocked"))
    assert blocked.failed
    assert next_poll(product, blocked, failures=5, now=NOW).delay is not None
