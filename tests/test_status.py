"""`price-monitor status`: its numbers, --json, the filters, colours on a terminal only, and
the evidence's disk use, on a real config and database after real checks."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.testing import (
    JsonReceiver,
    LoopbackShop,
    MailSink,
    order_table,
    run_cli,
    write_config,
)
from monitor.testing.orders import today
from tests.scenarios import phone

SHANGHAI = ZoneInfo("Asia/Shanghai")
PHONE = "5231120712345678"


def three_orders(tmp_path: Path, shop: LoopbackShop, *urls: str) -> Path:
    """The phone (testmall, CNY, open window); headphones bought at their price (teststore,
    USD, open); a lamp whose window closed long ago (teststore). Times in Shanghai's zone."""
    phone_url = shop.add("/phone", "4999.00")
    headphones = shop.add("/headphones", "349.00", currency="USD", sku="ANC")
    lamp = shop.add("/lamp", "20.00", currency="USD", sku="LAMP")
    orders = [
        phone(phone_url),
        order_table(headphones, "BBY-1", paid="349.00", shop="teststore", sku="ANC"),
        order_table(
            lamp,
            "BBY-2",
            paid="25.00",
            shop="teststore",
            sku="LAMP",
            ordered=today() - timedelta(60),
        ),
    ]
    return write_config(
        tmp_path / "config.toml",
        orders=orders,
        urls=list(urls),
        monitor={"timezone": "Asia/Shanghai"},
    )


def checks_at(shop: LoopbackShop, config: Path, *prices: str) -> list[tuple[datetime, datetime]]:
    """Run `check` once per phone price; return when each run started and ended."""
    spans = []
    for price in prices:
        shop.set_price("/phone", price)
        started = datetime.now(UTC)
        run_cli(config, "check")
        spans.append((started, datetime.now(UTC)))
    return spans


def as_json(config: Path, *args: str) -> list[dict[str, object]]:
    out = run_cli(config, "status", "--json", *args).stdout
    return [json.loads(line) for line in out.splitlines()]


def test_json_gives_exact_amounts_the_lowest_price_and_when_it_was_seen(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    config = three_orders(tmp_path, shop, receiver.url)
    spans = checks_at(shop, config, "4999.00", "4599.00", "4699.00", "4399.00", "4499.00")
    by_id = {row["order"]: row for row in as_json(config)}
    assert list(by_id) == [PHONE, "BBY-1", "BBY-2"]
    phone_row = by_id[PHONE]
    assert {k: phone_row[k] for k in ("currency", "paid", "current", "lowest", "difference")} == {
        "currency": "CNY",
        "paid": "4999.00",
        "current": "4499.00",
        "lowest": "4399.00",
        "difference": "-500.00",
    }
    assert phone_row["owed"] == "1000.00"  # (4999.00 - 4499.00) x 2, nothing claimed yet
    assert (phone_row["window_open"], phone_row["claim"], phone_row["last_status"]) == (
        True,
        None,
        "price",
    )
    # The lowest price was first seen by the fourth check, and is told in the user's zone.
    seen = datetime.fromisoformat(str(phone_row["lowest_seen_at"]))
    started, ended = spans[3]
    assert started <= seen <= ended
    assert seen.utcoffset() == timedelta(hours=8)
    checked = datetime.fromisoformat(str(phone_row["last_check"]))
    assert spans[4][0] <= checked <= spans[4][1]
    deadline = datetime.fromisoformat(str(phone_row["window_closes_at"]))
    # testmall: 15 days from the order day (two days ago), the day's end in Shanghai.
    assert deadline == datetime.combine(
        today() - timedelta(days=2) + timedelta(days=16), datetime.min.time(), SHANGHAI
    )
    headphones = by_id["BBY-1"]
    assert (headphones["current"], headphones["difference"], headphones["owed"]) == (
        "349.00",
        "0.00",
        "0.00",
    )
    lamp = by_id["BBY-2"]
    assert (lamp["window"], lamp["window_open"], lamp["current"], lamp["owed"]) == (
        "closed",
        False,
        None,
        None,
    )
    assert all(not isinstance(v, float) for row in by_id.values() for v in row.values())


def test_the_table_shows_when_the_lowest_price_was_seen(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    config = three_orders(tmp_path, shop, receiver.url)
    checks_at(shop, config, "4599.00", "4899.00")
    (row,) = as_json(config, "--owed")
    seen = datetime.fromisoformat(str(row["lowest_seen_at"]))
    lines = run_cli(config, "status").stdout.splitlines()
    header = lines[0].split()
    assert header[:7] == ["order", "product", "paid", "current", "lowest", "lowest", "seen"]
    (phone_line,) = [line for line in lines if line.startswith(PHONE)]
    assert f"¥4,899.00  ¥4,599.00  {seen:%m-%d %H:%M}  -¥100.00" in phone_line
    assert "\x1b[" not in "\n".join(lines)  # not a terminal: plain text


def test_the_filters_owed_open_and_shop(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    config = three_orders(tmp_path, shop, receiver.url)
    checks_at(shop, config, "4599.00")

    def ids(*args: str) -> list[object]:
        return [row["order"] for row in as_json(config, *args)]

    assert ids("--owed") == [PHONE]
    assert ids("--open") == [PHONE, "BBY-1"]
    assert ids("--shop", "teststore") == ["BBY-1", "BBY-2"]
    assert ids("--shop", "teststore", "--open") == ["BBY-1"]
    assert ids("--shop", "teststore", "--owed") == []
    table = run_cli(config, "status", "--owed").stdout.splitlines()
    assert [line.split()[0] for line in table[1:] if line and not line.startswith("Evidence")] == [
        PHONE
    ]
    none = run_cli(config, "status", "--shop", "teststore", "--owed").stdout
    assert none.startswith("No order matches (3 in the config).")
    refused = run_cli(config, "status", "--shop", "jdd", code=2)
    assert "unknown shop jdd; the orders' shops: testmall, teststore" in refused.output


def terminal_output(config: Path, env: dict[str, str]) -> str:
    """Run the real `price-monitor status` with its standard output on a terminal (a pty)."""
    clean = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "-c", str(config), "status"],
        stdout=follower,
        stderr=subprocess.PIPE,
        env={**clean, "TERM": "xterm-256color", "COLUMNS": "250", **env},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=30) == 0, process.stderr.read() if process.stderr else ""
    return b"".join(chunks).decode()


def test_colours_on_a_terminal_only_and_never_with_no_color(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/phone", "4599.00")
    closing = shop.add("/closing", "99.00", sku="C")
    local_today = datetime.now(SHANGHAI).date()
    orders = [
        phone(url),
        # Its window closes at the end of today in Shanghai: within a day, whatever the hour.
        order_table(closing, "CLOSING", paid="99.00", sku="C", ordered=local_today - timedelta(15)),
    ]
    config = write_config(
        tmp_path / "config.toml",
        orders=orders,
        urls=[receiver.url],
        monitor={"timezone": "Asia/Shanghai"},
    )
    run_cli(config, "check")
    shop.set_status("/closing", 503)
    run_cli(config, "check", "CLOSING")  # the last check failed
    coloured = terminal_output(config, {})
    assert "\x1b[1;32m-¥400.00" in coloured  # money owed, bold green
    assert re.search(r"\x1b\[1;31m[^\x1b]* left", coloured)  # the window closing today, bold red
    assert re.search(r"\x1b\[31m[^\x1b]*unknown: HTTP 503", coloured)  # the failing check, red
    plain = terminal_output(config, {"NO_COLOR": "1"})
    assert "\x1b[" not in plain
    assert "-¥400.00" in plain and "unknown: HTTP 503" in plain


def test_the_footer_shows_the_disk_the_evidence_takes(
    tmp_path: Path, shop: LoopbackShop, mail: MailSink
) -> None:
    from monitor.reports import human_size

    config = three_orders(tmp_path, shop, mail.url())
    checks_at(shop, config, "4999.00")
    assert "Evidence" not in run_cli(config, "status").stdout  # no drop: nothing kept
    checks_at(shop, config, "4599.00", "4399.00")  # two drops: two pages, two charts (email)
    kept = sorted((tmp_path / "evidence").iterdir())
    assert [p.suffix for p in kept] == [".gz", ".png", ".gz", ".png"]
    size = sum(p.stat().st_size for p in kept)
    footer = run_cli(config, "status").stdout.splitlines()[-1]
    assert footer == f"Evidence: 4 files, {human_size(size)} in {tmp_path / 'evidence'}"
    assert human_size(size).endswith(" kB")


def test_sizes_are_written_as_people_read_them() -> None:
    from monitor.reports import human_size

    assert [human_size(n) for n in (0, 999, 1000, 41_234, 95_000_000, 3_200_000_000)] == [
        "0 B",
        "999 B",
        "1.0 kB",
        "41.2 kB",
        "95.0 MB",
        "3.2 GB",
    ]
