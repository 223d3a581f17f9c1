"""Soak: the real daemon polling 1,000 products at a short interval, watched from outside.

    python bench/soak.py [--products 1000] [--interval 20s] [--minutes 10]

Starts the loopback shop (bench/shop.py) and ``price-monitor run`` on a generated config,
lowers a few prices now and then so alerts flow too, and samples the daemon's resident
memory, open file descriptors and asyncio task count (from its debug log) once a minute.
Prints the samples and the growth from the first sample after warm-up to the last.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cycle import write_config
from bench.shop import ShopProcess, base_price


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else 0.0


def fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def tasks(log: Path) -> int | None:
    found = re.findall(r"(\d+) asyncio tasks", log.read_text(errors="replace"))
    return int(found[-1]) if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--interval", default="20s")
    parser.add_argument("--minutes", type=float, default=10)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="price-monitor-soak-") as tmp,
        ShopProcess(args.products) as shop,
    ):
        workdir = Path(tmp)
        config = workdir / "config.toml"
        write_config(config, shop, args.products, workdir / "soak.db")
        text = config.read_text().replace('interval = "1h"', f'interval = "{args.interval}"')
        config.write_text(
            text.replace('urls = ["benchcount://"]', 'urls = ["json://127.0.0.1:9/closed"]')
        )
        log = workdir / "daemon.log"
        with log.open("w") as out:
            daemon = subprocess.Popen(
                [sys.executable, "-m", "monitor", "-v", "-c", str(config), "run"],
                stdout=out,
                stderr=out,
            )
        samples: list[tuple[float, float, int, int | None]] = []
        started = time.monotonic()
        minute = 0
        try:
            while time.monotonic() - started < args.minutes * 60:
                time.sleep(
                    60 - (time.monotonic() - started) % 60
                )  # an outside observer: wall clock
                minute += 1
                if minute % 2 == 0:  # a few drops now and then, so alerts (to a closed port) flow
                    shop.set_prices(
                        {
                            i: base_price(i) - Decimal(minute)
                            for i in range(minute, args.products, 97)
                        }
                    )
                samples.append(
                    (time.monotonic() - started, rss_mb(daemon.pid), fds(daemon.pid), tasks(log))
                )
                print(
                    f"{samples[-1][0] / 60:5.1f} min  RSS {samples[-1][1]:6.1f} MB  fds {samples[-1][2]:3d}  tasks {samples[-1][3]}",
                    flush=True,
                )
        finally:
            daemon.terminate()
            daemon.wait(30)
        checks = len(re.findall(r"monitor\.check: B\d+: ", log.read_text(errors="replace")))
    first, last = samples[min(1, len(samples) - 1)], samples[-1]
    print(
        f"soak: {args.products} products every {args.interval} for {args.minutes:g} min, "
        f"{checks:,} checks; RSS {first[1]:.1f} -> {last[1]:.1f} MB "
        f"({(last[1] - first[1]) / first[1]:+.1%}), fds {first[2]} -> {last[2]}, tasks {first[3]} -> {last[3]}"
    )


if __name__ == "__main__":
    main()
