"""The state database alone: recording observations, and how big it gets.

    python bench/db.py [--products 10000] [--observations 1000000] [--changed 0.01]

Records observations round-robin over the products through ``History.record`` (one
transaction each, as a check does), with ``--changed`` of them carrying a new price, and
prints records/s, CPU per record, rows and file size. Then it plays 30 days of hourly
polling of the same products with 1 % of prices changing a day and prints the size: an
unchanged price only bumps its run's ``last_seen`` and ``checks``, so the database grows
with price changes, not with checks.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.history import History
from monitor.models import Extraction, Money, Observation, Status

START = datetime(2026, 11, 1, tzinfo=UTC)


def observation(price: Decimal, at: datetime) -> Observation:
    return Observation(
        "https://shop.example/p", at, Extraction(Status.PRICE, price=Money(price, "CNY"))
    )


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def record_many(
    path: Path, products: int, observations: int, changed: float, seed: int = 1
) -> None:
    rng = random.Random(seed)
    history = History.open(path)
    ids = [
        history.product_id(f"https://shop.example/p/{i}", None, now=START) for i in range(products)
    ]
    prices = {pid: Decimal(1000 + i) for i, pid in enumerate(ids)}
    wall, cpu = time.perf_counter(), time.process_time()
    for n in range(observations):
        pid = ids[n % products]
        if rng.random() < changed:
            prices[pid] -= Decimal(1)
        history.record(pid, observation(prices[pid], START + timedelta(seconds=n)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rows = history.db.execute("SELECT count(*) FROM prices").fetchone()[0]
    history.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    history.close()
    print(
        f"{observations:,} observations on {products:,} products, {changed:.0%} changed: "
        f"{observations / wall:,.0f} records/s, {cpu * 1e6 / observations:.0f} µs CPU/record, "
        f"{rows:,} price rows, {size(path) / 1e6:.1f} MB ({size(path) / observations:.1f} bytes/observation)"
    )


def thirty_days(path: Path, products: int, seed: int = 2) -> None:
    """Hourly polls for 30 days, 1 % of prices changing a day; print the size at the end.

    The 23 other polls of a day read the same prices: they are in-place updates and add
    nothing, which the first day shows by measuring all 24 polls.
    """
    rng = random.Random(seed)
    history = History.open(path)
    ids = [
        history.product_id(f"https://shop.example/p/{i}", None, now=START) for i in range(products)
    ]
    prices = {pid: Decimal(1000 + i) for i, pid in enumerate(ids)}
    day_sizes = []
    for day in range(30):
        for pid in rng.sample(ids, products // 100):
            prices[pid] -= Decimal(1)
        polls = 24 if day == 0 else 1
        for hour in range(polls):
            at = START + timedelta(days=day, hours=hour)
            for pid in ids:
                history.record(pid, observation(prices[pid], at))
            if day == 0:
                history.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                day_sizes.append(size(path))
    rows = history.db.execute("SELECT count(*) FROM prices").fetchone()[0]
    history.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    history.close()
    print(
        f"30 days of hourly polls of {products:,} products, 1 % changing a day: {rows:,} price rows, "
        f"{size(path) / 1e6:.1f} MB (day 1: {day_sizes[0] / 1e6:.2f} MB after the first poll, "
        f"{day_sizes[-1] / 1e6:.2f} MB after all 24)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--changed", type=float, default=0.01)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="price-monitor-db-") as tmp:
        record_many(Path(tmp) / "many.db", args.products, args.observations, args.changed)
        thirty_days(Path(tmp) / "month.db", args.products)


if __name__ == "__main__":
    main()
