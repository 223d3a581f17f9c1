"""Money and times as people write them in a message."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.models import Money, Window

SIGNS = {"CNY": "¥", "JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$", "INR": "₹"}


def format_money(money: Money) -> str:
    """Return money as people write it: ``¥4,999.00``, ``$199.00``, ``1,299.00 CHF``."""
    digits = f"{money.rounded():,.{money.places}f}"
    sign = SIGNS.get(money.currency)
    return f"{sign}{digits}" if sign else f"{digits} {money.currency}"


def format_time(moment: datetime, tz: ZoneInfo) -> str:
    """Return a time in ``tz`` as ``2026-11-26 21:30 UTC+08:00``."""
    local = moment.astimezone(tz)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} UTC{offset[:3]}:{offset[3:]}"


def format_deadline(window: Window) -> str:
    """Return the last moment of the window in the shop's zone, e.g. ``2026-12-03 23:59``."""
    last = window.deadline - timedelta(minutes=1)
    return f"{last:%Y-%m-%d %H:%M}"
