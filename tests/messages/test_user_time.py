"""The user's own time: each reader sees times in their zone, named as people name it, and
every message counts the time left by one rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from monitor.messages import (
    compose,
    compose_failure,
    compose_window,
    format_deadline,
    format_time_left,
    support_request,
    zone_name,
)
from monitor.models import (
    AlertKind,
    DropAlert,
    Extraction,
    FailureAlert,
    Language,
    Money,
    Observation,
    OrderState,
    Status,
    Window,
    WindowStart,
    window_for,
)
from monitor.rules import evaluate, reminders
from monitor.shops import catalogue
from monitor.testing import make_order

JD = catalogue()["jd"]  # Asia/Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
ORDER = make_order()  # delivered 11-22 at JD: the window ends 11-29 23:59 Beijing Time
NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, 23:00 the day before in NY


def drop(now: datetime = NOW) -> DropAlert:
    observation = Observation(
        ORDER.url, now, Extraction(Status.PRICE, price=Money(Decimal("4599.00"), "CNY"))
    )
    (alert,) = evaluate(ORDER, JD, observation, OrderState(), now)
    assert isinstance(alert, DropAlert)
    return alert


@pytest.mark.parametrize(
    ("zone", "language", "name"),
    [
        ("Asia/Shanghai", Language.ZH, "北京时间"),
        ("Asia/Shanghai", Language.EN, "Beijing Time"),
        ("Asia/Harbin", Language.ZH, "北京时间"),  # an old name of the same zone
        ("America/New_York", Language.ZH, "北美东部时间"),
        ("America/New_York", Language.EN, "Eastern Time"),
        ("Asia/Hong_Kong", Language.ZH, "香港时间"),
        ("Asia/Tokyo", Language.ZH, "日本时间"),
        ("Etc/UTC", Language.ZH, "UTC"),
        ("Etc/GMT+5", Language.EN, "UTC-05:00"),  # no name but its offset (POSIX signs flip)
        ("EST5EDT", Language.ZH, "UTC-05:00"),  # CLDR's "world (EST5EDT) Time" is no name
    ],
)
def test_zones_are_named_as_people_name_them(zone: str, language: Language, name: str) -> None:
    assert zone_name(ZoneInfo(zone), language, NOW) == name


def test_a_zone_without_a_name_shows_the_offset_of_the_moment_shown() -> None:
    summer = datetime(2026, 7, 1, tzinfo=UTC)
    assert zone_name(ZoneInfo("EST5EDT"), Language.EN, summer) == "UTC-04:00"
    assert zone_name(ZoneInfo("EST5EDT"), Language.EN, NOW) == "UTC-05:00"


def test_a_deadline_in_the_readers_zone_is_the_shops_last_minute() -> None:
    window = window_for(ORDER, JD)
    assert format_deadline(window, SHANGHAI, Language.ZH) == "2026-11-29 23:59"
    # Another zone with the same clock needs no second time.
    assert format_deadline(window, ZoneInfo("Asia/Singapore"), Language.EN) == "2026-11-29 23:59"


def test_a_deadline_elsewhere_names_the_shops_zone_and_gives_the_readers_clock() -> None:
    window = window_for(ORDER, JD)
    assert (
        format_deadline(window, NEW_YORK, Language.EN)
        == "2026-11-29 23:59 Beijing Time, 10:59 your time"
    )
    assert (
        format_deadline(window, NEW_YORK, Language.ZH)
        == "北京时间 2026-11-29 23:59（你所在时区 10:59）"
    )
    # An hour ahead of Beijing, the last minute falls on the next day there.
    assert (
        format_deadline(window, TOKYO, Language.EN)
        == "2026-11-29 23:59 Beijing Time, 11-30 00:59 your time"
    )


def test_a_deadline_across_a_daylight_saving_change_gives_the_readers_clock_of_that_day() -> None:
    # A New York shop's window ending the day US daylight saving time ends (11-01 02:00).
    window = Window(
        datetime(2026, 10, 1, tzinfo=NEW_YORK),
        datetime(2026, 11, 2, tzinfo=NEW_YORK),
        WindowStart.ORDER,
    )
    assert (
        format_deadline(window, SHANGHAI, Language.EN)
        == "2026-11-01 23:59 Eastern Time, 11-02 12:59 your time"  # EST, 13 hours behind
    )
    window = Window(
        datetime(2026, 10, 1, tzinfo=NEW_YORK),
        datetime(2026, 11, 1, tzinfo=NEW_YORK),
        WindowStart.ORDER,
    )
    assert (
        format_deadline(window, SHANGHAI, Language.EN)
        == "2026-10-31 23:59 Eastern Time, 11-01 11:59 your time"  # still EDT, 12 hours
    )


def test_the_alert_is_in_the_users_zone_and_the_request_in_the_shops() -> None:
    alert = drop()
    body = compose(alert, ORDER, JD, now=NOW, zone=NEW_YORK).body
    assert "发现时间：北美东部时间 2026-11-24 23:00" in body
    assert "价保截止：北京时间 2026-11-29 23:59（你所在时区 10:59），还剩 4 天" in body
    # The shop's staff read the request: Beijing time, the shop's own deadline.
    request = support_request(alert, ORDER, JD, now=NOW)
    assert "（北京时间 2026-11-25 12:00 于 https://item.jd.com/1.html 查看）" in request
    assert "价保截止：2026-11-29 23:59，还剩 4 天" in request
    assert "UTC+08:00" not in body and "你所在时区" not in request


def test_a_user_in_the_shops_zone_sees_one_clock_named_in_chinese() -> None:
    body = compose(drop(), ORDER, JD, now=NOW, zone=SHANGHAI).body
    assert "发现时间：北京时间 2026-11-25 12:00" in body
    assert "价保截止：2026-11-29 23:59，还剩 4 天" in body
    assert "UTC+08:00" not in body


def test_a_failing_product_says_since_when_in_the_users_zone() -> None:
    alert = FailureAlert(
        kind=AlertKind.CHECKS_FAILING,
        order_ids=("JD-1",),
        dedupe_key="k",
        url=ORDER.url,
        failures=5,
        since=NOW,
        reason="HTTP 500",
    )
    body = compose_failure(alert, shop=JD, tags=(), zone=NEW_YORK).body
    assert "（自 北美东部时间 2026-11-24 23:00 起）" in body


def test_twenty_two_hours_left_reads_the_same_in_the_drop_and_the_reminder() -> None:
    now = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)  # 22 hours before the end of the 29th
    alert = drop(now)
    drop_message = compose(alert, ORDER, JD, now=now, zone=SHANGHAI)
    state = OrderState(last_alerted=alert.current)
    (closing,) = reminders(ORDER, JD, state, now, remind_before=timedelta(hours=24))
    reminder = compose_window(closing, ORDER, JD, now=now, zone=SHANGHAI)
    assert drop_message.body.count("2026-11-29 23:59，还剩 22 小时\n") == 2  # alert, request
    assert reminder.title.endswith("，还剩 22 小时")
    assert "的价保还剩 22 小时，截止时间：2026-11-29 23:59。" in reminder.body
    assert "1 天" not in drop_message.body


def window_ending_in(left: timedelta) -> tuple[Window, datetime]:
    deadline = datetime(2026, 12, 10, tzinfo=SHANGHAI)
    return Window(deadline - timedelta(days=30), deadline, WindowStart.ORDER), deadline - left


@pytest.mark.parametrize(
    ("left", "zh", "en"),
    [
        (timedelta(days=4, hours=23), "还剩 4 天", "4 days left"),
        (timedelta(hours=48), "还剩 2 天", "2 days left"),
        (timedelta(hours=47, minutes=59), "还剩 47 小时", "47 hours left"),
        (timedelta(hours=1, minutes=30), "还剩 1 小时", "1 hour left"),
        (timedelta(minutes=59), "仅剩不到 1 小时", "less than an hour left"),
        (timedelta(0), "已结束", "ended"),
    ],
)
def test_time_left_is_hours_under_two_days_and_whole_days_after(
    left: timedelta, zh: str, en: str
) -> None:
    window, now = window_ending_in(left)
    assert format_time_left(window, now, Language.ZH) == zh
    assert format_time_left(window, now, Language.EN) == en
