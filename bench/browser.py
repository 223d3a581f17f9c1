"""The browser fetcher's speed: pages/s, CPU per page and peak memory, rendering loopback pages.

    python bench/browser.py [--pages 100]

Renders ``--pages`` generated 150 KB product pages (the HTTP benchmarks' pages, with an
inline script, and the price also drawn by a script) in the system's Chromium, two at a
time as a check does, and reads each rendered page's price. Needs the browser extra
(``pip install '.[browser]'``) and Chromium. Each page waits for the price's element, as
an order with a selector does. Peak memory is this process's RSS plus the browser's
processes' PSS (each shared page counted once), sampled every 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import product_page  # noqa: E402
from monitor.browser import browser_memory  # noqa: E402
from monitor.config import MonitorSettings  # noqa: E402
from monitor.extract import Request, extract  # noqa: E402
from monitor.fetch import Fetcher  # noqa: E402
from monitor.models import FetchMode, Source  # noqa: E402
from monitor.testing import LoopbackShop  # noqa: E402

DRAWN = (
    '<div id="drawn"></div><script>document.getElementById("drawn").textContent ='
    ' "¥" + (4999 - 100).toFixed(2);</script></body>'
)


def own_rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize()


async def run(pages: int) -> None:
    shop = LoopbackShop()
    urls = []
    for n in range(pages):
        body = product_page(n, Decimal("4999.00")).replace("</body>", DRAWN, 1)
        urls.append(shop.put(f"/p/{n}.html", body.encode("utf-8")))
    peak = 0
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, own_rss() + browser_memory())
            await asyncio.sleep(0.05)

    read = 0
    settings = MonitorSettings(host_delay="0s", concurrency=2)
    async with Fetcher(settings, per_host=2) as fetcher:
        await fetcher.fetch_source(Source(urls[0], fetch=FetchMode.BROWSER))  # start it
        sampler = asyncio.create_task(sample())
        cpu, wall = time.process_time(), time.monotonic()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)

        async def one(url: str) -> None:
            nonlocal read
            source = Source(url, fetch=FetchMode.BROWSER, wait_for="#drawn")  # as with a selector
            page = await fetcher.fetch_source(source)
            found = extract(page.text, Request(currency="CNY", selector="#drawn"), url=url)
            read += found.price is not None and found.price.amount == Decimal("4899.00")

        await asyncio.gather(*(one(u) for u in urls))
        wall = time.monotonic() - wall
        cpu = time.process_time() - cpu
        done.set()
        await sampler
    shop.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the browser, reaped by now
    browser_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    print(f"{pages} pages of {len(body.encode()) / 1024:.0f} KB, 2 at a time: {read} read right")
    print(
        f"{pages / wall:.1f} pages/s, {1000 * wall / pages:.0f} ms wall/page; CPU per page: "
        f"{1000 * cpu / pages:.1f} ms here + {1000 * browser_cpu / pages:.1f} ms in the browser"
        " (its start included)"
    )
    print(f"peak RSS, this process and the browser's: {peak / 2**20:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100)
    asyncio.run(run(parser.parse_args().pages))


if __name__ == "__main__":
    main()
