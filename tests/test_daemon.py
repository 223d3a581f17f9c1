"""The real `price-monitor run` process against a loopback shop and a loopback receiver."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from monitor.testing import (
    Answer,
    DaemonProcess,
    JsonReceiver,
    LoopbackShop,
    NotifySocket,
    order_table,
    write_config,
)

Start = Callable[..., DaemonProcess]  # the daemon_process fixture


def phone(url: str, order_id: str = "5231120712345678", paid: str = "4999.00") -> dict[str, object]:
    return order_table(url, order_id, paid=paid, title="Xiaomi 14 Pro")


def test_drops_arrive_as_they_happen_and_sigterm_stops_cleanly(
    daemon_process: Start, shop: LoopbackShop, receiver: JsonReceiver, tmp_path: Path
) -> None:
    url = shop.add("/phone", "4599.00")
    config = write_config(tmp_path / "config.toml", orders=[phone(url)], urls=[receiver.url])
    daemon = daemon_process(config)
    (first,) = receiver.wait_for(1)
    assert "¥400.00" in first["title"]

    shop.set_price("/phone", "4399.00")  # no restart: the next scheduled check finds it
    second = receiver.wait_for(2)[1]
    assert "又降价了" in second["title"] and "¥600.00" in second["title"]  # nothing claimed yet
    # It says beside the database that it uses it, for a command that finds the lock taken.
    announced = tmp_path / "state.db.daemon"
    assert announced.read_text().strip() == str(daemon.process.pid)

    assert daemon.stop() == 0
    assert not announced.exists()
    assert "watching 1 order" in daemon.log and "stopped" in daemon.log
    with sqlite3.connect(tmp_path / "state.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        sent = conn.execute("SELECT count(*) FROM alerts WHERE status = 'sent'").fetchone()[0]
    assert sent == 2
    assert receiver.requests == 2  # nothing sent twice, not even at shutdown


def test_edits_are_picked_up_and_a_broken_edit_is_refused(
    daemon_process: Start, shop: LoopbackShop, receiver: JsonReceiver, tmp_path: Path
) -> None:
    phone_url = shop.add("/phone", "4999.00")
    tablet_url = shop.add("/tablet", "2599.00", title="Xiaomi Pad")
    path = tmp_path / "config.toml"
    write_config(path, orders=[phone(phone_url)], urls=[receiver.url])
    daemon = daemon_process(path)

    # An order added to the file is checked without a restart.
    write_config(
        path,
        orders=[phone(phone_url), phone(tablet_url, "TABLET-1", "2999.00")],
        urls=[receiver.url],
    )
    (added,) = receiver.wait_for(1)
    assert "TABLET-1" in added["title"] and "¥400.00" in added["title"]

    # A broken edit is refused with one alert; the orders already watched keep being checked.
    broken = path.read_text().replace('paid = "2999.00"', 'paid = "2,999"')
    path.write_text(broken)
    refused = receiver.wait_for(2)[1]
    assert "was refused" in refused["title"]
    assert 'orders[1] (id "TABLET-1").paid: expected a number like 4999.00' in refused["message"]
    shop.set_price("/phone", "4799.00")
    drop = receiver.wait_for(3)[2]
    assert "5231120712345678" in drop["title"] and "¥200.00" in drop["title"]
    assert "config reload (the file changed) refused" in daemon.log
    assert daemon.stop() == 0
    assert receiver.requests == 3  # the refusal was alerted once, not once per poll


def test_sd_notify_ready_status_watchdog_reload_and_stopping(
    daemon_process: Start, shop: LoopbackShop, receiver: JsonReceiver, tmp_path: Path
) -> None:
    url = shop.add("/phone", "4999.00")
    config = write_config(tmp_path / "config.toml", orders=[phone(url)], urls=[receiver.url])
    notify = NotifySocket()
    try:
        daemon = daemon_process(
            config,
            {"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": ""},
        )
        ready = notify.wait_for("READY")
        assert notify.messages[ready]["STATUS"].startswith("watching 1 order, next check ")
        notify.wait_for("WATCHDOG", after=ready)
        watchdog = notify.wait_for("WATCHDOG", after=notify.wait_for("WATCHDOG", after=ready) + 1)
        assert watchdog > ready  # pinged again, at half the 1 s watchdog interval

        daemon.process.send_signal(signal.SIGHUP)
        reloading = notify.wait_for("RELOADING", after=ready + 1)
        assert int(notify.messages[reloading]["MONOTONIC_USEC"]) > 0
        notify.wait_for("READY", after=reloading)
        assert "config reloaded (SIGHUP)" in daemon.log

        assert daemon.stop() == 0
        notify.wait_for("STOPPING", after=reloading)
    finally:
        notify.close()


def test_run_refuses_a_broken_config_with_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[monitor]\ninterval = "soon"\n')
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "-c", str(config), "run"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert 'monitor.interval: expected a duration like "2h"' in done.stderr


def test_a_shop_answering_500_then_429_then_200_is_retried_politely(
    shop: LoopbackShop, receiver: JsonReceiver, tmp_path: Path
) -> None:
    url = shop.add("/phone", "4599.00")
    shop.script("/phone", Answer(500, b"busy"), Answer(429, b"slow down", {"Retry-After": "1"}))
    config = write_config(
        tmp_path / "config.toml",
        orders=[phone(url)],
        urls=[receiver.url],
        monitor={"retries": 2},
    )
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "-c", str(config), "check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "¥4,599.00 (json-ld), 1 new alert" in done.stdout
    seen = shop.request_times("/phone")
    assert len(seen) == 3
    assert seen[1] - seen[0] >= 0.9  # backed off after the 500 (about 2 s, with jitter)
    assert seen[2] - seen[1] >= 0.95  # waited out the Retry-After of 1 s
    assert len(receiver.wait_for(1)) == 1


def test_a_product_that_is_gone_is_alerted_once_and_no_longer_polled(
    daemon_process: Start, shop: LoopbackShop, receiver: JsonReceiver, tmp_path: Path
) -> None:
    gone = shop.add("/gone", "4999.00")
    shop.set_status("/gone", 410)
    # The healthy product drops on its fourth check: by then the daemon has had three more
    # chances to ask for the gone one.
    healthy = shop.add("/phone", "4599.00")
    shop.script("/phone", "4999.00", "4999.00", "4999.00")
    orders = [phone(gone, "GONE-1"), phone(healthy, "PHONE-1")]
    config = write_config(tmp_path / "config.toml", orders=orders, urls=[receiver.url])
    daemon = daemon_process(config)
    first, second = receiver.wait_for(2)
    assert first["title"] == "商品页已不存在：订单 GONE-1"
    assert "PHONE-1" in second["title"] and "¥400.00" in second["title"]
    assert shop.requests("/gone") == 1  # alerted once, then no longer asked
    assert daemon.stop() == 0
    assert "no longer polled" in daemon.log
    assert receiver.requests == 2
