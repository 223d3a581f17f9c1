"""`price-monitor probe` on URLs (a loopback shop) and on saved files."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli
from monitor.testing import Answer, LoopbackShop

PLAIN_PAGE = (
    "<html><head><title>Grinder</title></head><body><h1>Grinder</h1>"
    + "<p>Burr grinder with 40 settings.</p>" * 40
    + '<div class="buy"><span class="now-price">€189,00</span><del class="was">€229,00</del></div>'
    + "<p>Free shipping over €50.</p></body></html>"
)


# Without a config file (the user has not written one yet) probe uses the built-in shops.
NO_CONFIG = {
    "PRICE_MONITOR_CONFIG": None,
    "XDG_CONFIG_HOME": "/nonexistent",
    "CONFIGURATION_DIRECTORY": None,
}


def probe(*args: str, config: Path | None = None, code: int = 0) -> list[str]:
    prefix = ["-c", str(config)] if config else []
    result = CliRunner().invoke(
        cli, [*prefix, "probe", *args], catch_exceptions=False, env=NO_CONFIG
    )
    assert result.exit_code == code, result.output
    return result.stdout.splitlines()


def test_probe_json_reads_a_url_and_a_file_one_line_each(
    shop: LoopbackShop, tmp_path: Path
) -> None:
    url = shop.add("/phone", "4999.00")
    saved = tmp_path / "page.html"
    saved.write_text(PLAIN_PAGE, "utf-8")
    lines = probe("--json", "--currency", "CNY", url, str(saved), config=_no_config(tmp_path))
    first, second = (json.loads(line) for line in lines)
    assert first["target"] == url
    assert (first["status"], first["amount"], first["currency"], first["strategy"]) == (
        "price",
        "4999.00",
        "CNY",
        "json-ld",
    )
    assert {c["strategy"] for c in first["candidates"]} == {"json-ld", "microdata"}
    assert second["status"] == "unknown" and second["amount"] is None
    assert "add a CSS selector" in second["reason"]
    assert second["suggestions"][0] == {"selector": "div.buy > span.now-price", "text": "€189,00"}


def test_probe_with_the_suggested_selector_finds_the_price(tmp_path: Path) -> None:
    saved = tmp_path / "page.html"
    saved.write_text(PLAIN_PAGE, "utf-8")
    (line,) = probe("--json", "--selector", "div.buy > span.now-price", str(saved))
    result = json.loads(line)
    assert (result["status"], result["amount"], result["currency"]) == ("price", "189.00", "EUR")


def test_probe_human_report_names_the_verdict(shop: LoopbackShop, tmp_path: Path) -> None:
    url = shop.add("/phone", "4999.00")
    out = "\n".join(probe(url, "--currency", "CNY", config=_no_config(tmp_path)))
    assert "json-ld     4999.00 CNY [sku SKU-1]" in out
    assert "verdict   price ¥4,999.00 (from json-ld), in stock" in out


def test_probe_reads_a_shop_api_from_the_users_shop_profile(
    shop: LoopbackShop, tmp_path: Path
) -> None:
    # The shop answers only the query the profile should build; any other is a 404.
    answer = json.dumps([{"id": "J_42", "p": "2299.00", "m": "2999.00"}]).encode()
    shop.script("/prices?ids=J_42", Answer(200, answer, {"Content-Type": "application/json"}))
    api = shop.url("/prices") + "?ids=J_{sku}"
    config = tmp_path / "config.toml"
    config.write_text(
        '[shops.mine]\ncurrency = "CNY"\nwindow_days = 7\ndomains = ["shop.example"]\n'
        f'[shops.mine.api]\nurl = "{api}"\nids = {{ sku = "item/(\\\\d+)" }}\n'
        'item_id = "id"\nmatch = "J_{sku}"\nprice = "p"\n',
        "utf-8",
    )
    (line,) = probe("--json", "--shop", "mine", "https://shop.example/item/42", config=config)
    result = json.loads(line)
    assert (result["status"], result["amount"], result["strategy"]) == ("price", "2299.00", "api")
    assert shop.requests("/prices?ids=J_42") == 1


def test_probe_of_a_missing_file_is_unknown_and_the_others_still_run(tmp_path: Path) -> None:
    saved = tmp_path / "page.html"
    saved.write_text(PLAIN_PAGE, "utf-8")
    lines = probe("--json", str(tmp_path / "nope.html"), str(saved), code=1)
    missing, present = (json.loads(line) for line in lines)
    assert missing["status"] == "unknown" and "cannot read" in missing["reason"]
    assert (missing["read"], present["read"]) == (False, True)
    assert present["status"] == "unknown"


def test_probe_exits_1_when_a_target_cannot_be_read_after_reporting_them_all(
    shop: LoopbackShop, tmp_path: Path
) -> None:
    good = shop.add("/phone", "4999.00")
    shop.set_status("/gone", 404)
    gone = shop.url("/gone")
    missing = tmp_path / "nope.html"
    config = _no_config(tmp_path)
    result = CliRunner().invoke(
        cli,
        ["-c", str(config), "probe", "--currency", "CNY", str(missing), gone, good],
        catch_exceptions=False,
    )
    assert result.exit_code == 1
    out = result.stdout
    assert "cannot read" in out and "HTTP 404: the page is gone" in out
    assert "verdict   price ¥4,999.00 (from json-ld)" in out  # the last one still reported
    assert result.stderr.splitlines()[-1] == (
        f"price-monitor: 2 of 3 targets could not be read: {missing}, {gone}"
    )
    # Pages that were read exit 0, even one that shows no price (it says why instead).
    saved = tmp_path / "page.html"
    saved.write_text(PLAIN_PAGE, "utf-8")
    plain, phone = (json.loads(line) for line in probe("--json", str(saved), good, config=config))
    assert (plain["status"], plain["read"], phone["status"]) == ("unknown", True, "price")


STRUCK_PAGE = (
    "<html><head><title>Grinder</title></head><body><h1>Grinder</h1>"
    '<div class="buy"><del class="was">€229,00</del><s class="list">€249,00</s>'
    '<strike>€259,00</strike><span class="deal"><del><b>€239,00</b></del></span>'
    '<span class="now-price">€189,00</span></div></body></html>'
)


def test_probe_never_suggests_a_struck_through_price(tmp_path: Path) -> None:
    saved = tmp_path / "page.html"
    saved.write_text(STRUCK_PAGE, "utf-8")
    (line,) = probe("--json", str(saved))
    suggestions = json.loads(line)["suggestions"]
    assert suggestions == [{"selector": "div.buy > span.now-price", "text": "€189,00"}]
    # What it suggests, probe reads.
    (again,) = probe("--json", "--selector", suggestions[0]["selector"], str(saved))
    assert (json.loads(again)["status"], json.loads(again)["amount"]) == ("price", "189.00")


def test_probe_rejects_an_unknown_shop(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["probe", "--shop", "nope", "x.html"], env=NO_CONFIG)
    assert result.exit_code == 2 and "unknown shop 'nope'" in result.output


def _no_config(tmp_path: Path) -> Path:
    config = tmp_path / "empty.toml"
    config.write_text("", "utf-8")
    return config


FIXTURES = Path(__file__).resolve().parent / "fixtures" / "shops"


def _xiaomi_like(shop: LoopbackShop, tmp_path: Path) -> Path:
    """A config whose shop reads a loopback copy of Xiaomi's product API, as the built-in
    profile reads the real one; the API answers with the saved PC-site response."""
    answer = (FIXTURES / "xiaomi" / "api_pc_no_sku.json").read_bytes()
    shop.put("/product/view?product_id=19540&version=2", answer, "application/json")
    api = shop.url("/product/view") + "?product_id={product_id}&version=2"
    config = tmp_path / "config.toml"
    config.write_text(
        '[shops.mi]\ncurrency = "CNY"\nwindow_days = 7\ndomains = ["mi.example"]\n'
        f'[shops.mi.api]\nurl = "{api}"\nids = {{ product_id = "product_id=(\\\\d+)" }}\n'
        'items = ["data.goods_list[].goods_info", "data.goods_info"]\n'
        'item_id = "goods_id"\nitem_name = "name"\nprice = "price"\n',
        "utf-8",
    )
    return config


def test_probe_lists_the_variants_a_shop_api_returns(shop: LoopbackShop, tmp_path: Path) -> None:
    config = _xiaomi_like(shop, tmp_path)
    page = "https://mi.example/shop/buy/detail?product_id=19540"
    out = probe("--sku", "2230000361", page, config=config)
    start = out.index("  variants  4 in the API's answer (an order's `sku` picks one):")
    assert out[start + 1 : start + 5] == [
        "    2230000360  ¥3,999.00  小米14 Pro 12GB+256GB 黑色",
        "  * 2230000361  ¥4,499.00  小米14 Pro 16GB+512GB 白色",  # the --sku asked about
        "    2230000362  ¥4,999.00  小米14 Pro 16GB+1TB 岩石青",
        "    2230000363  ¥5,299.50  小米14 Pro 钛金属特别版 16GB+1TB 钛金属",
    ]
    assert "  verdict   price ¥4,499.00 (from api)" in out

    # Without a sku there is no one price, and the list is what to choose from.
    (line,) = probe("--json", page, config=config)
    result = json.loads(line)
    assert result["status"] == "unknown" and "several prices" in result["reason"]
    assert [(v["sku"], v["name"], v["amount"]) for v in result["variants"]] == [
        ("2230000360", "小米14 Pro 12GB+256GB 黑色", "3999"),
        ("2230000361", "小米14 Pro 16GB+512GB 白色", "4499"),
        ("2230000362", "小米14 Pro 16GB+1TB 岩石青", "4999.00"),
        ("2230000363", "小米14 Pro 钛金属特别版 16GB+1TB 钛金属", "5299.5"),
    ]
    assert shop.requests("/product/view?product_id=19540&version=2") == 2
