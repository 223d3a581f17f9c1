"""The real `price-monitor run` process against a loopback shop and a loopback receiver."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from monitor.demo import DemoProduct, product_page
from tests.conftest import TEST_SHOPS, NotifySocket, Receiver, Shop, write_config

TODAY = datetime.now(UTC).date()


def phone(url: str, order_id: str = "5231120712345678", paid: str = "4999.00") -> dict[str, object]:
    return {
        "id": order_id,
        "shop": "testmall",
        "url": url,
        "title": "Xiaomi 14 Pro",
        "paid": paid,
        "ordered": TODAY - timedelta(days=1),
    }


class Daemon:
    """The real `price-monitor run` process, with its log kept in a file."""

    def __init__(self, config: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.log_path = log
        self._log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "-c", str(config), "run"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()


@pytest.fixture
def run_daemon(tmp_path: Path) -> Iterator[type[Daemon]]:
    started: list[Daemon] = []

    def start(config: Path, env: dict[str, str] | None = None) -> Daemon:
        daemon = Daemon(config, tmp_path / f"daemon{len(started)}.log", env)
        started.append(daemon)
        return daemon

    yield start  # type: ignore[misc]
    for daemon in started:
        daemon.close()


def test_drops_arrive_as_they_happen_and_sigterm_stops_cleanly(
    run_daemon, shop: Shop, receiver: Receiver, tmp_path: Path
) -> None:
    url = shop.add("/phone", "4599.00")
    config = write_config(
        tmp_path / "config.toml", orders=[phone(url)], urls=[receiver.url], extra=TEST_SHOPS
    )
    daemon = run_daemon(config)
    (first,) = receiver.wait_for(1)
    assert "¥400.00" in first["title"]

    shop.set_price("/phone", "4399.00")  # no restart: the next scheduled check finds it
    second = receiver.wait_for(2)[1]
    assert "又降价了" in second["title"] and "¥200.00" in second["title"]

    assert daemon.stop() == 0
    assert "watching 1 order" in daemon.log and "stopped" in daemon.log
    with sqlite3.connect(tmp_path / "state.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        sent = conn.execute("SELECT count(*) FROM alerts WHERE status = 'sent'").fetchone()[0]
    assert sent == 2
    assert receiver.requests == 2  # nothing sent twice, not even at shutdown


def test_edits_are_picked_up_and_a_broken_edit_is_refused(
    run_daemon, shop: Shop, receiver: Receiver, tmp_path: Path
) -> None:
    phone_url = shop.add("/phone", "4999.00")
    tablet_url = shop.add("/tablet", "2599.00", title="Xiaomi Pad")
    path = tmp_path / "config.toml"
    write_config(path, orders=[phone(phone_url)], urls=[receiver.url], extra=TEST_SHOPS)
    daemon = run_daemon(path)

    # An order added to the file is checked without a restart.
    write_config(
        path,
        orders=[phone(phone_url), phone(tablet_url, "TABLET-1", "2999.00")],
        urls=[receiver.url],
        extra=TEST_SHOPS,
    )
    (added,) = receiver.wait_for(1)
    assert "TABLET-1" in added["title"] and "¥400.00" in added["title"]

    # A broken edit is refused with one alert; the orders already watched keep being checked.
    broken = path.read_text().replace('paid = "2999.00"', 'paid = "2,999"')
    path.write_text(broken)
    refused = receiver.wait_for(2)[1]
    assert "was refused" in refused["title"]
    assert "orders[1].paid: expected a number like 4999.00" in refused["message"]
    shop.set_price("/phone", "4799.00")
    drop = receiver.wait_for(3)[2]
    assert "5231120712345678" in drop["title"] and "¥200.00" in drop["title"]
    assert "config reload (the file changed) refused" in daemon.log
    assert daemon.stop() == 0
    assert receiver.requests == 3  # the refusal was alerted once, not once per poll


def test_sd_notify_ready_status_watchdog_reload_and_stopping(
    run_daemon, shop: Shop, receiver: Receiver, tmp_path: Path
) -> None:
    url = shop.add("/phone", "4999.00")
    config = write_config(
        tmp_path / "config.toml", orders=[phone(url)], urls=[receiver.url], extra=TEST_SHOPS
    )
    notify = NotifySocket()
    try:
        daemon = run_daemon(
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
    httpserver: HTTPServer, receiver: Receiver, tmp_path: Path
) -> None:
    page = product_page(DemoProduct("/phone", "Phone", Decimal("4599.00"), "CNY", "S", ()))
    answers = [
        Response("busy", status=500),
        Response("slow down", status=429, headers={"Retry-After": "1"}),
    ]
    seen: list[float] = []

    def handle(request: Request) -> Response:
        seen.append(time.monotonic())
        return (
            answers.pop(0) if answers else Response(page, content_type="text/html; charset=utf-8")
        )

    httpserver.expect_request("/phone").respond_with_handler(handle)
    config = write_config(
        tmp_path / "config.toml",
        orders=[phone(httpserver.url_for("/phone"))],
        urls=[receiver.url],
        monitor={"retries": 2},
        extra=TEST_SHOPS,
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
    assert len(seen) == 3
    assert seen[1] - seen[0] >= 0.9  # backed off after the 500 (about 2 s, with jitter)
    assert seen[2] - seen[1] >= 0.95  # waited out the Retry-After of 1 s
    assert len(receiver.wait_for(1)) == 1


def test_a_product_that_is_gone_is_alerted_once_and_no_longer_polled(
    run_daemon, httpserver: HTTPServer, receiver: Receiver, tmp_path: Path
) -> None:
    asked = {"/gone": 0, "/phone": 0}

    def gone(request: Request) -> Response:
        asked["/gone"] += 1
        return Response("gone", status=410)

    def phone_page(request: Request) -> Response:
        # The healthy product drops on its fourth check: by then the daemon has had three
        # more chances to ask for the gone one.
        asked["/phone"] += 1
        price = "4599.00" if asked["/phone"] >= 4 else "4999.00"
        page = product_page(DemoProduct("/phone", "Phone", Decimal(price), "CNY", "S", ()))
        return Response(page, content_type="text/html; charset=utf-8")

    httpserver.expect_request("/gone").respond_with_handler(gone)
    httpserver.expect_request("/phone").respond_with_handler(phone_page)
    orders = [
        phone(httpserver.url_for("/gone"), "GONE-1"),
        phone(httpserver.url_for("/phone"), "PHONE-1"),
    ]
    config = write_config(
        tmp_path / "config.toml", orders=orders, urls=[receiver.url], extra=TEST_SHOPS
    )
    daemon = run_daemon(config)
    first, second = receiver.wait_for(2)
    assert first["title"] == "商品页已不存在：订单 GONE-1"
    assert "PHONE-1" in second["title"] and "¥400.00" in second["title"]
    assert asked["/gone"] == 1  # alerted once, then no longer asked
    assert daemon.stop() == 0
    assert "no longer polled" in daemon.log
    assert receiver.requests == 2
