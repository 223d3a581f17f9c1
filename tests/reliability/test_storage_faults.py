"""Storage faults: a full disk is said plainly and sends nothing twice; a database deleted
under the daemon stops it loudly.

The full disk is real: a small tmpfs, filled with a file until the kernel answers ENOSPC,
then emptied again. Mounting it needs root (or CAP_SYS_ADMIN); without it the tests skip
and say so.
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from monitor.channels import Notifier
from monitor.config import NotifyTarget
from monitor.delivery import deliver_due
from monitor.errors import DiskFull
from monitor.history import History
from monitor.models import AlertKind, Message, Money
from monitor.testing import (
    DaemonProcess,
    JsonReceiver,
    LoopbackShop,
    NotifySocket,
    order_table,
    run_cli,
    write_config,
)

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


class SmallDisk:
    """A 4 MB tmpfs at ``path``; ``fill()`` leaves it without a byte free, ``free()`` undoes it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._filler = path / "filler"

    def fill(self) -> None:
        fd = os.open(self._filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (65536, 4096, 512, 1):  # down to the last byte
                while True:
                    try:
                        os.write(fd, b"\0" * size)
                    except OSError as exc:
                        assert exc.errno == errno.ENOSPC
                        break
        finally:
            os.close(fd)

    def free(self) -> None:
        self._filler.unlink(missing_ok=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"a small tmpfs cannot be mounted here (needs root): {mounted.stderr.strip()}")
    try:
        yield SmallDisk(mountpoint)
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def drop_message(order_id: str = "A-1") -> Message:
    return Message(
        dedupe_key=f"{order_id}|drop|90.00 USD",
        order_id=order_id,
        kind=AlertKind.DROP,
        title=f"Price drop: claim $10.00 on Kettle (order {order_id})",
        body="x" * 2000,
        price=Money(Decimal("90.00"), "USD"),
        asked=Money(Decimal("10.00"), "USD"),
    )


def status_of(database: Path) -> list[str]:
    with sqlite3.connect(database) as conn:
        return [row[0] for row in conn.execute("SELECT status FROM alerts ORDER BY id")]


def test_a_full_disk_holds_delivery_and_nothing_is_sent_twice(
    small_disk: SmallDisk, receiver: JsonReceiver
) -> None:
    database = small_disk.path / "state.db"
    history = History.open(database)
    notifier = Notifier([NotifyTarget(url=receiver.url)])
    try:
        history.outbox.enqueue([drop_message()], now=NOW)
        # The disk fills up the moment the receiver takes the alert: the lease was written,
        # the delivery cannot be. The round stops there.
        receiver.on_message = lambda _: small_disk.fill()
        with pytest.raises(DiskFull, match=f"disk full: cannot write the database at {database}"):
            asyncio.run(deliver_due(history.outbox, notifier, clock=lambda: NOW))
        assert len(receiver.wait_for(1)) == 1
        # Every later round, while the disk stays full, sends nothing (it used to send the
        # alert again every 30 s, 5 deliveries in 150 s).
        for minutes in (1, 6, 60):
            later = NOW + timedelta(minutes=minutes)  # past the 5-minute lease too
            with pytest.raises(DiskFull):
                asyncio.run(deliver_due(history.outbox, notifier, clock=lambda t=later: t))
        assert receiver.requests == 1

        small_disk.free()
        done = NOW + timedelta(hours=2)
        report = asyncio.run(deliver_due(history.outbox, notifier, clock=lambda: done))
        assert (report.sent, report.failed) == (1, 0)
        assert receiver.requests == 1  # written down as delivered, not sent again
        assert status_of(database) == ["sent"]
    finally:
        small_disk.free()
        history.close()


def test_commands_on_a_full_disk_say_so_and_lose_nothing(
    small_disk: SmallDisk, tmp_path: Path, shop: LoopbackShop
) -> None:
    url = shop.add("/phone", "4999.00")
    config = write_config(
        tmp_path / "config.toml",
        orders=[order_table(url, "PHONE")],
        urls=[],
        monitor={"database": str(small_disk.path / "state.db")},
    )
    run_cli(config, "check")
    small_disk.fill()
    expected = f"price-monitor: disk full: cannot write the database at {small_disk.path}/state.db"
    claimed = run_cli(config, "claim", "PHONE", "--amount", "400", code=1)
    assert expected in claimed.output and "unexpected" not in claimed.output
    shop.set_price("/phone", "4599.00")
    checked = run_cli(config, "check", code=1)
    assert expected in checked.output
    assert "unexpected" not in checked.output and "Traceback" not in checked.output
    # Reading needs no space: the commands that only show what the database holds say the
    # disk is full and show it.
    shown = run_cli(config, "status").output
    assert "PHONE" in shown and "4,999.00" in shown
    assert f"warning: disk full: cannot write the database at {small_disk.path}" in shown
    assert "No alerts yet." in run_cli(config, "alerts").output
    small_disk.free()
    assert "1 new alert" in run_cli(config, "check").output  # the drop, now it can be written


def test_commands_beside_a_running_daemon_on_a_full_disk(
    small_disk: SmallDisk, tmp_path: Path, shop: LoopbackShop
) -> None:
    # A daemon's connection keeps SQLite's files open, so the database still opens on the
    # full disk: the commands then fail, or fall back, where they first write.
    url = shop.add("/phone", "4999.00")
    database = small_disk.path / "state.db"
    settings = {"database": str(database)}
    config = write_config(
        tmp_path / "config.toml", orders=[order_table(url, "PHONE")], urls=[], monitor=settings
    )
    run_cli(config, "check")
    daemon = sqlite3.connect(database)
    try:
        daemon.execute("SELECT count(*) FROM products").fetchall()
        small_disk.fill()
        shop.set_price("/phone", "4599.00")
        checked = run_cli(config, "check", code=1)  # a drop it could not write down
        assert f"disk full: cannot write the database at {database}" in checked.output
        assert "new alert" not in checked.output
        # The order was edited: status cannot store it, and shows its history all the same.
        write_config(
            config, orders=[order_table(url, "PHONE", paid="5099.00")], urls=[], monitor=settings
        )
        shown = run_cli(config, "status").output
        assert f"warning: disk full: cannot write the database at {database}" in shown
        assert "5,099.00" in shown and "4,999.00" in shown  # paid now, and the price seen
        assert "never" not in shown
        assert "Nothing yet" in run_cli(config, "savings").output
    finally:
        daemon.close()
        small_disk.free()
    assert "1 new alert" in run_cli(config, "check").output


def test_a_daemon_on_a_full_disk_goes_on_and_sends_each_alert_once(
    small_disk: SmallDisk,
    tmp_path: Path,
    shop: LoopbackShop,
    receiver: JsonReceiver,
    daemon_process: Callable[..., DaemonProcess],
) -> None:
    url = shop.add("/phone", "4599.00")  # already below what was paid: one drop alert
    database = small_disk.path / "state.db"
    settings = {"database": str(database)}
    config = write_config(
        tmp_path / "config.toml", orders=[order_table(url, "PHONE")], urls=[], monitor=settings
    )
    notify = NotifySocket()
    try:
        daemon = daemon_process(config, {"NOTIFY_SOCKET": notify.path})
        notify.wait_for_status("1 alert pending")  # no URL yet: the alert waits
        small_disk.fill()
        write_config(  # a target now, and a reload that tries the outbox at once
            config, orders=[order_table(url, "PHONE")], urls=[receiver.url], monitor=settings
        )
        daemon.process.send_signal(signal.SIGHUP)
        # Nothing is sent that could not be written down: not even the lease fits.
        notify.wait_for_status("delivery paused: disk full")
        seen = shop.requests("/phone")
        shop.wait_for_requests("/phone", seen + 2)  # price checks go on
        for _ in range(2):  # more rounds while the disk is full: still nothing is sent
            reloads = len(notify.messages)
            daemon.process.send_signal(signal.SIGHUP)
            notify.wait_for("READY", after=reloads)
        assert receiver.requests == 0
        small_disk.free()
        daemon.process.send_signal(signal.SIGHUP)
        assert len(receiver.wait_for(1)) == 1
        assert daemon.stop() == 0
    finally:
        notify.close()
        small_disk.free()
    assert receiver.requests == 1
    assert status_of(database) == ["sent"]
    log = daemon.log
    assert f"disk full: cannot write the database at {database}: delivery paused" in log
    assert "delivery resumed" in log and "Traceback" not in log


def daemon_past_its_first_check(
    tmp_path: Path, shop: LoopbackShop, daemon_process: Callable[..., DaemonProcess]
) -> tuple[DaemonProcess, Path]:
    """The real daemon watching one product, once it has fetched it; and its database."""
    url = shop.add("/phone", "4999.00")
    config = write_config(tmp_path / "config.toml", orders=[order_table(url, "PHONE")], urls=[])
    daemon = daemon_process(config)
    shop.wait_for_requests("/phone", 1)
    return daemon, tmp_path / "state.db"


def test_a_database_deleted_under_the_daemon_stops_it_loudly(
    tmp_path: Path, shop: LoopbackShop, daemon_process: Callable[..., DaemonProcess]
) -> None:
    daemon, database = daemon_past_its_first_check(tmp_path, shop, daemon_process)
    for path in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))):
        path.unlink(missing_ok=True)
    assert daemon.process.wait(timeout=30) == 1  # systemd restarts it (Restart=on-failure)
    assert f"the database {database} was deleted while the daemon was running" in daemon.log
    assert not database.exists()  # it did not go on writing somewhere no one reads


def test_a_database_replaced_under_the_daemon_stops_it_loudly(
    tmp_path: Path, shop: LoopbackShop, daemon_process: Callable[..., DaemonProcess]
) -> None:
    daemon, database = daemon_past_its_first_check(tmp_path, shop, daemon_process)
    copy = tmp_path / "restored.db"
    with sqlite3.connect(database) as source, sqlite3.connect(copy) as target:
        source.backup(target)  # a user restoring a backup over the live file
    copy.replace(database)
    assert daemon.process.wait(timeout=30) == 1
    assert "was replaced by another file while the daemon was running" in daemon.log
