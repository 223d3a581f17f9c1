"""A new drop is confirmed by a later look, and nothing waits meanwhile: the daemon goes on
checking, ``check`` says what it waits for (or leaves it to the next run), and prints each
product as it is checked; ``check --dry-run`` records and sends nothing."""

from __future__ import annotations

import os
import queue
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from monitor.models import Extraction, Money, Observation, PendingDrop, Status
from monitor.rules import Confirmation, confirmation
from monitor.testing import (
    Answer,
    DaemonProcess,
    JsonReceiver,
    LoopbackShop,
    order_table,
    run_cli,
    write_config,
)

Start = Callable[..., DaemonProcess]  # the daemon_process fixture
SEEN = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def look(price: str | None, at: timedelta) -> Observation:
    if price is None:
        return Observation("u", SEEN + at, Extraction(Status.UNKNOWN, reason="captcha"))
    return Observation("u", SEEN + at, Extraction(Status.PRICE, Money(Decimal(price), "CNY")))


@pytest.mark.parametrize(
    ("price", "after", "verdict"),
    [
        ("4599.00", timedelta(minutes=2), Confirmation.CONFIRMED),
        ("4599.00", timedelta(hours=20), Confirmation.CONFIRMED),  # a later run, same price
        ("4599.00", timedelta(minutes=1, seconds=59), Confirmation.WAITING),
        ("4999.00", timedelta(minutes=2), Confirmation.REFUTED),  # back up
        ("4399.00", timedelta(minutes=2), Confirmation.REFUTED),  # lower again: a new drop
        ("4999.00", timedelta(seconds=30), Confirmation.REFUTED),  # flapped before it was due
        (None, timedelta(minutes=2), Confirmation.REFUTED),  # nothing read: nothing confirmed
    ],
)
def test_a_drop_is_confirmed_only_by_the_same_price_when_due(
    price: str | None, after: timedelta, verdict: Confirmation
) -> None:
    pending = PendingDrop(1, Money(Decimal("4599.00"), "CNY"), SEEN, SEEN + timedelta(minutes=2))
    assert confirmation(pending, look(price, after)) is verdict


def order(url: str, order_id: str, paid: str = "4999.00") -> dict[str, object]:
    return order_table(url, order_id, paid=paid, title=f"Product {order_id}")


def pending_rows(database: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT amount, currency FROM pending_drops").fetchall()


def alert_rows(database: Path) -> list[str]:
    with sqlite3.connect(database) as conn:
        return [row[0] for row in conn.execute("SELECT order_id FROM alerts ORDER BY id")]


# --- the daemon ------------------------------------------------------------------------------


def test_the_daemon_checks_other_products_while_a_drop_waits_and_alerts_it_once(
    daemon_process: Start, shop: LoopbackShop, receiver: JsonReceiver, tmp_path: Path
) -> None:
    drop = shop.add("/drop", "4599.00")
    steady = shop.add("/steady", "2999.00")
    config = write_config(
        tmp_path / "config.toml",
        orders=[order(drop, "DROP-1"), order(steady, "STEADY-1", paid="2999.00")],
        urls=[receiver.url],
        # One check at a time: a check that waited for its confirmation would hold it.
        monitor={"confirm": "3s", "concurrency": 1},
    )
    daemon = daemon_process(config)
    (alert,) = receiver.wait_for(1)
    assert "DROP-1" in alert["title"] and "¥400.00" in alert["title"]
    first, confirming = shop.request_times("/drop")[:2]
    assert confirming - first >= 2.9  # looked again when the confirmation was due
    during = [t for t in shop.request_times("/steady") if first < t < confirming]
    assert len(during) >= 2  # every second, while the drop waited
    shop.wait_for_requests("/drop", 4)  # two more looks at the same price: no more alerts
    assert daemon.stop() == 0
    assert receiver.requests == 1 and alert_rows(tmp_path / "state.db") == ["DROP-1"]
    assert pending_rows(tmp_path / "state.db") == []
    assert "DROP-1: ¥4,599.00 is new; confirming in 3s" in daemon.log


def test_a_price_back_up_at_the_confirming_look_alerts_nobody(
    daemon_process: Start, shop: LoopbackShop, receiver: JsonReceiver, tmp_path: Path
) -> None:
    url = shop.add("/flap", "4999.00")
    shop.script("/flap", "4599.00")  # the first look only
    config = write_config(
        tmp_path / "config.toml",
        orders=[order(url, "FLAP-1")],
        urls=[receiver.url],
        monitor={"confirm": "2s"},
    )
    daemon = daemon_process(config)
    shop.wait_for_requests("/flap", 3)  # the confirming look (the 2nd) is recorded by now
    first, confirming = shop.request_times("/flap")[:2]
    assert confirming - first >= 1.9
    assert daemon.stop() == 0
    assert "FLAP-1: ¥4,599.00, then ¥4,999.00: not confirmed, no alert" in daemon.log
    assert alert_rows(tmp_path / "state.db") == [] and receiver.requests == 0
    assert pending_rows(tmp_path / "state.db") == []


def test_a_drop_waiting_when_the_daemon_stops_is_kept_and_a_later_check_confirms_it(
    daemon_process: Start, shop: LoopbackShop, receiver: JsonReceiver, tmp_path: Path
) -> None:
    drop = shop.add("/drop", "4599.00")
    steady = shop.add("/steady", "2999.00")
    config = write_config(
        tmp_path / "config.toml",
        orders=[order(drop, "DROP-1"), order(steady, "STEADY-1", paid="2999.00")],
        urls=[receiver.url],
        monitor={"confirm": "3s", "concurrency": 1},
    )
    daemon = daemon_process(config)
    shop.wait_for_requests("/drop", 1)
    seen = shop.requests("/steady")
    # One check at a time: once the steady product is read again, the drop's look is recorded.
    shop.wait_for_requests("/steady", seen + 1)
    assert daemon.stop() == 0
    assert shop.requests("/drop") == 1  # stopped before the confirming look
    assert pending_rows(tmp_path / "state.db") == [("4599.00", "CNY")]
    assert receiver.requests == 0

    result = run_cli(config, "check", "DROP-1")
    assert shop.requests("/drop") >= 2  # it read the page again to compare
    assert "the drop to ¥4,599.00 is confirmed, 1 new alert" in result.output
    (alert,) = receiver.wait_for(1)
    assert "DROP-1" in alert["title"]
    assert pending_rows(tmp_path / "state.db") == []


# --- check -----------------------------------------------------------------------------------


def test_check_says_what_it_confirms_and_when_and_waits_for_it(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/drop", "4599.00")
    config = write_config(
        tmp_path / "config.toml",
        orders=[order(url, "DROP-1")],
        urls=[receiver.url],
        monitor={"confirm": "1s"},
    )
    result = run_cli(config, "check")
    lines = result.output.splitlines()
    assert lines[:3] == [
        "DROP-1: ¥4,599.00 (json-ld)",
        "confirming DROP-1 at ¥4,599.00 in 1s",
        "DROP-1: ¥4,599.00 (json-ld), the drop to ¥4,599.00 is confirmed, 1 new alert",
    ]
    first, confirming = shop.request_times("/drop")
    assert confirming - first >= 0.95
    (alert,) = receiver.wait_for(1)
    assert "DROP-1" in alert["title"]


def test_check_no_wait_records_the_drop_and_a_later_check_confirms_it_once(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/drop", "4599.00")
    config = write_config(
        tmp_path / "config.toml",
        orders=[order(url, "DROP-1")],
        urls=[receiver.url],
        monitor={"confirm": "1s"},
    )
    first = run_cli(config, "check", "--no-wait")
    assert "DROP-1: the drop to ¥4,599.00 is recorded; the next run" in first.output
    assert "new alert" not in first.output and "confirming" not in first.output
    assert shop.requests("/drop") == 1
    assert pending_rows(tmp_path / "state.db") == [("4599.00", "CNY")]
    assert receiver.requests == 0

    later = run_cli(config, "check")
    assert shop.requests("/drop") >= 2  # it looked again
    assert "the drop to ¥4,599.00 is confirmed, 1 new alert" in later.output
    (alert,) = receiver.wait_for(1)
    assert "DROP-1" in alert["title"] and "¥400.00" in alert["title"]
    assert pending_rows(tmp_path / "state.db") == []
    run_cli(config, "check")  # the same price again: alerted already
    assert receiver.requests == 1


def test_check_no_wait_then_a_price_back_up_alerts_nobody(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/drop", "4999.00")
    shop.script("/drop", "4599.00")
    config = write_config(
        tmp_path / "config.toml",
        orders=[order(url, "DROP-1")],
        urls=[receiver.url],
        monitor={"confirm": "1s"},
    )
    run_cli(config, "check", "--no-wait")
    assert pending_rows(tmp_path / "state.db") == [("4599.00", "CNY")]
    later = run_cli(config, "check")
    assert "the drop to ¥4,599.00 is not confirmed: no alert" in later.output
    assert pending_rows(tmp_path / "state.db") == [] and alert_rows(tmp_path / "state.db") == []
    assert receiver.requests == 0


def read_lines(stream: object, into: queue.Queue[tuple[float, str]]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put((time.monotonic(), line.rstrip("\n")))


def test_check_prints_each_product_as_it_finishes_into_a_pipe(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    slow = shop.add("/slow", "2999.00")
    fast = shop.add("/fast", "1999.00")
    # The first product listed finishes last: the shop asks it to come back in 2 s.
    shop.script("/slow", Answer(503, b"busy", {"Retry-After": "2"}))
    config = write_config(
        tmp_path / "config.toml",
        orders=[order(slow, "SLOW-1", paid="2999.00"), order(fast, "FAST-1", paid="1999.00")],
        urls=[receiver.url],
        monitor={"retries": 1},
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "-c", str(config), "check"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[tuple[float, str]] = queue.Queue()
    reader = threading.Thread(target=read_lines, args=(process.stdout, lines), daemon=True)
    reader.start()
    try:
        _, line = lines.get(timeout=20)
        assert line == "FAST-1: ¥1,999.00 (json-ld)"
        # Printed while the other product was still waiting to be asked again.
        assert shop.requests("/slow") == 1
        _, line = lines.get(timeout=20)
        assert line == "SLOW-1: ¥2,999.00 (json-ld)"
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert shop.requests("/slow") == 2
    reader.join(timeout=10)  # the pipe is closed: it has read every line
    assert lines.empty()  # two lines, and no progress bar drawn into the pipe


def test_check_draws_a_progress_bar_on_a_terminal_only(tmp_path: Path, shop: LoopbackShop) -> None:
    import pty

    url = shop.add("/p", "2999.00")
    config = write_config(
        tmp_path / "config.toml", orders=[order(url, "P-1", paid="2999.00")], urls=[]
    )
    main, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "-c", str(config), "check"],
        stdout=terminal,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"},
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    assert process.wait(timeout=20) == 0
    text = shown.decode("utf-8", "replace")
    assert "checked 0 of 1" in text or "checked 1 of 1" in text  # the bar
    assert "P-1: ¥2,999.00 (json-ld)" in text


# --- check --dry-run -------------------------------------------------------------------------


def files_beside(database: Path) -> dict[str, bytes | None]:
    """The files in the database's folder, with the contents of the database and its log
    (the ``-shm`` index is shared memory: every reader of the database writes to it)."""
    return {
        p.name: None if p.name.endswith("-shm") else p.read_bytes()
        for p in sorted(database.parent.iterdir())
    }


def test_check_dry_run_writes_nothing_sends_nothing_and_says_what_it_would_alert(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/drop", "4599.00")
    database = tmp_path / "state.db"
    config = write_config(
        tmp_path / "config.toml",
        orders=[order(url, "DROP-1")],
        urls=[receiver.url],
        monitor={"confirm": "1s"},
    )
    # No database yet: none is made.
    result = run_cli(config, "check", "--dry-run")
    assert "DROP-1: ¥4,599.00 (json-ld)" in result.output
    assert "would alert: 可申请退差价 ¥400.00：Product DROP-1（订单 DROP-1）" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]  # no database, no pages

    # A database with a history, open in another process as a daemon holds it (its
    # write-ahead log unmerged): neither file changes, and no file appears beside them.
    shop.script("/drop", "4999.00")
    run_cli(config, "check")
    assert receiver.requests == 0 and alert_rows(database) == []
    holder = sqlite3.connect(database)
    holder.execute("PRAGMA wal_autocheckpoint = 0")
    holder.execute(
        "INSERT INTO claims (order_id, state, at) VALUES ('X', 'claimed', ?)", [SEEN.isoformat()]
    )
    holder.commit()
    before = files_beside(database)
    assert "state.db-wal" in before
    requests = shop.requests("/drop")
    result = run_cli(config, "check", "--dry-run")
    assert files_beside(database) == before
    assert not (tmp_path / "evidence").exists()
    holder.close()
    assert shop.requests("/drop") == requests + 2  # it read, and read again to confirm
    assert "confirming DROP-1 at ¥4,599.00 in 1s" in result.output
    assert "dry run: nothing was recorded and nothing sent" in result.output
    assert "would alert: 可申请退差价 ¥400.00：Product DROP-1（订单 DROP-1）" in result.output
    assert receiver.requests == 0
    assert alert_rows(database) == [] and pending_rows(database) == []
