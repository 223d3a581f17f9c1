"""One pass, end to end: a real loopback shop, a real SQLite file, a real json:// receiver."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.channels import Notifier
from monitor.config import load_config
from monitor.delivery import deliver_due
from monitor.history import History
from monitor.testing import JsonReceiver, LoopbackShop, order_table, run_cli, write_config
from tests.scenarios import phone

TODAY = datetime.now(UTC).date()


def test_a_drop_is_alerted_once_and_a_further_drop_again(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/phone", "4999.00")
    config = write_config(tmp_path / "config.toml", orders=[phone(url)], urls=[receiver.url])

    first = run_cli(config, "check")
    assert "5231120712345678: ¥4,999.00 (json-ld)" in first.output
    assert receiver.requests == 0

    shop.set_price("/phone", "4599.00")
    second = run_cli(config, "check")
    assert "1 new alert" in second.output and "alerts: 1 sent, 0 failed" in second.output
    (message,) = receiver.wait_for(1)
    assert "5231120712345678" in message["title"]
    body = message["message"]
    for fragment in (
        "订单号：5231120712345678",
        "¥4,999.00",
        "¥4,599.00",
        "¥400.00 × 2 = ¥800.00",
        "12 期分期",
    ):
        assert fragment in body, fragment

    run_cli(config, "check")  # the same price again: nothing new
    assert receiver.requests == 1

    shop.set_price("/phone", "4499.00")
    run_cli(config, "check")
    messages = receiver.wait_for(2)
    # Nothing was claimed after the first alert: the whole difference, 2 x 500, is owed.
    assert "又降价了" in messages[1]["title"] and "¥1,000.00" in messages[1]["title"]
    assert receiver.requests == 2


def test_a_closed_window_alerts_nothing(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/phone", "3999.00")
    order = phone(url, ordered=TODAY - timedelta(days=30))
    config = write_config(tmp_path / "config.toml", orders=[order], urls=[receiver.url])
    result = run_cli(config, "check")
    assert "Nothing to check" in result.output
    # Named orders are checked anyway, for debugging.
    named = run_cli(config, "check", "5231120712345678")
    assert "¥3,999.00" in named.output and "alert" not in named.output
    assert receiver.requests == 0


def test_a_failing_shop_does_not_stop_the_others(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    broken = shop.add("/broken", "4999.00")
    shop.set_status("/broken", 500)
    working = shop.add("/headphones", "299.00", currency="USD", title="Headphones")
    orders = [
        phone(broken),
        order_table(working, "BBY-1", shop="teststore", title="Headphones", paid="349.00"),
    ]
    config = write_config(tmp_path / "config.toml", orders=orders, urls=[receiver.url])
    result = run_cli(config, "check")
    assert "5231120712345678: unknown: HTTP 500" in result.output
    assert "BBY-1: $299.00 (json-ld), 1 new alert" in result.output
    (message,) = receiver.wait_for(1)
    assert (
        "Order number: BBY-1" in message["message"] and "$50.00 × 1 = $50.00" in message["message"]
    )


def test_an_alert_waits_while_the_notifier_is_down_and_is_sent_once_it_is_back(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/phone", "4599.00")
    config_path = write_config(tmp_path / "config.toml", orders=[phone(url)], urls=[receiver.url])
    receiver.fail_with = 500
    result = run_cli(config_path, "check", code=1)
    assert "alerts: 0 sent, 1 failed (will be retried)" in result.output
    assert "1 alert reached no notification target" in result.output

    config = load_config(config_path)
    history = History.open(config.database)
    (pending,) = history.outbox.due(datetime.now(UTC) + timedelta(minutes=1))
    assert pending.attempts == 1 and pending.last_error and "failure" in pending.last_error

    receiver.fail_with = None
    later = datetime.now(UTC) + timedelta(minutes=2)
    report = asyncio.run(
        deliver_due(history.outbox, Notifier(config.notify.urls), clock=lambda: later)
    )
    assert (report.sent, report.failed) == (1, 0)
    report = asyncio.run(
        deliver_due(
            history.outbox, Notifier(config.notify.urls), clock=lambda: later + timedelta(hours=1)
        )
    )
    assert (report.sent, report.failed) == (0, 0)
    history.close()
    assert len(receiver.wait_for(1)) == 1
    assert receiver.requests == 2  # one refused, one delivered


def test_status_shows_paid_current_lowest_and_time_left(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/phone", "4599.00")
    config = write_config(tmp_path / "config.toml", orders=[phone(url)], urls=[receiver.url])
    run_cli(config, "check")
    shop.set_price("/phone", "4799.00")
    run_cli(config, "check")
    result = run_cli(config, "status")
    header, row = result.output.splitlines()[:2]
    assert header.split() == [
        "order",
        "product",
        "paid",
        "current",
        "lowest",
        "lowest",
        "seen",
        "difference",
        "window",
        "protection",
        "claim",
        "last",
        "check",
    ]
    cells = row.split()
    seen = cells.pop(7) + " " + cells.pop(7)  # when the lowest was seen: the first check's
    assert len(seen) == len("12-02 06:22") and seen <= f"{cells[-2]} {cells[-1]}"  # last check
    assert cells[:7] == [
        "5231120712345678",
        "Xiaomi",
        "14",
        "Pro",
        "¥4,999.00",
        "¥4,799.00",
        "¥4,599.00",
    ]
    assert cells[7] == "-¥200.00"
    # Ordered two days ago, a 15-day window to the end of its last day in Shanghai: whole
    # days left, by the rule every alert uses.
    deadline = datetime.combine(
        TODAY - timedelta(days=2) + timedelta(days=16), time.min, ZoneInfo("Asia/Shanghai")
    )
    expected_days = (deadline - datetime.now(UTC)) // timedelta(days=1)
    assert cells[8:11] == [str(expected_days), "days", "left"]
    assert cells[11:14] == ["15", "days", "(shop"]  # testmall's window_days: its default
    assert cells[15] == "-"  # no claim yet


def test_unknown_order_ids_are_a_usage_error(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.toml", orders=[], urls=[])
    result = run_cli(config, "check", "NOPE", code=2)
    assert "unknown order NOPE" in result.output
