"""`price-monitor add` and `remove` on a real config, a real database and a loopback shop:
the page probed first, comments and mode kept, the whole file validated before it is written."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from monitor.testing import (
    DaemonProcess,
    JsonReceiver,
    LoopbackShop,
    order_table,
    run_cli,
    write_config,
)
from monitor.testing.orders import today

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "shops"
MY_COMMENT = "# bought for my sister: keep the box until the window closes (价保)\n"


def config_with_comments(tmp_path: Path, url: str, receiver: JsonReceiver) -> Path:
    """A 0600 config with one order and comments of the user's own, above and inside it."""
    path = write_config(tmp_path / "config.toml", orders=[], urls=[receiver.url])
    text = path.read_text("utf-8") + (
        MY_COMMENT + "[[orders]]\n"
        'id = "A-1"  # the order number from the confirmation mail\n'
        'shop = "testmall"\n'
        f'url = "{url}"\n'
        'title = "Xiaomi 14 Pro"\n'
        "paid = 4999.00\n"
        f"ordered = {today() - timedelta(days=1)}\n"
        "\n# --- the end of my orders ---\n"
    )
    path.write_text(text, "utf-8")
    path.chmod(0o600)
    return path


def orders_in(path: Path) -> list[dict[str, object]]:
    orders: list[dict[str, object]] = tomllib.loads(
        path.read_text("utf-8"), parse_float=Decimal
    ).get("orders", [])
    return orders


def test_add_probes_the_page_and_appends_the_order_keeping_the_file(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/phone", "4999.00", title="Xiaomi 14 Pro")
    tablet = shop.add("/tablet", "2599.00", title="Xiaomi Pad 6")
    path = config_with_comments(tmp_path, url, receiver)
    before = path.read_text("utf-8")

    result = run_cli(
        path,
        "add",
        tablet,
        "--paid",
        "2799.00",
        "--ordered",
        "2026-11-20",
        "--order-id",
        "5231120799990000",
        "--shop",
        "testmall",
        "--qty",
        "2",
        "--installments",  # payment = "installments" goes without saying
        "12",
        "--installment-provider",
        "花呗",
    )
    assert "verdict   price ¥2,599.00 (from json-ld), in stock" in result.stdout
    assert "added order 5231120799990000 (Xiaomi Pad 6)" in result.stdout
    after = path.read_text("utf-8")
    assert after.startswith(before)  # every byte before it, the user's comments among them
    assert MY_COMMENT in after and "# --- the end of my orders ---\n" in after
    assert after[len(before) :] == (
        "\n[[orders]]\n"
        'id = "5231120799990000"\n'
        'shop = "testmall"\n'
        f'url = "{tablet}"\n'
        'title = "Xiaomi Pad 6"\n'  # from the page
        "paid = 2799.00\n"
        "quantity = 2\n"
        "ordered = 2026-11-20\n"
        'payment = "installments"\n'
        "installments = 12\n"
        'installment_provider = "花呗"\n'
    )
    assert path.stat().st_mode & 0o777 == 0o600
    assert "OK, 2 orders" in run_cli(path, "config", "check").stdout


def test_add_without_an_id_makes_one_up_and_says_so(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/phone", "4999.00", title="Xiaomi 14 Pro")
    path = config_with_comments(tmp_path, url, receiver)
    args = ("add", url, "--paid", "5199", "--ordered", "2026-11-20")
    first = run_cli(path, *args, "--shop", "testmall")
    second = run_cli(path, *args, "--shop", "testmall")
    assert "no --order-id: calling it testmall-20261120 (" in first.stdout
    assert "no --order-id: calling it testmall-20261120-2 (" in second.stdout
    # No profile covers 127.0.0.1: the generic one, which has neither a currency nor a window.
    generic = run_cli(path, *args, code=2)
    assert "shop generic has no default price-protection window: give --window-days" in (
        generic.stderr
    )
    third = run_cli(path, *args, "--window-days", "30")
    assert "no --order-id: calling it generic-20261120 (" in third.stdout
    added = [(o["id"], o["shop"], o.get("currency"), o.get("window_days")) for o in orders_in(path)]
    assert added[1:] == [
        ("testmall-20261120", "testmall", None, None),  # the shop's currency and window
        ("testmall-20261120-2", "testmall", None, None),
        ("generic-20261120", "generic", "CNY", 30),  # the currency the page states
    ]


def test_add_that_would_break_the_config_writes_nothing_and_says_why(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/phone", "4999.00")
    path = config_with_comments(tmp_path, url, receiver)
    before = path.read_bytes()
    # No notification URL carries the tag "family": its alerts could reach nobody.
    result = run_cli(
        path,
        "add",
        url,
        "--paid",
        "5199",
        "--ordered",
        "2026-11-20",
        "--shop",
        "testmall",
        "--order-id",
        "B-2",
        "--tags",
        "family",
        code=2,
    )
    assert "order B-2 was not added: the config would not load with it" in result.stderr
    assert '.tags: unknown tag "family"' in result.stderr
    assert path.read_bytes() == before
    assert path.stat().st_mode & 0o777 == 0o600
    assert list(tmp_path.glob(".config.toml.*")) == []  # no temporary file left behind


def test_add_refuses_a_page_without_a_price_unless_forced(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/phone", "4999.00")
    path = config_with_comments(tmp_path, url, receiver)
    before = path.read_bytes()
    page = shop.put(
        "/grinder",
        b"<html><head><title>Grinder | shop</title></head><body><h1>Burr Grinder</h1>"
        b"<p>Call us for the price.</p></body></html>",
    )
    args = ("add", page, "--paid", "189", "--ordered", "2026-11-20", "--shop", "testmall")
    refused = run_cli(path, *args, code=1)
    assert "verdict   unknown: " in refused.stdout
    assert f"no price can be read from {page} (" in refused.stderr
    assert "nothing was added (--force adds it anyway)" in refused.stderr
    assert path.read_bytes() == before

    forced = run_cli(path, *args, "--force")
    assert "added order testmall-20261120 (Burr Grinder)" in forced.stdout
    assert orders_in(path)[-1]["title"] == "Burr Grinder"


def xiaomi_like(shop: LoopbackShop, tmp_path: Path, receiver: JsonReceiver) -> Path:
    """A config whose shop reads a loopback copy of Xiaomi's product API (the saved PC-site
    answer, four variants), as the built-in profile reads the real one."""
    answer = (FIXTURES / "xiaomi" / "api_pc_no_sku.json").read_bytes()
    shop.put("/product/view?product_id=19540&version=2", answer, "application/json")
    api = shop.url("/product/view") + "?product_id={product_id}&version=2"
    path = tmp_path / "config.toml"
    path.write_text(
        f'[monitor]\ndatabase = "{tmp_path / "state.db"}"\n'
        f"[notify]\nurls = [{json.dumps(receiver.url)}]\n"
        '[shops.mi]\ncurrency = "CNY"\nwindow_days = 7\ndomains = ["mi.example"]\n'
        f'[shops.mi.api]\nurl = "{api}"\nids = {{ product_id = "product_id=(\\\\d+)" }}\n'
        'items = ["data.goods_list[].goods_info", "data.goods_info"]\n'
        'item_id = "goods_id"\nitem_name = "name"\nprice = "price"\n',
        "utf-8",
    )
    return path


def test_add_lists_the_variants_of_a_shop_api_and_takes_the_one_picked(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    path = xiaomi_like(shop, tmp_path, receiver)
    page = "https://mi.example/shop/buy/detail?product_id=19540"
    args = ("add", page, "--paid", "4999", "--ordered", "2026-11-20", "--order-id", "M-1")
    refused = run_cli(path, *args, code=1)
    lines = refused.stdout.splitlines()
    start = lines.index("  variants  4 in the API's answer (an order's `sku` picks one):")
    assert lines[start + 1 : start + 5] == [
        "    2230000360  ¥3,999.00  小米14 Pro 12GB+256GB 黑色",
        "    2230000361  ¥4,499.00  小米14 Pro 16GB+512GB 白色",
        "    2230000362  ¥4,999.00  小米14 Pro 16GB+1TB 岩石青",
        "    2230000363  ¥5,299.50  小米14 Pro 钛金属特别版 16GB+1TB 钛金属",
    ]
    assert "pick one of the 4 variants with --sku" in refused.stderr
    assert orders_in(path) == []

    picked = run_cli(path, *args, "--sku", "2230000361")
    assert "  * 2230000361  ¥4,499.00  小米14 Pro 16GB+512GB 白色" in picked.stdout
    assert "added order M-1 (小米14 Pro 16GB+512GB 白色)" in picked.stdout
    (order,) = orders_in(path)
    assert (order["shop"], order["sku"], order["title"], order["paid"]) == (
        "mi",  # from the URL's domain
        "2230000361",
        "小米14 Pro 16GB+512GB 白色",  # the variant's name in the API's answer
        4999,
    )


def test_remove_keeps_the_comments_and_the_database_keeps_the_order(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/phone", "4599.00")
    grinder = shop.add("/grinder", "90.00", currency="USD", title="Grinder")
    path = config_with_comments(tmp_path, url, receiver)
    run_cli(
        path,
        "add",
        grinder,
        "--paid",
        "100",
        "--ordered",
        str(today()),
        "--shop",
        "teststore",
        "--order-id",
        "G-1",
    )
    run_cli(path, "check")
    assert {m["title"] for m in receiver.wait_for(2)} == {
        "Price drop: claim $10.00 on Grinder (order G-1)",
        "可申请退差价 ¥400.00：Xiaomi 14 Pro（订单 A-1）",
    }
    run_cli(path, "claim", "A-1")
    run_cli(path, "refunded", "A-1", "--amount", "400")
    before = path.read_text("utf-8")

    result = run_cli(path, "remove", "A-1")
    assert "removed order A-1 (Xiaomi 14 Pro)" in result.stdout
    assert "its price history and 2 claim steps stay in the database" in result.stdout
    after = path.read_text("utf-8")
    # Its table went, with the comment right above it; the user's other comment stayed.
    assert MY_COMMENT not in after and "the order number from the confirmation mail" not in after
    assert "\n# --- the end of my orders ---\n" in after
    start, end = before.index(MY_COMMENT), before.index("\n# --- the end")
    assert after == before[:start] + before[end + 1 :]  # one blank line left between
    assert [o["id"] for o in orders_in(path)] == ["G-1"]
    assert path.stat().st_mode & 0o777 == 0o600
    savings = run_cli(path, "savings").stdout
    assert [r.split()[:2] for r in savings.splitlines() if r.startswith("CNY")] == [
        ["CNY", "¥400.00"]
    ]
    assert "Including 1 order no longer in the config (removed)" in savings

    unknown = run_cli(path, "remove", "A-1", code=2)
    assert "unknown order A-1; orders in the config: G-1" in unknown.output


def test_a_running_daemon_picks_up_an_added_order(
    tmp_path: Path,
    shop: LoopbackShop,
    receiver: JsonReceiver,
    daemon_process: Callable[[Path], DaemonProcess],
) -> None:
    phone = shop.add("/phone", "4999.00")
    tablet = shop.add("/tablet", "2599.00", title="Xiaomi Pad 6")
    path = write_config(
        tmp_path / "config.toml", orders=[order_table(phone, "A-1")], urls=[receiver.url]
    )
    daemon = daemon_process(path)
    shop.wait_for_requests("/phone", 2)  # it runs, and has checked the phone (no drop)

    result = run_cli(
        path,
        "add",
        tablet,
        "--paid",
        "2999",
        "--ordered",
        str(today()),
        "--shop",
        "testmall",
        "--order-id",
        "TABLET-1",
    )
    assert f"The daemon (pid {daemon.process.pid}) reloads the config by itself" in result.stdout
    (alert,) = receiver.wait_for(1)
    assert alert["title"] == "可申请退差价 ¥400.00：Xiaomi Pad 6（订单 TABLET-1）"
    assert "config reloaded (the file changed)" in daemon.log


def test_remove_cuts_only_the_orders_lines_when_other_tables_sit_between_orders() -> None:
    from monitor.config.edit import without_order

    head = '[monitor]\ninterval = "2h"\n\n'
    order_a = '# order A: my phone\n[[orders]]\nid = "A"\npaid = 10.00\n\n'
    shop = '# my shop\n[shops.foo]\nname = "Foo"\n\n'
    order_b = '# order B: my tablet\n[[orders]]\nid = "B"  # from the mail\npaid = 20.00\n'
    tail = "\n# the end\n"
    text = head + order_a + shop + order_b + tail
    assert without_order(text, "A") == head + shop + order_b + tail
    assert without_order(text, "B") == head + order_a + shop + tail.lstrip("\n")
