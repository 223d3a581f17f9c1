"""``price-monitor demo``: a local shop, a real daemon, a price drop and the alerts it sends.

Everything runs on this machine: a small shop on 127.0.0.1 serving two product pages, a
config and a database in a temporary folder, and the real ``Daemon`` polling the shop every
two seconds. After the first round of checks the shop lowers both prices; the daemon finds
the drops and sends the alerts to ``console://``, which prints them.
"""

from __future__ import annotations

import asyncio
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
# Written by `price-monitor demo`.
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
        database = workdir / "price-monitor.db"
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
