"""Full check passes over N products, through the code path the daemon uses.

    python bench/cycle.py --products 10000

A loopback shop (bench/shop.py, its own process) serves N pages of about 150 KB. One order
per product paid the starting price. Pass 1 reads every product (no alert: nothing is
cheaper). Then 10 % of prices are lowered by 10 % and pass 2 must produce exactly one
correct alert per lowered product, delivered through Apprise to an in-process counting
scheme. Pass 3 reads the same prices again and must add no history row. Each pass runs
``check_all`` (fetch -> extract -> rules -> record with the outbox) then ``deliver_due``,
as ``price-monitor check`` does; the daemon runs the same ``check_product`` per job.

Printed per pass: wall time, checks/s, CPU ms per check (the CPU time of this process and
of the page readers, its worker processes, over the checks; the shop's CPU is not counted),
and at the end peak RSS (this process; the readers' RSS and PSS apart) and SQLite bytes per
product and per check. ``--read-in-process`` extracts in this process instead of the page
readers: run both, back to back, to see what the readers cost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apprise.decorators import notify as apprise_notify

from bench.shop import ShopProcess, base_price
from monitor.channels import Notifier
from monitor.check import check_all, watched_products
from monitor.clock import utcnow
from monitor.config import MonitorSettings, load_config
from monitor.delivery import deliver_due
from monitor.fetch import Fetcher
from monitor.history import History
from monitor.reader import PageReader

DELIVERED: list[str] = []


@apprise_notify(on="benchcount", name="Benchmark counter")  # type: ignore[untyped-decorator]
def _count(body: str, title: str, *args: Any, **kwargs: Any) -> bool:
    DELIVERED.append(title)
    return True


@dataclass
class PassFigures:
    name: str
    checks: int
    wall: float
    cpu: float
    alerts: int

    def line(self) -> str:
        return (
            f"{self.name:<28} {self.wall:7.1f} s wall  {self.checks / self.wall:7.0f} checks/s  "
            f"{self.cpu * 1000 / self.checks:5.2f} ms CPU/check  {self.alerts:5d} alerts"
        )


def write_config(path: Path, shop: ShopProcess, products: int, database: Path) -> None:
    today = datetime.now(UTC).date()
    lines = [
        "[monitor]",
        f'database = "{database}"',
        'timezone = "UTC"',
        'interval = "1h"',
        'host_delay = "0s"',
        'confirm = "0s"',
        "retries = 0",
        "",
        "[notify]",
        'urls = ["benchcount://"]',
        "",
        "[shops.bench]",
        'currency = "CNY"',
        'language = "zh"',
        "window_days = 30",
        'min_interval = "1s"',
        "",
    ]
    for index in range(products):
        lines += [
            "[[orders]]",
            f'id = "B{index:06d}"',
            'shop = "bench"',
            f'url = "{shop.url(index)}"',
            f'title = "Product {index}"',
            f'paid = "{base_price(index)}"',
            f"ordered = {today - timedelta(days=1)}",
            "",
        ]
    path.write_text("\n".join(lines), "utf-8")


def database_size(database: Path) -> int:
    return sum(p.stat().st_size for p in database.parent.glob(database.name + "*"))


def descendants(root: int, skip: int) -> list[int]:
    """The processes below ``root`` (from /proc), leaving out ``skip`` and those below it."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child != skip:
                found.append(child)
                todo.append(child)
    return found


def cpu_seconds(shop_pid: int) -> float:
    """This process's CPU time plus its descendants' (the page readers), not the shop's."""
    ticks = 0
    for pid in descendants(os.getpid(), shop_pid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return time.process_time() + ticks / os.sysconf("SC_CLK_TCK")


def readers_memory(shop_pid: int) -> tuple[float, float]:
    """The page readers' (and their fork server's) memory now, in MB: their resident set,
    and their proportional share of it (PSS: the pages they share counted once)."""
    rss = pss = 0
    for pid in descendants(os.getpid(), shop_pid):
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]
        except OSError:
            continue
        fields = {k: int(v.split()[0]) for k, v in (line.split(":") for line in rollup)}
        rss += fields.get("Rss", 0)
        pss += fields.get("Pss", 0)
    return rss / 1024, pss / 1024


async def one_pass(
    name: str,
    products: list[Any],
    history: History,
    config: Any,
    concurrency: int,
    reader: PageReader,
    shop_pid: int,
) -> PassFigures:
    DELIVERED.clear()
    settings = MonitorSettings(concurrency=concurrency, host_delay="0s", retries=0)
    wall, cpu = time.perf_counter(), cpu_seconds(shop_pid)
    async with Fetcher(settings, per_host=concurrency) as fetcher:
        checked = await check_all(
            products,
            config=config,
            fetcher=fetcher,
            reader=reader,
            history=history,
            clock=utcnow,
            concurrency=concurrency,
        )
    results = checked.results
    await deliver_due(history.outbox, Notifier(config.notify.urls), clock=utcnow)
    figures = PassFigures(
        name,
        len(results),
        time.perf_counter() - wall,
        cpu_seconds(shop_pid) - cpu,
        len(DELIVERED),
    )
    failed = [r for r in results if r.observation.status.value != "price"]
    if failed:
        raise SystemExit(
            f"{name}: {len(failed)} products not read, e.g. {failed[0].observation.reason}"
        )
    return figures


class InProcessReader:
    """``--read-in-process``: extraction in this process, as before the page readers, to
    measure what they cost (the same passes, the same pages)."""

    async def read(self, text: str, request: Any, **where: Any) -> Any:
        from monitor.extract import extract

        return extract(text, request, **where)

    def close(self) -> None:
        pass


async def run(
    products_count: int, concurrency: int, workdir: Path, *, in_process: bool = False
) -> None:
    with ShopProcess(products_count) as shop:
        config_path = workdir / "config.toml"
        database = workdir / "bench.db"
        write_config(config_path, shop, products_count, database)
        started = time.perf_counter()
        config = load_config(config_path)
        history = History.open(database)
        products = watched_products(config, history, now=utcnow())
        print(
            f"{products_count} products, config loaded and synced in {time.perf_counter() - started:.1f} s"
        )

        reader: Any = InProcessReader() if in_process else PageReader()
        shop_pid = shop.pid
        passes = (history, config, concurrency, reader, shop_pid)
        first = await one_pass("pass 1 (prices as paid)", products, *passes)
        print(first.line())
        rows_before = history.db.execute("SELECT count(*) FROM prices").fetchone()[0]

        lowered = {
            i: (base_price(i) * Decimal("0.9")).quantize(Decimal("0.01"))
            for i in range(0, products_count, 10)
        }
        shop.set_prices(lowered)
        second = await one_pass("pass 2 (10 % lowered)", products, *passes)
        print(second.line())
        verify_alerts(history, lowered)

        third = await one_pass("pass 3 (unchanged)", products, *passes)
        print(third.line())
        readers = readers_memory(shop_pid)
        reader.close()
        rows_after = history.db.execute("SELECT count(*) FROM prices").fetchone()[0]
        history.close()

    if second.alerts != len(lowered) or first.alerts or third.alerts:
        raise SystemExit(
            f"wrong alert counts: {first.alerts}, {second.alerts}, {third.alerts}; expected 0, {len(lowered)}, 0"
        )
    if rows_after != rows_before + len(lowered):
        raise SystemExit(f"history rows {rows_before} -> {rows_after}: expected +{len(lowered)}")
    checks = first.checks + second.checks + third.checks
    size = database_size(database)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu = (first.cpu + second.cpu + third.cpu) / checks * 1000
    print(
        f"alerts: pass 2 sent exactly {second.alerts} (one per lowered product, amounts checked); "
        f"pass 3 added {rows_after - rows_before - len(lowered)} history rows"
    )
    print(f"CPU per check (all passes): {cpu:.2f} ms")
    print(
        f"peak RSS: {peak:.0f} MB (the page readers beside it, at the end: "
        f"{readers[0]:.0f} MB RSS, {readers[1]:.0f} MB PSS)"
    )
    print(
        f"SQLite: {size / 1e6:.1f} MB, {size / products_count:.0f} bytes/product, {size / checks:.0f} bytes/check"
    )


def verify_alerts(history: History, lowered: dict[int, Decimal]) -> None:
    alerts = history.outbox.entries()
    by_order = {a.message.order_id: a for a in alerts if a.message.kind == "drop"}
    expected = {f"B{i:06d}": price for i, price in lowered.items()}
    if set(by_order) != set(expected):
        raise SystemExit(f"alerts for {len(by_order)} orders, expected {len(expected)}")
    for order_id, price in expected.items():
        alert = by_order[order_id]
        index = int(order_id[1:])
        drop = base_price(index) - price
        message = alert.message
        if (
            f"¥{price:,.2f}" not in message.body
            or f"¥{drop:,.2f}" not in message.title
            or alert.status != "sent"
        ):
            raise SystemExit(f"{order_id}: wrong alert {message.title!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=4, help="checks in flight at once")
    parser.add_argument("--keep", type=Path, help="keep the config and database in this folder")
    parser.add_argument(
        "--read-in-process",
        action="store_true",
        help="extract in this process, not in page readers: what the readers cost",
    )
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        asyncio.run(
            run(args.products, args.concurrency, args.keep, in_process=args.read_in_process)
        )
    else:
        with tempfile.TemporaryDirectory(prefix="price-monitor-bench-") as tmp:
            asyncio.run(
                run(args.products, args.concurrency, Path(tmp), in_process=args.read_in_process)
            )


if __name__ == "__main__":
    main()
