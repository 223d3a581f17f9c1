"""``price-monitor demo``: a local shop, a real daemon, a price drop and the alerts it sends.

Everything runs on this machine: a small shop on 127.0.0.1 serving two product pages, a
config and a database in a temporary folder, and the real ``Daemon`` polling the shop every
two seconds. After the first round of checks the shop lowers both prices; the daemon finds
the drops and sends the alerts to ``console://``, which prints them.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from monitor.check import CheckResult
from monitor.clock import utcnow
from monitor.config import Config, load_config
from monitor.daemon import Daemon
from monitor.delivery import DeliveryReport
from monitor.errors import MonitorError
from monitor.history import History
from monitor.reports import render_status, status_rows
from monitor.testing.shop import LoopbackShop, ShopProduct

DEMO_TIMEOUT = 30.0
CONFIG_MARK = "# Written by `price-monitor demo`."
DATABASE = "price-monitor.db"
# Beside the database: SQLite's journal files, the running daemon's pid.
DATABASE_FILES = frozenset(
    {DATABASE, *(DATABASE + end for end in ("-wal", "-shm", "-journal", ".daemon"))}
)
# What the evidence folder holds: pages and charts, named by product, time and digest.
EVIDENCE_NAME = re.compile(r"^product-\d+-\d{8}T\d{6}Z-[0-9a-f]{12}\.[a-z.]+$")


PHONE = ShopProduct(
    path="/phone/xiaomi-14-pro",
    title="Xiaomi 14 Pro 12GB+256GB 黑色",
    price=Decimal("4999.00"),
    currency="CNY",
    sku="14PRO-12-256-BLK",
    related=(("Xiaomi 14 Pro 保护壳", Decimal("79.00")), ("67W 充电器", Decimal("99.00"))),
)
HEADPHONES = ShopProduct(
    path="/audio/anc-headphones",
    title="Quiet Comfort ANC Headphones",
    price=Decimal("349.00"),
    currency="USD",
    sku="QC-ANC-BLK",
    related=(("Carrying case", Decimal("29.99")), ("Ear cushions", Decimal("24.00"))),
)
DROPS = {PHONE.path: Decimal("4599.00"), HEADPHONES.path: Decimal("299.00")}


def demo_config(base_url: str, database: Path, today: date) -> str:
    """Return the demo's config.toml: two shops, two orders, alerts to console://."""
    return f"""\
{CONFIG_MARK}
[monitor]
database = "{database.as_posix()}"
# timezone is the machine's unless you name one, e.g. timezone = "Asia/Shanghai"
interval = "2s"
host_delay = "0s"
confirm = "1s"

[notify]
urls = ["console://"]

[shops.demo-mall]
name = "演示商城"
currency = "CNY"
language = "zh"
timezone = "Asia/Shanghai"
window_days = 15
window_starts = "delivery"
min_interval = "1s"
claim = "App「我的订单」申请价保；分期订单请联系在线客服"
refund_path = "差价按原支付路径退回"

[shops.demo-store]
name = "Demo Store"
currency = "USD"
language = "en"
timezone = "America/New_York"
window_days = 14
min_interval = "1s"
claim = "Chat with customer service from your order page"
refund_path = "Refunded to the original payment method"

[[orders]]
id = "5231120712345678"
shop = "demo-mall"
url = "{base_url}{PHONE.path}"
sku = "{PHONE.sku}"
variant = "12GB+256GB 黑色"
title = "Xiaomi 14 Pro"
paid = 4999.00
quantity = 1
ordered = {today - timedelta(days=3)}
delivered = {today - timedelta(days=1)}
payment = "installments"
installments = 12
installment_provider = "花呗"

[[orders]]
id = "BBY01-806512345"
shop = "demo-store"
url = "{base_url}{HEADPHONES.path}"
title = "Quiet Comfort ANC Headphones"
paid = "349.00"
quantity = 2
ordered = {today - timedelta(days=2)}
payment = "card"
"""


def run_demo(workdir: Path, *, echo: Callable[[str], None], timeout: float = DEMO_TIMEOUT) -> int:
    """Run the whole demo in ``workdir``; return the number of alerts delivered.

    Raise MonitorError when the alerts do not arrive within ``timeout`` seconds.
    """
    started = time.monotonic()
    workdir = workdir.resolve()  # the config names the database by its full path
    with LoopbackShop() as shop:
        for product in (PHONE, HEADPHONES):
            shop.add(
                product.path,
                product.price,
                currency=product.currency,
                title=product.title,
                sku=product.sku,
                related=product.related,
            )
        config_path = workdir / "config.toml"
        database = workdir / DATABASE
        config_path.write_text(demo_config(shop.base_url, database, utcnow().date()), "utf-8")
        config = load_config(config_path)
        echo(f"demo shop   {shop.base_url} (2 products)")
        echo(f"config      {config_path}")
        echo(f"database    {database}\n")
        echo("[1/3] The daemon checks both products: prices equal what was paid, no alert.")
        sent = asyncio.run(_drive(config, shop, echo=echo, timeout=timeout))
        history = History.open(config.database)
        try:
            ids = history.sync_orders(config.orders, now=utcnow())
            rows = status_rows(config, history, ids, now=utcnow())
        finally:
            history.close()
        echo("\n`price-monitor status` now shows:\n")
        echo(render_status(rows, tz=config.timezone))
    echo(f"\nDone in {time.monotonic() - started:.1f} s: {sent} alerts sent.")
    return sent


async def _drive(
    config: Config, shop: LoopbackShop, *, echo: Callable[[str], None], timeout: float
) -> int:
    first_round: set[int] = set()
    first_round_done = asyncio.Event()
    all_sent = asyncio.Event()
    sent = 0
    product_count = len({o.product_key for o in config.orders})

    def on_check(result: CheckResult) -> None:
        first_round.add(result.product.id)
        if len(first_round) == product_count:
            first_round_done.set()

    def on_delivery(report: DeliveryReport) -> None:
        nonlocal sent
        sent += report.sent
        if sent >= len(DROPS):
            all_sent.set()

    async with Daemon(
        config,
        first_checks_within=timedelta(milliseconds=300),
        on_check=on_check,
        on_delivery=on_delivery,
    ) as daemon:
        runner = asyncio.create_task(daemon.run())
        try:
            async with asyncio.timeout(timeout):
                await _unless_finished(runner, first_round_done)
                echo(
                    "[2/3] The shop lowers both prices: ¥4,999.00 → ¥4,599.00 and $349.00 → $299.00."
                )
                for path, price in DROPS.items():
                    shop.set_price(path, price)
                echo("[3/3] The daemon finds the drops and sends the alerts (to console://):")
                await _unless_finished(runner, all_sent)
        except TimeoutError:
            raise MonitorError(f"the demo's alerts did not arrive within {timeout:.0f} s") from None
        finally:
            daemon.stop()
            await runner
    return sent


async def _unless_finished(runner: asyncio.Task[None], event: asyncio.Event) -> None:
    """Wait for ``event``; if the daemon stops first, raise what stopped it."""
    waiter = asyncio.create_task(event.wait())
    done, _ = await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if runner in done:
        waiter.cancel()
        runner.result()  # re-raises the daemon's error, if it had one
        raise MonitorError("the daemon stopped before the demo was over")


class NotTheDemos(MonitorError):
    """The demo's folder holds what the demo did not make: it is left as it is."""


def clear_previous_run(workdir: Path) -> list[Path]:
    """Delete what an earlier demo left in ``workdir`` (its config, database and evidence),
    so that the demo starts afresh; return what was deleted (nothing for a new folder).

    Raise NotTheDemos, deleting nothing, when the folder holds anything else, or when a
    daemon still uses the demo's database.
    """
    try:
        entries = sorted(workdir.iterdir())
    except FileNotFoundError:
        return []
    if not entries:
        return []
    config = workdir / "config.toml"
    if not _written_by_the_demo(config):
        raise NotTheDemos(
            f"{workdir} is not empty and holds no config.toml written by the demo: give the "
            "demo an empty folder, or its own from an earlier run"
        )
    evidence = workdir / "evidence"
    theirs = [
        e.name for e in entries if e != config and e != evidence and e.name not in DATABASE_FILES
    ]
    if evidence.is_symlink() or (evidence.exists() and not evidence.is_dir()):
        theirs.append(evidence.name)
    kept = sorted(evidence.iterdir()) if evidence.is_dir() and not evidence.is_symlink() else []
    theirs += [
        f"evidence/{k.name}" for k in kept if not (EVIDENCE_NAME.match(k.name) and k.is_file())
    ]
    if theirs:
        raise NotTheDemos(
            f"{workdir} holds files the demo did not write ({', '.join(theirs[:5])}"
            f"{', …' if len(theirs) > 5 else ''}): nothing was deleted; give the demo an "
            "empty folder"
        )
    pid = _daemon_pid(workdir / (DATABASE + ".daemon"))
    if pid is not None:
        raise NotTheDemos(
            f"a price-monitor daemon (pid {pid}) uses the demo's database in {workdir}: "
            "stop it first"
        )
    deleted = [*kept, *(e for e in entries if e.name in DATABASE_FILES), config]
    for path in deleted:
        path.unlink(missing_ok=True)
    if evidence.is_dir():
        evidence.rmdir()
    return deleted


def _written_by_the_demo(config: Path) -> bool:
    try:
        with config.open(encoding="utf-8", errors="replace") as f:
            return f.readline().rstrip("\n") == CONFIG_MARK
    except OSError:
        return False


def _daemon_pid(pidfile: Path) -> int | None:
    """The pid a running daemon wrote beside the database, if that process still runs."""
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
    except PermissionError:
        return pid  # it runs, as another user
    except (OSError, ValueError):
        return None  # no file, no number, or no such process
    return pid
