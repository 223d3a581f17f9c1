"""Orders and configs for tests: an ``[[orders]]`` table, a config file around some, and an
``Order`` as the config would load it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from monitor.models import Order, Threshold

# Two shops with windows long enough to test in, and no minimum interval worth waiting for.
TEST_SHOPS = """
[shops.testmall]
name = "测试商城"
currency = "CNY"
language = "zh"
timezone = "Asia/Shanghai"
window_days = 15
window_starts = "order"
min_interval = "1s"
claim = "联系在线客服"
refund_path = "原路退回"

[shops.teststore]
name = "Test Store"
currency = "USD"
language = "en"
timezone = "America/New_York"
window_days = 14
min_interval = "1s"
claim = "Chat with support"
refund_path = "Original payment method"
"""


def today() -> date:
    return datetime.now(UTC).date()


def order_table(
    url: str,
    order_id: str = "5231120712345678",
    *,
    paid: str = "4999.00",
    ordered: date | None = None,
    shop: str = "testmall",
    **changes: object,
) -> dict[str, object]:
    """An [[orders]] table for ``write_config``: bought yesterday at ``testmall``."""
    return {
        "id": order_id,
        "shop": shop,
        "url": url,
        "title": f"Product {order_id}",
        "paid": paid,
        "ordered": ordered or today() - timedelta(days=1),
        **changes,
    }


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, date | int | Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(value)


def write_config(
    path: Path,
    *,
    orders: Sequence[dict[str, object]],
    urls: Sequence[str],
    monitor: dict[str, object] | None = None,
    extra: str = TEST_SHOPS,
) -> Path:
    """Write a config.toml: [monitor] (a state.db beside it, fast checks), [notify] urls,
    ``extra`` (the test shops, by default) and the [[orders]]; return its path."""
    settings = {
        "database": str(path.parent / "state.db"),
        "interval": "1s",
        "host_delay": "0s",
        "confirm": "0s",
        "retries": 0,
        **(monitor or {}),
    }
    lines = ["[monitor]", *(f"{k} = {toml_value(v)}" for k, v in settings.items()), ""]
    lines += ["[notify]", f"urls = {toml_value(list(urls))}", ""]
    lines += [extra, ""]
    for order in orders:
        lines.append("[[orders]]")
        lines += [f"{k} = {toml_value(v)}" for k, v in order.items()]
        lines.append("")
    path.write_text("\n".join(lines), "utf-8")
    return path


ORDER_DEFAULTS: dict[str, Any] = {
    "id": "JD-1",
    "shop": "jd",
    "url": "https://item.jd.com/1.html",
    "title": "Phone",
    "paid": Decimal("4999.00"),
    "currency": "CNY",
    "quantity": 2,
    "ordered": date(2026, 11, 20),
    "delivered": date(2026, 11, 22),
    "window_days": 7,
    "payment": "card",
    "threshold": Threshold(amount=Decimal("10")),
    "interval": timedelta(hours=1),
}


def make_order(**changes: Any) -> Order:
    """An Order as the config would load it: two phones bought at JD, delivered on the 22nd."""
    return Order.model_validate({**ORDER_DEFAULTS, **changes})
