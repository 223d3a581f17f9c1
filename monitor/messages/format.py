"""Money, times and time left as people write them in a message.

Times are shown in the reader's zone and name it as people do (北京时间, Eastern Time); a
deadline is the shop's, and names the shop's zone too when the reader's clock differs.
"""

from __future__ import annotations

import functools
import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.models import Language, Money, Window

SIGNS = {"CNY": "¥", "JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$", "INR": "₹"}

# Where the common name is not CLDR's: China's zone is 北京时间 (CLDR says 中国时间).
_CHINA = frozenset({"Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "PRC"})
_BEIJING = {Language.ZH: "北京时间", Language.EN: "Beijing Time"}
_LOCALES = {Language.ZH: "zh_CN", Language.EN: "en"}
_UNIVERSAL = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "Etc/GMT", "Etc/Universal", "Etc/Zulu", "GMT"})
_NAMELESS = ("Unknown", "未知", "world", "世界")  # CLDR's words for a zone it cannot name

_PHRASES = {
    Language.ZH: {
        "time": "{zone} {time}",
        "deadline_elsewhere": "{shop}（你所在时区 {yours}）",
        "hours": "还剩 {n} 小时",
        "days": "还剩 {n} 天",
        "under_an_hour": "仅剩不到 1 小时",
        "over": "已结束",
    },
    Language.EN: {
        "time": "{time} {zone}",
        "deadline_elsewhere": "{shop}, {yours} your time",
        "hours": "{n} hours left",
        "hour": "1 hour left",
        "days": "{n} days left",
        "day": "1 day left",
        "under_an_hour": "less than an hour left",
        "over": "ended",
    },
}

# Under this much time left, "time left" counts hours; from it on, whole days.
HOURS_UNTIL = timedelta(hours=48)


def format_money(money: Money) -> str:
    """Return money as people write it: ``¥4,999.00``, ``$199.00``, ``1,299.00 CHF``."""
    digits = f"{money.rounded():,.{money.places}f}"
    sign = SIGNS.get(money.currency)
    return f"{sign}{digits}" if sign else f"{digits} {money.currency}"


def format_duration(duration: timedelta) -> str:
    """Return a duration as the config writes one: ``2m``, ``1h30m``, ``45s`` (whole seconds,
    rounded up: a wait of 0.4 s is ``1s``, never ``0s``)."""
    seconds = max(0, math.ceil(duration.total_seconds()))
    parts = [(seconds // 86400, "d"), (seconds % 86400 // 3600, "h")]
    parts += [(seconds % 3600 // 60, "m"), (seconds % 60, "s")]
    return "".join(f"{n}{unit}" for n, unit in parts if n) or "0s"


def zone_name(zone: ZoneInfo, language: Language, at: datetime) -> str:
    """Return the name people give ``zone`` in ``language``: ``北京时间``, ``Eastern Time``.

    CLDR's generic names (through Babel), except where common usage differs; a zone CLDR
    has no name for (``Etc/GMT+5``, ``EST5EDT``) is shown by its offset ``at`` that moment.
    """
    name = _named(zone.key, language)
    if name is not None:
        return name
    offset = at.astimezone(zone).strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}"


@functools.cache
def _named(key: str, language: Language) -> str | None:
    if key in _CHINA:
        return _BEIJING[language]
    if key in _UNIVERSAL:
        return "UTC"
    from babel.dates import get_timezone_name  # here: its locale data loads slowly

    name = str(get_timezone_name(ZoneInfo(key), "long", locale=_LOCALES[language]))
    return None if any(word in name for word in _NAMELESS) else name


def format_time(moment: datetime, zone: ZoneInfo, language: Language) -> str:
    """Return a time in ``zone``, named: ``北京时间 2026-11-26 21:30``, ``2026-11-26 08:30
    Eastern Time`` (Chinese names the zone first)."""
    return _PHRASES[language]["time"].format(
        time=f"{moment.astimezone(zone):%Y-%m-%d %H:%M}", zone=zone_name(zone, language, moment)
    )


def format_date(moment: datetime, zone: ZoneInfo) -> str:
    """Return the day of a time in ``zone``, as ``12-03``."""
    return f"{moment.astimezone(zone):%m-%d}"


def format_deadline(window: Window, zone: ZoneInfo, language: Language) -> str:
    """Return the last minute of the window, in the shop's zone: ``2026-12-03 23:59``.

    When the reader in ``zone`` sees another clock, both are given: ``2026-12-10 23:59
    Beijing Time, 10:59 your time``, ``北京时间 2026-12-10 23:59（你所在时区 10:59）`` (with
    the day, when it is another day there).
    """
    last = window.deadline - timedelta(minutes=1)
    yours = last.astimezone(zone)
    if yours.replace(tzinfo=None) == last.replace(tzinfo=None):
        return f"{last:%Y-%m-%d %H:%M}"
    shop_zone = last.tzinfo
    assert isinstance(shop_zone, ZoneInfo)  # windows are made in the shop's ZoneInfo
    same_day = yours.date() == last.date()
    return _PHRASES[language]["deadline_elsewhere"].format(
        shop=format_time(last, shop_zone, language),
        yours=f"{yours:%H:%M}" if same_day else f"{yours:%m-%d %H:%M}",
    )


def format_time_left(window: Window, now: datetime, language: Language) -> str:
    """Return the time left in the window by one rule for every message: hours under 48
    hours (``还剩 22 小时``, ``less than an hour left``), whole days from then on (``5 days
    left``)."""
    left = window.time_left(now)
    phrases = _PHRASES[language]
    if left <= timedelta(0):
        return phrases["over"]
    if left < timedelta(hours=1):
        return phrases["under_an_hour"]
    if left < HOURS_UNTIL:
        return _count(phrases, "hour", left // timedelta(hours=1))
    return _count(phrases, "day", left // timedelta(days=1))


def _count(phrases: dict[str, str], unit: str, n: int) -> str:
    if n == 1 and unit in phrases:
        return phrases[unit]
    return phrases[f"{unit}s"].format(n=n)
