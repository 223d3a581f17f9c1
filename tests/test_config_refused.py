"""A config edit the real daemon refuses alerts once per problem, naming its line and order."""

from __future__ import annotations

import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

from monitor.testing import (
    DaemonProcess,
    JsonReceiver,
    LoopbackShop,
    NotifySocket,
    order_table,
    write_config,
)

Start = Callable[..., DaemonProcess]  # the daemon_process fixture


def line_of(text: str, fragment: str) -> int:
    """The line (from 1) of the only line of ``text`` holding ``fragment``."""
    (found,) = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    return found


def test_the_same_broken_config_alerts_once_and_a_new_problem_again(
    daemon_process: Start, shop: LoopbackShop, receiver: JsonReceiver, tmp_path: Path
) -> None:
    url = shop.add("/phone", "4999.00")  # the price paid: no drop to alert
    path = tmp_path / "config.toml"
    orders = [order_table(url, "PHONE-1"), order_table(url, "PHONE-2", sku="SKU-1")]
    write_config(path, orders=orders, urls=[receiver.url])
    good = path.read_text()
    notify = NotifySocket()
    try:
        daemon = daemon_process(path, {"NOTIFY_SOCKET": notify.path})
        ready = notify.wait_for("READY")

        def reloaded(text: str) -> None:
            """Save ``text`` and have the daemon read it (SIGHUP), as a save is noticed."""
            nonlocal ready
            path.write_text(text)
            daemon.process.send_signal(signal.SIGHUP)
            ready = notify.wait_for("READY", after=notify.wait_for("RELOADING", after=ready + 1))

        broken = good.replace('paid = "4999.00"', 'paid = "4,999"', 1)
        reloaded(broken)
        (first,) = receiver.wait_for(1)
        assert "was refused" in first["title"]
        paid_line = line_of(broken, '"4,999"')
        assert (
            f'config.toml:{paid_line}: orders[0] (id "PHONE-1").paid: expected a number like '
            "4999.00" in first["message"]
        )

        reloaded(broken)  # saved again as it was
        reloaded("# still broken\n" + broken)  # saved with another line above: same problem
        worse = broken.replace('sku = "SKU-1"', "sku = 5")
        reloaded("# still broken\n" + worse)  # a new problem
        second = receiver.wait_for(2)[1]
        assert (
            f'config.toml:{line_of(worse, "sku = 5") + 1}: orders[1] (id "PHONE-2").sku'
            in (second["message"])
        )
        assert f"config.toml:{paid_line + 1}: orders[0]" in second["message"]  # both listed

        reloaded(good)  # applied: what is refused after it is told again
        reloaded(broken)
        third = receiver.wait_for(3)[2]
        assert f'config.toml:{paid_line}: orders[0] (id "PHONE-1").paid' in third["message"]
        assert daemon.stop() == 0
    finally:
        notify.close()
    assert "the config's problems were alerted already" in daemon.log
    assert receiver.requests == 3
    with sqlite3.connect(tmp_path / "state.db") as conn:
        kinds = conn.execute("SELECT kind, count(*) FROM alerts GROUP BY kind").fetchall()
    assert kinds == [("config_rejected", 3)]
