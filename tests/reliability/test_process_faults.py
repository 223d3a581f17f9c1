"""kill -9 of the real `price-monitor run` at points in its life, and a database held locked.

After every kill: `PRAGMA integrity_check` is ok, the price history is still run-length (an
unchanged price added no row), and after a restart every owed alert arrives exactly once.
The kill points are events, not guesses: the daemon's READY=1, the shop holding a request,
the daemon's STATUS line saying the alert is pending, the receiver holding a send.
"""

from __future__ import annotations

import contextlib
import random
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from monitor.messages import format_money
from monitor.models import Money
from monitor.testing import (
    DaemonProcess,
    JsonReceiver,
    LoopbackShop,
    NotifySocket,
    order_table,
    run_cli,
    write_config,
)
from tests.reliability.conftest import (
    assert_run_length,
    integrity,
    outbox,
    price_rows,
    quiet_hours_now,
)

KILL_POINTS = ["right-after-start", "while-fetching", "right-after-enqueue", "while-sending"]
PAID = Decimal("4999.00")


@dataclass
class World:
    """One product whose price only goes down, a receiver, and the daemon's config."""

    tmp_path: Path
    shop: LoopbackShop
    receiver: JsonReceiver
    start: Callable[..., DaemonProcess]
    price: Decimal = PAID
    owed: list[Decimal] = field(default_factory=list)  # every price an alert is owed for

    def __post_init__(self) -> None:
        self.url = self.shop.add("/phone", str(self.price))
        self.config = self.tmp_path / "config.toml"
        self.database = self.tmp_path / "state.db"

    def write(self, *, quiet: bool) -> None:
        write_config(
            self.config,
            orders=[order_table(self.url, "PHONE", paid=str(PAID))],
            urls=[self.receiver.url],
            monitor={"timezone": "UTC"},
        )
        if quiet:  # alerts wait in the outbox until the end of quiet hours
            text = self.config.read_text()
            span = f'[notify]\nquiet_hours = "{quiet_hours_now()}"\n'
            self.config.write_text(text.replace("[notify]\n", span))

    def lower_price(self, step: Decimal) -> None:
        """Lower the price: an alert is owed, once the daemon has read it."""
        self.price -= step
        self.shop.set_price("/phone", self.price)
        self.owed.append(self.price)

    def kill_at(self, point: str, *, pause: float = 0.0) -> None:
        """Start the daemon, SIGKILL it at ``point`` (``pause`` seconds later), check the file."""
        # Quiet hours hold every alert in the outbox, except when the kill is to land in a
        # send: a send that the receiver acknowledged just before the kill, and that was not
        # yet marked sent, would go out again after the restart (at-least-once delivery).
        self.write(quiet=point != "while-sending")
        notify = NotifySocket()
        if point == "while-fetching":
            self.shop.hold()
        if point == "while-sending":
            self.receiver.hang = True
        held = self.receiver.held
        try:
            daemon = self.start(self.config, {"NOTIFY_SOCKET": notify.path})
            if point == "right-after-start":
                notify.wait_for("READY")
            elif point == "while-fetching":
                assert self.shop.fetching.wait(20), "the daemon never fetched"
            elif point == "right-after-enqueue":
                notify.wait_for_status("1 alert pending")
            else:
                self.receiver.wait_until_held(held + 1)
            if pause:
                threading.Event().wait(pause)  # a random moment after the event
            daemon.kill()
        finally:
            self.shop.release()
            self.receiver.hang = False
            self.receiver.release()
            notify.close()
        assert integrity(self.database) == "ok"
        assert_run_length(self.database)

    def restart(self) -> None:
        """Run the daemon again until it has checked twice; SIGTERM flushes the outbox."""
        self.write(quiet=False)
        seen = self.shop.requests("/phone")
        daemon = self.start(self.config)
        # Its second request means the first check of this run is recorded.
        self.shop.wait_for_requests("/phone", seen + 2)
        assert daemon.stop() == 0
        assert integrity(self.database) == "ok"
        assert_run_length(self.database)

    def assert_every_owed_alert_arrived_once(self) -> None:
        messages = self.receiver.wait_for(len(self.owed))
        seen = Counter(
            price
            for message in messages
            for price in self.owed
            if f"现价 {format_money(Money(price, 'CNY'))}" in message["message"]
        )
        assert seen == Counter(self.owed), [m["title"] for m in messages]
        assert len(self.receiver.messages) == len(self.owed)
        alerts = outbox(self.database)
        assert [status for _, _, status, _ in alerts] == ["sent"] * len(self.owed)
        assert [key.split("|")[2] for key, *_ in alerts] == [f"{p} CNY" for p in self.owed]
        # One row per price the phone had, each seen by several checks: nothing duplicated.
        rows = price_rows(self.database)[self.url]
        assert [Decimal(amount) for amount, *_ in rows] == self.owed


@pytest.fixture
def world(
    tmp_path: Path,
    shop: LoopbackShop,
    receiver: JsonReceiver,
    daemon_process: Callable[..., DaemonProcess],
) -> World:
    return World(tmp_path, shop, receiver, daemon_process)


def test_sigkill_at_each_point_in_turn_then_a_restart_delivers_every_alert_once(
    world: World,
) -> None:
    """Four kills in a row, each run a restart of the killed one, then a clean restart."""
    world.lower_price(Decimal("400.00"))
    world.kill_at("right-after-start")
    world.kill_at("while-fetching")  # the shop holds the request: nothing is recorded
    world.kill_at("right-after-enqueue")  # the drop is in the outbox, held by quiet hours
    assert world.receiver.requests == 0
    # A new drop wakes the outbox (the old alert alone would wait for its 30 s round), and
    # the receiver holds the first send unanswered when the process dies.
    world.lower_price(Decimal("100.00"))
    world.kill_at("while-sending")
    assert world.receiver.messages == []
    world.restart()
    world.assert_every_owed_alert_arrived_once()


@pytest.mark.slow
def test_thirty_sigkills_at_random_points_lose_nothing_and_repeat_nothing(world: World) -> None:
    rng = random.Random(20261126)
    for _ in range(30):
        world.lower_price(Decimal(rng.choice(["10.00", "25.50", "60.00"])))
        point = rng.choice(KILL_POINTS)
        world.kill_at(point, pause=rng.uniform(0, 1.5) if point == "right-after-start" else 0)
        if rng.random() < 0.3:
            world.kill_at("right-after-start", pause=rng.uniform(0, 2.0))  # twice in a row
        world.restart()
        world.assert_every_owed_alert_arrived_once()


# --- the database locked by another process ------------------------------------------------


def check_while_locked(tmp_path: Path, shop: LoopbackShop, hold: float) -> tuple[int, str, float]:
    """Run `price-monitor check` while a plain sqlite3 connection holds BEGIN EXCLUSIVE.

    The lock is let go when the check exits or after ``hold`` seconds, whichever is first.
    Return the exit code, the output, and how long the check ran while the lock was held.
    """
    url = shop.add("/phone", "4999.00")
    config = write_config(
        tmp_path / "config.toml",
        orders=[order_table(url, "PHONE", paid=str(PAID))],
        urls=[],
    )
    run_cli(config, "check")  # the database exists, in WAL mode, with one price
    shop.set_price("/phone", "4599.00")
    locker = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    process: subprocess.Popen[str] | None = None
    try:
        locker.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "-c", str(config), "check"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=hold)  # still running after `hold`: blocked on the lock
        locked_for = time.monotonic() - started
        locker.execute("ROLLBACK")
        output, _ = process.communicate(timeout=30)
    finally:
        locker.close()
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, output, locked_for


def test_a_database_locked_for_a_few_seconds_is_waited_for(
    tmp_path: Path, shop: LoopbackShop
) -> None:
    code, output, locked_for = check_while_locked(tmp_path, shop, hold=2.0)
    assert locked_for >= 2.0, output  # it waited for the lock (busy_timeout is 10 s)
    assert code == 0, output
    assert "PHONE: ¥4,599.00 (json-ld), 1 new alert" in output
    assert integrity(tmp_path / "state.db") == "ok"
    rows = price_rows(tmp_path / "state.db")
    assert [amount for amount, *_ in next(iter(rows.values()))] == ["4999.00", "4599.00"]


@pytest.mark.slow
def test_a_database_locked_past_the_busy_timeout_fails_cleanly_and_the_next_run_catches_up(
    tmp_path: Path, shop: LoopbackShop
) -> None:
    code, output, locked_for = check_while_locked(tmp_path, shop, hold=20.0)
    assert 9.0 < locked_for < 20.0, output  # gave up after the 10 s busy_timeout
    assert code == 1, output
    assert re.search(r"database is locked by another process \(waited (9|10|11)\.\d s", output)
    assert "Traceback" not in output
    assert integrity(tmp_path / "state.db") == "ok"
    result = run_cli(tmp_path / "config.toml", "check")
    assert "PHONE: ¥4,599.00 (json-ld), 1 new alert" in result.output
