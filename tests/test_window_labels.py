"""A price-protection label on the product page ("15天价保") as the window of the orders that
give none: seen by a check that reads the page, or by `probe --order` on a saved page;
remembered in the database, shown by `status`. A real loopback shop, real SQLite, the CLI."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from monitor.testing import (
    TEST_SHOPS,
    LoopbackShop,
    ShopProduct,
    order_table,
    product_page,
    run_cli,
    write_config,
)

TODAY = datetime.now(UTC).date()
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "shops"

# A shop whose product pages say how long their price protection lasts, as JD's do.
LABEL_SHOPS = (
    TEST_SHOPS
    + """
[shops.labelmall]
name = "标签商城"
currency = "CNY"
language = "zh"
timezone = "Asia/Shanghai"
window_days = 7
window_starts = "order"
min_interval = "1s"
claim = "联系在线客服"
refund_path = "原路退回"
window_label = '(\\d+)\\s*天价保'
"""
)


def page(label: str | None, price: str = "4999.00") -> bytes:
    """The loopback product page with a service list under the price, as JD's item pages
    have: "N天价保" when ``label`` is given, and a "7天无理由退货" that is no such label."""
    html = product_page(ShopProduct("/phone", "Test phone", Decimal(price)))
    services = "".join(f"<a class=service>{s}</a>" for s in ((label,) if label else ()))
    services += "<a class=service>7天无理由退货</a>"
    return html.replace("</main>", f"<div class=services>{services}</div></main>").encode()


def config_for(tmp_path: Path, *orders: dict[str, object]) -> Path:
    return write_config(tmp_path / "config.toml", orders=list(orders), urls=[], extra=LABEL_SHOPS)


def protection(config: Path, order_id: str) -> str:
    """The window and protection columns of the order's row in `status`."""
    lines = run_cli(config, "status").stdout.splitlines()
    header, rows = lines[0], lines[1:]
    start, claim = header.index("window"), header.index("claim")
    (row,) = [r for r in rows if r.startswith(order_id + " ")]
    return " ".join(row[start:claim].split())


def test_a_label_a_check_sees_sets_the_window_of_the_orders_that_give_none(
    tmp_path: Path, shop: LoopbackShop
) -> None:
    url = shop.put("/phone", page(None))
    ordered = TODAY - timedelta(days=1)
    config = config_for(
        tmp_path,
        order_table(url, "BY-LABEL", shop="labelmall", ordered=ordered),
        order_table(url, "OWN", shop="labelmall", ordered=ordered, window_days=30),
    )
    run_cli(config, "check")
    assert protection(config, "BY-LABEL").endswith("7 days (shop default)")
    assert protection(config, "OWN").endswith("30 days (order)")

    shop.put("/phone", page("15天价保"))
    run_cli(config, "check")
    assert protection(config, "BY-LABEL").endswith("days left 15 days (page label)")
    assert protection(config, "OWN").endswith("30 days (order)")  # the order's own wins

    # The label changes: a shorter one never shortens the window it gave, a longer one
    # lengthens it; a page without one leaves it as it is.
    for label, expected in (("7天价保", 15), (None, 15), ("30天价保", 30)):
        shop.put("/phone", page(label))
        run_cli(config, "check")
        assert protection(config, "BY-LABEL").endswith(f"{expected} days (page label)"), label


def test_a_label_keeps_watching_an_order_past_the_shops_default(
    tmp_path: Path, shop: LoopbackShop
) -> None:
    url = shop.put("/phone", page("15天价保"))
    # Ordered 10 days ago: the shop's 7-day window has closed, the page's 15 days have not.
    config = config_for(
        tmp_path,
        order_table(url, "LATE", shop="labelmall", ordered=TODAY - timedelta(days=10)),
    )
    assert "Nothing to check" in run_cli(config, "check").output
    assert protection(config, "LATE") == "closed 7 days (shop default)"
    assert "LATE: ¥4,999.00" in run_cli(config, "check", "LATE").output  # read on request
    assert protection(config, "LATE").endswith("days left 15 days (page label)")
    assert "LATE: ¥4,999.00" in run_cli(config, "check").output  # watched again, by itself
    assert shop.requests("/phone") == 2


def test_probe_of_a_saved_page_sets_the_orders_window(tmp_path: Path) -> None:
    url = "https://item.jd.com/100012043978.html"
    saved = FIXTURES / "jd" / "item_rendered.html"  # saved from a browser: "15天价保"
    config = config_for(
        tmp_path,
        order_table(url, "JD-1", shop="jd", sku="100012043978"),
        order_table(url, "JD-OWN", shop="jd", sku="100012043978", window_days=30),
    )
    assert protection(config, "JD-1").endswith("7 days (shop default)")
    out = run_cli(config, "probe", "--order", "JD-1", str(saved)).stdout.splitlines()
    assert "  verdict   price ¥2,299.00 (from selector)" in out  # read with the order's sku
    assert "  window    the page advertises 15 days of price protection" in out
    assert out[-1] == "  order     JD-1's window is 15 days (page label) from now on"
    assert protection(config, "JD-1").endswith("15 days (page label)")

    (line,) = run_cli(
        config, "probe", "--json", "--order", "JD-OWN", str(saved)
    ).stdout.splitlines()
    result = json.loads(line)
    assert (result["window_days"], result["order"]) == (15, "JD-OWN")
    assert result["order_window"] == {"days": 30, "source": "order"}
    assert protection(config, "JD-OWN").endswith("30 days (order)")

    shorter = tmp_path / "item.html"
    shorter.write_text(saved.read_text("utf-8").replace("15天价保", "7天价保"), "utf-8")
    out = run_cli(config, "probe", "--order", "JD-1", str(shorter)).stdout.splitlines()
    assert (
        out[-1] == "  order     JD-1's window stays 15 days (page label): a label never shortens it"
    )
    unrendered = FIXTURES / "jd" / "item_unrendered.html"  # fetched without its scripts
    out = run_cli(config, "probe", "--order", "JD-1", str(unrendered)).stdout.splitlines()
    assert out[-1] == "  order     no price-protection label seen: JD-1's window is as it was"
    assert protection(config, "JD-1").endswith("15 days (page label)")


def test_probe_needs_a_target_or_an_order(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    result = run_cli(config, "probe", code=2)
    assert "give a TARGET (a URL or a saved page), or --order ORDER" in result.output
    assert "unknown order NOPE" in run_cli(config, "probe", "--order", "NOPE", code=2).output


def test_the_daemon_schedules_a_product_by_the_windows_its_check_found(
    tmp_path: Path, shop: LoopbackShop
) -> None:
    """The daemon's job holds the product as it was scheduled; the check's product carries
    the label's window, and that is what decides whether polling goes on."""
    from monitor import rules
    from monitor.check import check_product, watched_products
    from monitor.config import load_config
    from monitor.fetch import Fetcher
    from monitor.history import History
    from monitor.reader import PageReader

    url = shop.put("/phone", page("15天价保"))
    order = order_table(url, "LATE", shop="labelmall", ordered=TODAY - timedelta(days=10))
    config = load_config(config_for(tmp_path, order))
    history = History.open(config.database)
    now = datetime.now(UTC)

    async def check() -> tuple[rules.NextPoll, rules.NextPoll, int]:
        (scheduled,) = watched_products(config, history, now=now, only=["LATE"])
        async with Fetcher(config.monitor) as fetcher, PageReader(workers=1) as reader:
            result = await check_product(
                scheduled,
                config=config,
                fetcher=fetcher,
                reader=reader,
                history=history,
                clock=lambda: datetime.now(UTC),
            )
        checked = result.product
        return (
            rules.next_poll(scheduled, result.observation, 0, now),
            rules.next_poll(checked, result.observation, 0, now),
            checked.orders[0].window_days,
        )

    try:
        as_scheduled, as_checked, days = asyncio.run(check())
    finally:
        history.close()
    assert as_scheduled.stop is rules.StopReason.WINDOWS_CLOSED  # by the shop's 7 days
    assert (as_checked.stop, days) == (None, 15)  # by the page's 15
