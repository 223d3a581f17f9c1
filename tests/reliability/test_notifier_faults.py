"""The notifier down, slow or failing: alerts wait in the outbox and go out once, nothing lost.

The receiver is a real HTTP server for Apprise's json:// on a fixed 127.0.0.1 port: bound
but not listening while "down" (connections refused), then brought up on the same URL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.channels import Notifier
from monitor.clock import utcnow
from monitor.config import load_config
from monitor.delivery import GIVE_UP_AFTER, deliver_due
from monitor.history import History
from monitor.models import OutboxStatus
from monitor.testing import (
    DaemonProcess,
    JsonReceiver,
    LoopbackShop,
    order_table,
    run_cli,
    write_config,
)
from tests.reliability.conftest import integrity, outbox

READ_TIMEOUT = 0.5  # Apprise's read timeout for the receiver (its rto= URL parameter)


def two_drops(shop: LoopbackShop) -> list[dict[str, object]]:
    """Two orders whose prices are already down: two claim alerts owed."""
    return [
        order_table(shop.add("/phone", "4599.00"), "PHONE", paid="4999.00"),
        order_table(shop.add("/tablet", "2599.00"), "TABLET", paid="2999.00"),
    ]


def break_receiver(receiver: JsonReceiver, how: str) -> None:
    if how == "slow":
        receiver.up()
        receiver.delay = 3 * READ_TIMEOUT  # answers after the sender gave up
    elif how == "500":
        receiver.up()
        receiver.fail_with = 500
    else:
        assert how == "down"  # not listening: connection refused


def mend_receiver(receiver: JsonReceiver, how: str) -> None:
    if how == "down":
        receiver.up()
    receiver.delay = 0.0
    receiver.fail_with = None


def listing_rows(output: str) -> dict[str, str]:
    """Return `price-monitor alerts` rows by order id."""
    rows = {}
    for line in output.splitlines()[1:]:
        for order_id in ("PHONE", "TABLET"):
            if f" {order_id} " in line:
                rows[order_id] = line
    return rows


@pytest.mark.parametrize("how", ["down", "slow", "500"])
def test_alerts_wait_while_the_notifier_is_broken_and_go_out_once_when_it_is_back(
    how: str,
    tmp_path: Path,
    shop: LoopbackShop,
    flaky_receiver: Callable[..., JsonReceiver],
) -> None:
    receiver = flaky_receiver(read_timeout=READ_TIMEOUT)
    break_receiver(receiver, how)
    path = write_config(
        tmp_path / "config.toml",
        orders=two_drops(shop),
        urls=[receiver.url],
    )
    result = run_cli(path, "check", code=1)  # an alert it made reached nobody: cron must see it
    assert "PHONE: ¥4,599.00 (json-ld), 1 new alert" in result.output
    assert "TABLET: ¥2,599.00 (json-ld), 1 new alert" in result.output
    assert "alerts: 0 sent, 2 failed (will be retried)" in result.output
    assert "2 alerts reached no notification target" in result.output
    tried = receiver.requests

    rows = listing_rows(run_cli(path, "alerts").output)
    assert set(rows) == {"PHONE", "TABLET"}
    for row in rows.values():
        columns = row.split()
        assert columns[3:5] == ["pending", "1"], row  # status, tries
        assert "— json://127.0.0.1" in row and "failure" in row  # the last error, and where

    # Checked again before the retry is due: nothing new, nobody called, nothing dropped.
    again = run_cli(path, "check")
    assert "new alert" not in again.output and "alerts:" not in again.output
    assert receiver.requests == tried
    assert [
        (kind, status, attempts) for _, kind, status, attempts in outbox(tmp_path / "state.db")
    ] == [
        ("drop", "pending", 1),
        ("drop", "pending", 1),
    ]

    mend_receiver(receiver, how)
    config = load_config(path)
    history = History.open(config.database)
    notifier = Notifier(config.notify.urls)
    now = utcnow()
    try:
        early = asyncio.run(
            deliver_due(history.outbox, notifier, clock=lambda: now + timedelta(seconds=30))
        )
        assert (early.sent, early.failed) == (0, 0)  # the first retry waits a minute
        due = asyncio.run(
            deliver_due(history.outbox, notifier, clock=lambda: now + timedelta(minutes=2))
        )
        assert (due.sent, due.failed) == (2, 0)
        later = asyncio.run(
            deliver_due(history.outbox, notifier, clock=lambda: now + timedelta(days=1))
        )
        assert (later.sent, later.failed) == (0, 0)
        assert {a.status for a in history.outbox.entries()} == {OutboxStatus.SENT}
        assert history.outbox.pending_count() == 0
    finally:
        history.close()

    messages = receiver.wait_for(2)
    assert sorted(m["title"].split("（订单 ")[1] for m in messages) == ["PHONE）", "TABLET）"]
    assert "retried: 0 sent, 0 failed" in run_cli(path, "alerts", "--retry").output
    rows = listing_rows(run_cli(path, "alerts").output)
    assert all(row.split()[3:5] == ["sent", "2"] for row in rows.values()), rows
    assert len(receiver.messages) == 2  # exactly once each


def test_an_alert_given_up_on_after_a_week_is_still_sent_by_retry(
    tmp_path: Path, shop: LoopbackShop, flaky_receiver: Callable[..., JsonReceiver]
) -> None:
    receiver = flaky_receiver()  # down throughout the week
    path = write_config(
        tmp_path / "config.toml",
        orders=two_drops(shop)[:1],
        urls=[receiver.url],
    )
    run_cli(path, "check", code=1)
    config = load_config(path)
    history = History.open(config.database)
    notifier = Notifier(config.notify.urls)
    try:
        for _ in range(GIVE_UP_AFTER + 5):  # bounded: one try per retry time, then it stops
            (entry,) = history.outbox.entries()
            if entry.status is not OutboxStatus.PENDING:
                break
            due = entry.next_attempt_at + timedelta(seconds=1)
            asyncio.run(deliver_due(history.outbox, notifier, clock=lambda due=due: due))
        (entry,) = history.outbox.entries()
        assert (entry.status, entry.attempts) == (OutboxStatus.FAILED, GIVE_UP_AFTER)
        assert entry.created_at + timedelta(days=6) < entry.next_attempt_at  # about a week
    finally:
        history.close()
    assert "failed" in run_cli(path, "alerts", "--status", "failed").output

    receiver.up()
    assert "retried: 1 sent, 0 failed" in run_cli(path, "alerts", "--retry").output
    assert "retried: 0 sent, 0 failed" in run_cli(path, "alerts", "--retry").output
    assert len(receiver.wait_for(1)) == 1 and receiver.requests == 1


@pytest.mark.parametrize("how", ["down", "hanging"])
def test_a_broken_notifier_does_not_hold_up_the_daemons_price_checks(
    how: str,
    tmp_path: Path,
    shop: LoopbackShop,
    flaky_receiver: Callable[..., JsonReceiver],
    daemon_process: Callable[..., DaemonProcess],
) -> None:
    # A hanging receiver holds each send for up to 30 s (Apprise's read timeout here), far
    # longer than the test takes to see the second drop recorded.
    receiver = flaky_receiver(read_timeout=30 if how == "hanging" else None)
    if how == "hanging":
        receiver.up()
        receiver.hang = True
    phone = shop.add("/phone", "4599.00")
    tablet = shop.add("/tablet", "2999.00")
    path = write_config(
        tmp_path / "config.toml",
        orders=[order_table(phone, "PHONE"), order_table(tablet, "TABLET", paid="2999.00")],
        urls=[receiver.url],
    )
    database = tmp_path / "state.db"
    daemon = daemon_process(path)
    # Its second request means the phone's first check, with the drop, is recorded: the
    # daemon checks a product once at a time.
    shop.wait_for_requests("/phone", 2)
    if how == "hanging":
        receiver.wait_until_held(1)  # the outbox is stuck in the phone's send right now
    shop.set_price("/tablet", "2599.00")
    # Two more checks of the tablet: the first of them read the drop and recorded it.
    shop.wait_for_requests("/tablet", shop.requests("/tablet") + 2)
    shop.wait_for_requests("/phone", shop.requests("/phone") + 1)
    alerts = outbox(database)
    assert [(key.split("|")[0], status) for key, _, status, _ in alerts] == [
        ("PHONE", "sending" if how == "hanging" else "pending"),  # the stuck send holds it
        ("TABLET", "pending"),
    ]
    if how == "hanging":
        assert (receiver.held, receiver.requests) == (1, 1)  # still in the first send
    else:
        assert [attempts for *_, attempts in alerts] == [1, 1]  # each tried, refused

    receiver.hang = False
    receiver.release()
    if how == "down":
        receiver.up()
    assert daemon.stop() == 0
    assert "stopped" in daemon.log
    assert integrity(database) == "ok"

    run_cli(path, "alerts", "--retry")  # whatever the daemon's last flush did not send
    messages = receiver.wait_for(2)
    assert sorted(m["title"].split("（订单 ")[1] for m in messages) == ["PHONE）", "TABLET）"]
    assert [status for _, _, status, _ in outbox(database)] == ["sent", "sent"]
    assert len(receiver.messages) == 2
