"""The price-protection window: when it opens and closes, in the shop's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from monitor.models import QuietHours, WindowStart, window_for
from monitor.shops import catalogue
from monitor.testing import make_order

JD = catalogue()["jd"]  # Asia/Shanghai, counts from delivery
TARGET = catalogue()["target"]  # America/Chicago, counts from the order date
ORDER = make_order()  # ordered 2026-11-20, delivered 2026-11-22, a 7-day window
NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def test_window_counts_from_delivery_to_the_end_of_the_last_day_in_the_shops_zone() -> None:
    window = window_for(ORDER, JD)
    assert window.start == datetime(2026, 11, 21, 16, 0, tzinfo=UTC)  # 22nd 00:00 in Shanghai
    assert window.deadline == datetime(2026, 11, 29, 16, 0, tzinfo=UTC)  # end of the 29th
    assert not window.estimated
    assert window.is_open(datetime(2026, 11, 29, 15, 59, 59, tzinfo=UTC))
    assert not window.is_open(datetime(2026, 11, 29, 16, 0, tzinfo=UTC))
    assert window.time_left(NOW) == timedelta(days=4, hours=12)  # to the end of the 29th


def test_window_without_a_delivery_date_is_estimated_from_the_order_date() -> None:
    window = window_for(make_order(delivered=None), JD)
    assert window.estimated
    assert window.deadline == datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # closes no later


def test_window_counting_from_the_order_uses_the_order_date() -> None:
    window = window_for(make_order(currency="USD", window_days=14), TARGET)
    assert window.start.date() == date(2026, 11, 20)
    assert window.deadline == datetime(2026, 12, 5, 6, 0, tzinfo=UTC)  # midnight in Chicago


def test_the_window_says_which_event_it_counts_from() -> None:
    assert window_for(ORDER, JD).starts_on is WindowStart.DELIVERY
    assert window_for(ORDER, TARGET).starts_on is WindowStart.ORDER


def test_quiet_hours_may_run_past_midnight_in_the_users_zone() -> None:
    quiet = QuietHours(time(22, 0), time(7, 30), ZoneInfo("Asia/Shanghai"))
    assert datetime(2026, 11, 25, 15, 0, tzinfo=UTC) in quiet  # 23:00 in Shanghai
    assert datetime(2026, 11, 25, 23, 0, tzinfo=UTC) in quiet  # 07:00 the next morning
    assert datetime(2026, 11, 25, 0, 0, tzinfo=UTC) not in quiet  # 08:00
    daytime = QuietHours(time(12, 0), time(13, 0), ZoneInfo("UTC"))
    assert datetime(2026, 11, 25, 12, 30, tzinfo=UTC) in daytime
    assert datetime(2026, 11, 25, 13, 0, tzinfo=UTC) not in daytime


def test_a_page_label_gives_the_window_of_an_order_that_sets_none() -> None:
    from monitor.models import WindowSource

    by_shop = make_order(**{"@window_source": "shop"})  # window_days = 7 from the shop
    labelled = by_shop.with_window_label(15)
    assert (labelled.window_days, labelled.window_source) == (15, WindowSource.LABEL)
    assert window_for(labelled, JD).deadline == datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
    assert labelled.with_window_label(30).window_days == 30  # the longest is the caller's rule
    assert by_shop.with_window_label(None) is by_shop
    own = make_order()  # an order made in code, like a table with window_days, sets its own
    assert own.window_source is WindowSource.ORDER
    assert own.with_window_label(15) is own
    # A label whose window the calendar cannot hold is no window at all.
    late = make_order(ordered=date(9999, 12, 1), delivered=None, **{"@window_source": "shop"})
    assert late.with_window_label(365) is late


def test_a_page_label_never_shortens_the_shops_window() -> None:
    by_shop = make_order(window_days=30, **{"@window_source": "shop"})  # [shops.jd] says 30
    assert by_shop.with_window_label(15) is by_shop
    assert by_shop.with_window_label(30) is by_shop
    assert by_shop.with_window_label(45).window_days == 45
