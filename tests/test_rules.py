"""The pure rules: windows, thresholds, drops, further drops and plausibility."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from monitor.config import Order
from monitor.models import (
    AlertKind,
    Availability,
    Extraction,
    Money,
    Observation,
    Status,
    Threshold,
)
from monitor.rules import OrderState, evaluate, window_for
from monitor.shops import BUILTIN

JD = BUILTIN["jd"]  # Asia/Shanghai, counts from delivery
TARGET = BUILTIN["target"]  # America/Chicago, counts from the order date
ORDER = Order(
    id="JD-1",
    shop="jd",
    url="https://item.jd.com/1.html",
    title="Phone",
    paid=Decimal("4999.00"),
    currency="CNY",
    quantity=2,
    ordered=date(2026, 11, 20),
    delivered=date(2026, 11, 22),
    window_days=7,
    payment="card",
    installments=None,
    threshold=Threshold(amount=Decimal("10")),
    interval=timedelta(hours=1),
)
NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def order(**changes: Any) -> Order:
    return dataclasses.replace(ORDER, **changes)


def seen(amount: str, currency: str = "CNY", **extraction: Any) -> Observation:
    return Observation(
        url=ORDER.url,
        seen_at=NOW,
        extraction=Extraction(Status.PRICE, price=Money(Decimal(amount), currency), **extraction),
    )


def cny(amount: str) -> Money:
    return Money(Decimal(amount), "CNY")


def test_window_counts_from_delivery_to_the_end_of_the_last_day_in_the_shops_zone() -> None:
    window = window_for(ORDER, JD)
    assert window.start == datetime(2026, 11, 21, 16, 0, tzinfo=UTC)  # 22nd 00:00 in Shanghai
    assert window.deadline == datetime(2026, 11, 29, 16, 0, tzinfo=UTC)  # end of the 29th
    assert not window.estimated
    assert window.is_open(datetime(2026, 11, 29, 15, 59, 59, tzinfo=UTC))
    assert not window.is_open(datetime(2026, 11, 29, 16, 0, tzinfo=UTC))
    assert window.days_left(NOW) == 5  # 25th to 29th inclusive


def test_window_without_a_delivery_date_is_estimated_from_the_order_date() -> None:
    window = window_for(order(delivered=None), JD)
    assert window.estimated
    assert window.deadline == datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # closes no later


def test_window_counting_from_the_order_uses_the_order_date() -> None:
    window = window_for(order(currency="USD", window_days=14), TARGET)
    assert window.start.date() == date(2026, 11, 20)
    assert window.deadline == datetime(2026, 12, 5, 6, 0, tzinfo=UTC)  # midnight in Chicago


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
    from monitor.daemon import MAX_BACKOFF, backoff

    hour = 3600.0
    assert backoff(hour, 0) is None and backoff(hour, 1) is None
    assert backoff(hour, 2) == timedelta(hours=2)
    assert backoff(hour, 3) == timedelta(hours=4)
    assert backoff(hour, 30) == MAX_BACKOFF
    assert backoff(24 * hour, 5) == timedelta(hours=24)  # never shorter than the interval
