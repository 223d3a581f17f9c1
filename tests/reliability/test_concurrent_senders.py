"""The daemon and the commands a user runs beside it: every alert arrives exactly once.

The real `price-monitor run` watches orders whose prices keep falling, while `check`,
`alerts --retry`, `claim` and `status` run in loops in processes of their own. Each alert is
leased to one sender at a time, so however the senders interleave, the receiver gets every
alert once, and no command fails on the database's lock.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from monitor.testing import DaemonProcess, JsonReceiver, LoopbackShop, order_table, write_config
from tests.reliability.conftest import integrity, outbox

ORDERS = 60
COMMANDS = {
    "check": ["check"],
    "retry": ["alerts", "--retry"],
    "claim": ["claim", "O007", "--amount", "1"],
    "status": ["status"],
}


def run_in_turn(
    config: Path, args: list[str], stop: threading.Event, failures: list[str], runs: Counter[str]
) -> None:
    """Run `price-monitor ARGS` again and again until ``stop``; note every failure."""
    while not stop.is_set():
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "-c", str(config), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        runs[args[0]] += 1
        if done.returncode != 0:
            failures.append(f"{' '.join(args)} exited {done.returncode}: {done.stderr[-400:]}")


def fall(shop: LoopbackShop, stop: threading.Event) -> None:
    """Lower every price a little, over and over, so that alerts keep coming."""
    price = Decimal("1000.00")
    while not stop.wait(0.7):
        price -= Decimal("3.00")
        for index in range(ORDERS):
            shop.set_price(f"/p{index}", price - index)


def drive(
    seconds: float,
    tmp_path: Path,
    shop: LoopbackShop,
    receiver: JsonReceiver,
    daemon_process: Callable[..., DaemonProcess],
) -> None:
    orders = [
        order_table(shop.add(f"/p{i}", Decimal("1000.00") - i), f"O{i:03d}", paid="1000.00")
        for i in range(ORDERS)
    ]
    config = write_config(tmp_path / "config.toml", orders=orders, urls=[receiver.url])
    daemon = daemon_process(config)
    stop = threading.Event()
    failures: list[str] = []
    runs: Counter[str] = Counter()
    workers = [threading.Thread(target=fall, args=(shop, stop))]
    workers += [
        threading.Thread(target=run_in_turn, args=(config, args, stop, failures, runs))
        for args in COMMANDS.values()
    ]
    for worker in workers:
        worker.start()
    stop.wait(seconds)  # the length of the run: nothing waits on this but the test itself
    stop.set()
    for worker in workers:
        worker.join(timeout=150)
    assert daemon.stop() == 0, daemon.log[-2000:]
    # Whatever the daemon's last flush left (an alert a `check` made as it was stopped).
    subprocess.run(
        [sys.executable, "-m", "monitor", "-c", str(config), "alerts", "--retry"],
        check=True,
        capture_output=True,
    )

    assert failures == []
    assert all(runs[args[0]] >= 2 for args in COMMANDS.values()), runs
    database = tmp_path / "state.db"
    assert integrity(database) == "ok"
    alerts = outbox(database)
    assert len(alerts) > ORDERS  # the prices kept falling: drops, then further drops
    assert {status for _, _, status, _ in alerts} == {"sent"}
    received = Counter(m["message"] for m in receiver.messages)
    twice = [body.splitlines()[0] for body, n in received.items() if n > 1]
    assert twice == [], f"{len(twice)} alerts arrived more than once"
    assert len(receiver.messages) == len(alerts)  # each alert once, none lost


def test_the_daemon_and_commands_beside_it_deliver_every_alert_exactly_once(
    tmp_path: Path,
    shop: LoopbackShop,
    receiver: JsonReceiver,
    daemon_process: Callable[..., DaemonProcess],
) -> None:
    drive(20, tmp_path, shop, receiver, daemon_process)


@pytest.mark.slow
def test_a_minute_of_the_daemon_and_commands_beside_it_delivers_every_alert_once(
    tmp_path: Path,
    shop: LoopbackShop,
    receiver: JsonReceiver,
    daemon_process: Callable[..., DaemonProcess],
) -> None:
    drive(60, tmp_path, shop, receiver, daemon_process)
