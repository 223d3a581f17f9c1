"""Hostile pages never stop the others: a page that takes minutes to parse, a regex that
backtracks, a page with 40,000 prices, a reader that dies, a database another process holds.

Pages are read in worker processes with a time limit (``monitor.reader``); the daemon's
event loop, with the watchdog, the outbox and SIGTERM, never waits for a page or for SQLite.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from monitor.extract import Request
from monitor.fork_server import REGION
from monitor.models import Extraction, Status
from monitor.reader import PageReader
from monitor.shops import catalogue
from monitor.testing import (
    DaemonProcess,
    JsonReceiver,
    LoopbackShop,
    NotifySocket,
    order_table,
    run_cli,
    write_config,
)

GENERIC = catalogue()["generic"]
USD = Request(currency="USD")
# The HTML parser's time grows with the square of the nesting depth: 200,000 levels
# (2.2 MB) took 98 s to parse when it ran in the event loop.
DEEP = ("<html><body>" + "<div>" * 200_000 + "</div>" * 200_000 + "</body></html>").encode()
# A shop regex that looks reasonable, against a 30-digit number: it backtracks for minutes.
BACKTRACKING = r'"price":\s*"?((?:\d+,?)+(?:\.\d\d)?)"?\s*[,}]'
BACKTRACKED = b'<html><body><p>"price": "' + b"1" * 30 + b"x</p></body></html>"


def watchdog_pings(notify: NotifySocket, after: float) -> list[float]:
    return [
        when
        for when, message in zip(notify.arrivals, notify.messages, strict=False)
        if message.get("WATCHDOG") == "1" and when > after
    ]


def test_a_page_that_would_take_minutes_is_given_up_and_the_daemon_goes_on(
    tmp_path: Path,
    shop: LoopbackShop,
    receiver: JsonReceiver,
    daemon_process: Callable[..., DaemonProcess],
) -> None:
    deep = shop.put("/deep", DEEP)
    phone = shop.add("/phone", "4599.00")  # already below what was paid: a drop
    config = write_config(
        tmp_path / "config.toml",
        orders=[order_table(deep, "DEEP"), order_table(phone, "PHONE")],
        urls=[receiver.url],
        monitor={"read_limit": "3s", "failing_after": 1},
    )
    notify = NotifySocket()
    try:
        daemon = daemon_process(config, {"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000"})
        shop.wait_for_requests("/deep", 1)
        reading_since = shop.request_times("/deep")[0]
        # While the deep page is read, the phone is checked again, its drop goes out, and
        # the watchdog keeps being told that the service is alive.
        shop.wait_for_requests("/phone", 3)
        drop = receiver.wait_for(1)[0]
        assert "PHONE" in drop["title"] and "¥400.00" in drop["title"]
        failing = receiver.wait_for(2)[1]
        assert "DEEP" in failing["title"]
        assert "the page took too long to read (over 3 s)" in failing["message"]
        given_up = reading_since + 3
        assert [t for t in shop.request_times("/phone") if reading_since < t < given_up]
        assert len([t for t in watchdog_pings(notify, reading_since) if t < given_up]) >= 3
        assert daemon.stop() == 0
    finally:
        notify.close()
    assert "extraction failed" not in daemon.log and "check failed" not in daemon.log


def test_sigterm_does_not_wait_for_a_page_being_read(
    tmp_path: Path, shop: LoopbackShop, daemon_process: Callable[..., DaemonProcess]
) -> None:
    deep = shop.put("/deep", DEEP)
    config = write_config(
        tmp_path / "config.toml",
        orders=[order_table(deep, "DEEP")],
        urls=[],
        monitor={"read_limit": "5m"},
    )
    daemon = daemon_process(config)
    shop.wait_for_requests("/deep", 1)
    started = time.monotonic()
    assert daemon.stop() == 0
    # The read is abandoned at once: the daemon neither waits out the page (minutes) nor
    # the 10 s it gives a check in flight to finish.
    assert time.monotonic() - started < 5
    assert "stopped" in daemon.log
    # Quietly: an abandoned read is no failed job, and the reader's server just exits.
    assert "Traceback" not in daemon.log and "raised an exception" not in daemon.log


def test_a_backtracking_regex_is_cut_off_and_the_other_products_are_read(
    tmp_path: Path, shop: LoopbackShop
) -> None:
    page = shop.put("/regex", BACKTRACKED)
    phone = shop.add("/phone", "4999.00")
    hostile_shop = f"""
[shops.regexshop]
name = "Regex Shop"
currency = "CNY"
language = "zh"
window_days = 15
window_starts = "order"
min_interval = "1s"
regex = '{BACKTRACKING}'
"""
    from monitor.testing.orders import TEST_SHOPS

    config = write_config(
        tmp_path / "config.toml",
        orders=[order_table(page, "REGEX", shop="regexshop"), order_table(phone, "PHONE")],
        urls=[],
        monitor={"read_limit": "1s"},
        extra=TEST_SHOPS + hostile_shop,
    )
    result = run_cli(config, "check")
    assert "REGEX: unknown: the page took too long to read (over 1 s)" in result.output
    assert "PHONE: ¥4,999.00 (json-ld)" in result.output


def test_probe_reads_a_page_within_the_configs_time_limit(
    tmp_path: Path, shop: LoopbackShop
) -> None:
    # probe reads the way a check does: the deep page is given up after read_limit, and the
    # next target is still explained (it would otherwise have waited 98 s for the first).
    deep = shop.put("/deep", DEEP)
    phone = shop.add("/phone", "4999.00")
    config = write_config(
        tmp_path / "config.toml", orders=[], urls=[], monitor={"read_limit": "1s"}
    )
    result = run_cli(config, "probe", "--json", deep, phone, code=1)  # 1: one was not read
    first, second = (json.loads(line) for line in result.stdout.splitlines()[-2:])
    assert (first["status"], first["reason"]) == (
        "unknown",
        "the page took too long to read (over 1 s)",
    )
    assert (second["status"], second["amount"]) == ("price", "4999.00")


def many(tag: str, count: int = 40_000) -> str:
    return tag * count


@pytest.mark.parametrize(
    "page",
    [
        # 40,000 microdata prices in one Product scope (54 s when every price searched the
        # scope for its currency), 40,000 RDFa siblings (43 s), 40,000 OpenGraph tags (47 s).
        '<html><body><div itemscope itemtype="https://schema.org/Product"><h1>X</h1>'
        + many('<span itemprop="price" content="10.00">10</span>')
        + '<meta itemprop="priceCurrency" content="USD"></div></body></html>',
        '<html><body><div vocab="https://schema.org/" typeof="Product">'
        + many('<span property="price" content="10.00">10</span>')
        + '<span property="priceCurrency" content="USD">USD</span></div></body></html>',
        "<html><head>"
        + many('<meta property="product:price:amount" content="10.00">')
        + '<meta property="product:price:currency" content="USD"></head><body></body></html>',
    ],
    ids=["microdata", "rdfa", "opengraph"],
)
def test_a_page_with_forty_thousand_prices_is_read_in_linear_time(page: str) -> None:
    async def read() -> object:
        async with PageReader(time_limit=timedelta(seconds=5)) as reader:
            return await reader.read(page, USD, shop=GENERIC)

    extraction = asyncio.run(read())
    assert getattr(extraction, "status", None) is Status.PRICE, extraction
    assert str(getattr(extraction, "price", "")) == "Money(amount=Decimal('10.00'), currency='USD')"


def reader_workers() -> list[int]:
    """The page-reader workers of this process: the children of its fork server."""
    children: dict[int, list[int]] = {}
    commands: dict[int, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        pid = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(pid)
        commands[pid] = command
    servers = [p for p in children.get(os.getpid(), []) if "monitor.fork_server" in commands[p]]
    return [worker for server in servers for worker in children.get(server, [])]


def cpu_ticks(pid: int) -> int:
    """The CPU time process ``pid`` has used, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_a_reader_that_dies_is_one_unknown_and_is_replaced() -> None:
    small = (
        '<html><head><meta property="product:price:amount" content="9.50">'
        '<meta property="product:price:currency" content="USD"></head></html>'
    )

    async def scenario() -> tuple[object, object]:
        before = set(reader_workers())  # an earlier test's, that may still be exiting
        async with PageReader(workers=1, time_limit=timedelta(minutes=5)) as reader:
            await reader.read(small, USD, shop=GENERIC)  # its one worker is started now
            (worker,) = set(reader_workers()) - before
            # Under a unit's MemoryMax=, the kernel kills a page's reader, not the daemon.
            assert Path(f"/proc/{worker}/oom_score_adj").read_text().strip() == "1000"
            idle = cpu_ticks(worker)
            reading = asyncio.create_task(reader.read(DEEP.decode(), USD, shop=GENERIC))
            while cpu_ticks(worker) == idle:  # until it is parsing the page
                await asyncio.sleep(0.01)
            os.kill(worker, signal.SIGKILL)  # mid-read, as the kernel's OOM killer would
            died = await reading
            return died, await reader.read(small, USD, shop=GENERIC)

    died, after = asyncio.run(scenario())
    assert getattr(died, "status", None) is Status.UNKNOWN
    assert getattr(died, "reason", "").startswith("reading the page failed: its reader")
    assert getattr(after, "status", None) is Status.PRICE  # a new worker took its place


def test_pages_of_every_size_reach_their_reader_whole_and_in_turn() -> None:
    """A page's text goes through the memory the daemon shares with its reader; one longer
    than that goes through the socket. Either way the reader gets that page's text, all of
    it and nothing more (not what a longer page before it left in the shared memory)."""
    price = (
        '<meta property="product:price:amount" content="9.50">'
        '<meta property="product:price:currency" content="USD">'
    )
    texts = [
        f"<html><head>{price}</head></html>",
        "价" * (REGION // 3 + 10),  # three bytes each in UTF-8: too long for the shared memory
        "short",
        "x" * (REGION - 1),  # fits, just
        "",
        "and short again: ¥",
    ]

    async def scenario() -> tuple[object, list[object]]:
        async with PageReader(workers=1) as reader:
            lengths = [await reader.run(len, text) for text in texts]
            return await reader.read(texts[0], USD, shop=GENERIC), lengths

    extraction, lengths = asyncio.run(scenario())
    assert lengths == [len(text) for text in texts]
    assert isinstance(extraction, Extraction)
    assert extraction.price is not None and extraction.price.amount == Decimal("9.50")


def test_a_database_another_process_holds_stalls_neither_fetching_nor_the_watchdog(
    tmp_path: Path,
    shop: LoopbackShop,
    daemon_process: Callable[..., DaemonProcess],
) -> None:
    paths = [f"/p{i}" for i in range(4)]
    orders = [order_table(shop.add(path, "4999.00"), f"P{i}") for i, path in enumerate(paths)]
    config = write_config(tmp_path / "config.toml", orders=orders, urls=[])
    run_cli(config, "check")  # the database and its orders exist: starting writes nothing
    notify = NotifySocket()
    try:
        # A command beside the daemon holds the write lock from before the daemon starts.
        holder = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        locked_at = time.monotonic()
        try:
            daemon = daemon_process(
                config, {"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000"}
            )
            # The daemon's writes wait in its database thread; its loop goes on: every
            # product is fetched again, and the watchdog is told it is alive.
            for path in paths:
                shop.wait_for_requests(path, 2)
            notify.wait_for("WATCHDOG", after=len(notify.messages))
            notify.wait_for("WATCHDOG", after=len(notify.messages))
            assert len(watchdog_pings(notify, locked_at)) >= 2
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        # Once the lock is free the waiting writes go through, and checking goes on.
        for path in paths:
            shop.wait_for_requests(path, 3)
        assert daemon.stop() == 0
    finally:
        notify.close()
    assert "check failed" not in daemon.log and "locked" not in daemon.log


def test_a_reader_whose_daemon_is_killed_mid_read_does_not_read_on() -> None:
    """SIGKILL of the daemon (the OOM killer, kill -9) ends its fork server, and the kernel
    then kills the worker: it must not parse a page built to take minutes for nobody."""
    script = (
        "import asyncio, os, sys\n"
        "from datetime import timedelta\n"
        "from monitor.extract import Request\n"
        "from monitor.reader import PageReader\n"
        "from monitor.shops import catalogue\n"
        "async def main():\n"
        "    async with PageReader(workers=1, time_limit=timedelta(minutes=10)) as reader:\n"
        "        await reader.read('<p>warm</p>', Request(), shop=catalogue()['generic'])\n"
        "        print('ready', flush=True)\n"
        "        await reader.read(sys.stdin.read(), Request(), shop=catalogue()['generic'])\n"
        "asyncio.run(main())\n"
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert owner.stdout is not None and owner.stdin is not None
        assert owner.stdout.readline() == b"ready\n"
        (server,) = [p for p in _children(owner.pid) if "monitor.fork_server" in _command(p)]
        (worker,) = _children(server)
        idle = cpu_ticks(worker)
        owner.stdin.write(DEEP)
        owner.stdin.close()
        while cpu_ticks(worker) == idle:  # until it is parsing the page
            time.sleep(0.01)
        ended = os.pidfd_open(worker)
        owner.kill()
        owner.wait()
        # The server waits up to 5 s for its workers, then ends; the worker goes with it.
        assert select.select([ended], [], [], 20)[0] == [ended], "the worker read on"
        os.close(ended)
    finally:
        owner.kill()
        owner.wait()


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _command(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
