"""The real `price-monitor run` process against a loopback shop and a loopback receiver."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import TEST_SHOPS, Receiver, Shop, write_config

TODAY = datetime.now(UTC).date()


@pytest.fixture
def daemon_config(tmp_path: Path, shop: Shop, receiver: Receiver) -> Path:
    url = shop.add("/phone", "4599.00")
    order = {
        "id": "5231120712345678",
        "shop": "testmall",
        "url": url,
        "title": "Xiaomi 14 Pro",
        "paid": "4999.00",
        "ordered": TODAY - timedelta(days=1),
    }
    return write_config(
        tmp_path / "config.toml", orders=[order], urls=[receiver.url], extra=TEST_SHOPS
    )


@pytest.fixture
def daemon(daemon_config: Path, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    log = (tmp_path / "daemon.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "-c", str(daemon_config), "run"],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()
    log.close()


def test_the_daemon_alerts_drops_as_they_happen_and_stops_cleanly_on_sigterm(
    daemon: subprocess.Popen[str], shop: Shop, receiver: Receiver, tmp_path: Path
) -> None:
    (first,) = receiver.wait_for(1)
    assert "¥400.00" in first["title"]

    shop.set_price("/phone", "4399.00")  # no restart: the next scheduled check finds it
    second = receiver.wait_for(2)[1]
    assert "又降价了" in second["title"] and "¥200.00" in second["title"]

    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=15) == 0
    log = (tmp_path / "daemon.log").read_text()
    assert "watching 1 orders on 1 products" in log and "stopped" in log
    with sqlite3.connect(tmp_path / "state.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        sent = conn.execute("SELECT count(*) FROM alerts WHERE status = 'sent'").fetchone()[0]
    assert sent == 2
    assert receiver.requests == 2


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
