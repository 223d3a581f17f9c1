"""Config loading: the shipped example validates; bad input lists every problem with its path."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from monitor.config import (
    Config,
    default_config_path,
    default_database_path,
    load_config,
    parse_config,
)
from monitor.errors import ConfigError
from monitor.models import Payment, Threshold

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"

MINIMAL_ORDER = """
[[orders]]
id = "1001"
shop = "jd"
url = "https://item.jd.com/1.html"
title = "Phone"
paid = 4999.00
ordered = 2026-11-20
"""


def parse(text: str, tmp_path: Path) -> Config:
    return parse_config(text, path=tmp_path / "config.toml", env={"XDG_STATE_HOME": str(tmp_path)})


def problems(text: str, tmp_path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(text, tmp_path)
    return [str(p) for p in caught.value.problems]


def test_example_config_validates_with_its_three_orders(tmp_path: Path) -> None:
    config = load_config(EXAMPLE, env={"XDG_STATE_HOME": str(tmp_path)})
    by_id = {o.id: o for o in config.orders}
    assert list(by_id) == ["5231120712345678", "298765432101", "A-100231"]
    xiaomi = by_id["5231120712345678"]
    assert (xiaomi.shop, xiaomi.payment, xiaomi.installments) == (
        "xiaomi",
        Payment.INSTALLMENTS,
        12,
    )
    assert xiaomi.paid == Decimal("4999.00") and xiaomi.currency == "CNY"
    jd = by_id["298765432101"]
    assert jd.delivered == date(2026, 11, 19) and jd.window_days == 15
    assert jd.threshold == Threshold(percent=Decimal(2))
    generic = by_id["A-100231"]
    assert (generic.selector, generic.currency, generic.window_days) == (
        "span.product-price",
        "EUR",
        30,
    )
    assert generic.interval == timedelta(hours=6)
    assert [t.tags for t in config.notify.urls] == [(), ("family",)]
    assert config.database == tmp_path / "price-monitor" / "price-monitor.db"


def test_defaults_come_from_the_shop_and_monitor_sections(tmp_path: Path) -> None:
    config = parse(MINIMAL_ORDER, tmp_path)
    (order,) = config.orders
    assert (order.currency, order.window_days, order.quantity) == ("CNY", 7, 1)
    assert order.threshold == Threshold(amount=Decimal(1))
    assert order.interval == timedelta(hours=2)
    assert str(config.timezone) == "UTC"  # the machine's (the suite's TZ), not Shanghai
    assert config.warnings == (
        "notify.urls is empty: alerts will be kept in the database but not sent",
    )


def test_money_is_read_exactly_not_through_float(tmp_path: Path) -> None:
    config = parse(MINIMAL_ORDER.replace("4999.00", "0.10"), tmp_path)
    assert config.orders[0].paid == Decimal("0.10")
    assert isinstance(config.orders[0].paid, Decimal)


def test_every_problem_is_listed_at_once_with_its_toml_path(tmp_path: Path) -> None:
    text = """
[monitor]
intervall = "2h"
timezone = "Mars/Olympus"

[notify]
urls = ["nope://secret-token@example.com"]

[[orders]]
id = "1"
shop = "jdd"
url = "item.jd.com/1.html"
title = "Phone"
paid = "4,999"
ordered = "20/11/2026"

[[orders]]
id = "1"
shop = "generic"
url = "https://shop.example/p"
title = "Grinder"
paid = 189
ordered = 2026-11-20
delivered = 2026-11-01
payment = "installments"
"""
    found = problems(text, tmp_path)
    expected = [
        'monitor.intervall: unknown key "intervall"; did you mean "interval"?',
        'monitor.timezone: expected an IANA time zone like "Asia/Shanghai", got "Mars/Olympus"',
        'notify.urls[0].url: not a notification URL Apprise understands (scheme "nope://")',
        "orders[0].url: expected the product page's http(s) URL",
        'orders[0].paid: expected a number like 4999.00 (no currency sign or thousands separator), got "4,999"',
        'orders[0].ordered: expected a date like 2026-11-20, got "20/11/2026"',
        'orders[0].shop: unknown shop "jdd"; did you mean "jd"?',
        'orders[1].id: "1" is also the id of orders[0]',
        'orders[1].currency: required: shop "generic" has no default currency',
        'orders[1].window_days: required: shop "generic" has no default price-protection window',
        "orders[1].delivered: 2026-11-01 is before the order date 2026-11-20",
        'orders[1].installments: required with payment = "installments"',
    ]
    for fragment in expected:
        assert any(p.startswith(fragment) for p in found), f"missing {fragment!r} in {found}"
    assert len(found) == len(expected)
    assert not any("secret-token" in p for p in found), "an Apprise URL's secret leaked"


@pytest.mark.parametrize(
    ("line", "path", "message"),
    [
        ("quantity = 0", "orders[0].quantity", "must be at least 1, got 0"),
        ("quantity = 1.5", "orders[0].quantity", "expected a whole number, got 1.5"),
        (
            'threshold = "150%"',
            "orders[0].threshold",
            'expected an amount like 50 or a percent like "2%"',
        ),
        ('threshold = "abc"', "orders[0].threshold", "expected an amount like 50"),
        ('interval = "2 hours"', "orders[0].interval", 'expected a duration like "2h"'),
        ('currency = "yuan"', "orders[0].currency", "expected a 3-letter ISO currency code"),
        (
            "delivered = 2026-11-21T10:00:00",
            "orders[0].delivered",
            "expected a date like 2026-11-20 without a time",
        ),
        ('selector = "div[[["', "orders[0].selector", "expected a CSS selector"),
        ("colour = 'red'", "orders[0].colour", 'unknown key "colour"'),
        (
            "installments = 12",
            "orders[0].payment",
            'must be "installments" when installments is given',
        ),
        (
            'payment = "bitcoin"',
            "orders[0].payment",
            "expected one of 'card', 'alipay', 'wechat', 'installments' or 'other'",
        ),
    ],
)
def test_one_bad_field_gives_one_clear_problem(
    tmp_path: Path, line: str, path: str, message: str
) -> None:
    found = problems(MINIMAL_ORDER + line + "\n", tmp_path)
    assert len(found) == 1, found
    assert found[0].startswith(f"{path}: {message}"), found


def test_a_missing_required_key_is_named(tmp_path: Path) -> None:
    found = problems(MINIMAL_ORDER.replace('title = "Phone"\n', ""), tmp_path)
    assert found == ["orders[0].title: required key is missing"]


def test_toml_syntax_errors_give_line_and_column(tmp_path: Path) -> None:
    found = problems("[monitor\ninterval = 1", tmp_path)
    assert len(found) == 1 and "not valid TOML" in found[0] and "line 1" in found[0]


def test_the_config_is_toml_1_0_as_the_commands_that_edit_it_read_it(tmp_path: Path) -> None:
    """TOML 1.1's multi-line inline tables are refused: add and remove (tomlkit, tomllib)
    would refuse the file that check and run had read."""
    import tomllib

    text = MINIMAL_ORDER + '[shops.generic]\nheaders = {\n  "X-A" = "1",\n}\n'
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads(text)
    found = problems(text, tmp_path)
    assert len(found) == 1 and "not valid TOML" in found[0], found


def test_unknown_top_level_section_is_an_error(tmp_path: Path) -> None:
    found = problems("[notifications]\nurls = []\n", tmp_path)
    assert found[0].startswith('notifications: unknown key "notifications"; did you mean "notify"?')


def test_a_shop_section_overrides_a_builtin_or_adds_a_shop(tmp_path: Path) -> None:
    text = (
        '[shops.jd]\nwindow_days = 30\n\n[shops.myshop]\ncurrency = "EUR"\nwindow_days = 14\n'
        'language = "en"\n'
        + MINIMAL_ORDER
        + MINIMAL_ORDER.replace('"1001"', '"1002"').replace('"jd"', '"myshop"')
    )
    config = parse(text, tmp_path)
    assert config.shops["jd"].window_days == 30
    assert config.shops["jd"].name == "京东"  # untouched fields keep the built-in value
    assert [(o.shop, o.window_days, o.currency) for o in config.orders] == [
        ("jd", 30, "CNY"),
        ("myshop", 14, "EUR"),
    ]


def test_interval_comes_from_the_order_then_the_shop_then_monitor(tmp_path: Path) -> None:
    shop_default = '[shops.jd]\ninterval = "3h"\n' + MINIMAL_ORDER
    assert parse(shop_default, tmp_path).orders[0].interval == timedelta(hours=3)
    assert parse(shop_default + 'interval = "90m"\n', tmp_path).orders[0].interval == timedelta(
        minutes=90
    )
    assert parse(MINIMAL_ORDER, tmp_path).orders[0].interval == timedelta(hours=2)


def test_interval_below_the_shops_minimum_is_raised_with_a_warning(tmp_path: Path) -> None:
    config = parse(MINIMAL_ORDER + 'interval = "5m"\n', tmp_path)
    assert config.orders[0].interval == timedelta(hours=1)
    assert any("interval raised to jd's minimum of 1h" in w for w in config.warnings)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")


def test_default_paths_follow_systemd_then_xdg(tmp_path: Path) -> None:
    assert default_config_path({"CONFIGURATION_DIRECTORY": "/etc/price-monitor"}) == Path(
        "/etc/price-monitor/config.toml"
    )
    assert default_config_path({"XDG_CONFIG_HOME": "/x"}) == Path("/x/price-monitor/config.toml")
    assert default_database_path({"STATE_DIRECTORY": "/var/lib/price-monitor"}) == Path(
        "/var/lib/price-monitor/price-monitor.db"
    )
    assert default_database_path({"XDG_STATE_HOME": "/s"}) == Path(
        "/s/price-monitor/price-monitor.db"
    )


def test_config_check_command_exits_2_and_prints_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text(MINIMAL_ORDER.replace("4999.00", '"4,999"').replace("2026-11-20", '"yesterday"'))
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "-c", str(bad), "config", "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "config.toml: 2 problems" in done.stderr
    # Each with its line, and the order's id.
    assert 'config.toml:7: orders[0] (id "1001").paid: expected a number like 4999.00' in (
        done.stderr
    )
    assert (
        'config.toml:8: orders[0] (id "1001").ordered: expected a date like 2026-11-20, got '
        '"yesterday"' in done.stderr
    )


def test_config_check_command_accepts_the_example(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "-c", str(EXAMPLE), "config", "check"],
        capture_output=True,
        text=True,
        check=False,
        env={"XDG_STATE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert "OK, 3 orders" in done.stdout
    assert "AAExampleBotToken" not in done.stdout + done.stderr  # secrets stay masked


def test_notification_secrets_can_come_from_the_environment(tmp_path: Path) -> None:
    text = '[notify]\nurls = ["tgram://${TG_TOKEN}/987654321"]\n'
    config = parse_config(text, path=tmp_path / "c.toml", env={"TG_TOKEN": "123456789:AAESecret"})
    assert config.notify.urls[0].url == "tgram://123456789:AAESecret/987654321"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, path=tmp_path / "c.toml", env={})
    (problem,) = caught.value.problems
    assert str(problem).startswith("notify.urls[0].url: ${TG_TOKEN} is not set in the environment")


def test_a_world_readable_config_with_secrets_gets_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[notify]\nurls = ["tgram://123456789:AAESecret/987654321"]\n')
    path.chmod(0o644)
    assert any("readable by other users" in w for w in load_config(path).warnings)
    path.chmod(0o600)
    assert not any("readable by other users" in w for w in load_config(path).warnings)
    path.write_text('[notify]\nurls = ["tgram://${TG}/987654321"]\n')  # no secret in the file
    path.chmod(0o644)
    assert not any("readable" in w for w in load_config(path, env={"TG": "1:A"}).warnings)


def test_a_shop_section_cannot_rename_its_shop(tmp_path: Path) -> None:
    found = problems('[shops.myshop]\nkey = "other"\ncurrency = "EUR"\n', tmp_path)
    assert len(found) == 1 and found[0].startswith('shops.myshop.key: unknown key "key"')
    assert "allowed keys: name, domains" in found[0]


def test_a_broken_shop_section_is_reported_once_and_other_problems_still_are(
    tmp_path: Path,
) -> None:
    broken_shop = "[shops.myshop]\ncurrency = 5\nwindow_days = 14\n"
    own_terms = MINIMAL_ORDER + 'currency = "CNY"\nwindow_days = 15\n'
    mine = MINIMAL_ORDER.replace('"1001"', '"1002"').replace('"jd"', '"myshop"')
    typo = MINIMAL_ORDER.replace('"1001"', '"1003"').replace('"jd"', '"jdd"')
    found = problems(broken_shop + own_terms + mine + typo, tmp_path)
    assert [p.split(":")[0] for p in found] == ["shops.myshop.currency", "orders[2].shop"]
    assert found[1].startswith('orders[2].shop: unknown shop "jdd"; did you mean "jd"?')


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[shops]\nmy = 5\n", "shops.my: expected a table ([shops.NAME]), got 5"),
        ("orders = [5]\n", "orders[0]: expected a table ([[orders]]), got 5"),
        ('[monitor]\ndatabase = ""\n', "monitor.database: must not be empty"),
    ],
)
def test_a_value_in_the_wrong_shape_says_what_was_expected(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert problems(text, tmp_path) == [expected]


def test_every_bad_template_is_its_own_problem(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "drop.zh.txt").write_text("{nope}")
    (folder / "support.en.txt").write_text("{order_id")
    found = problems(f'[notify]\ntemplates = "{folder}"\n', tmp_path)
    assert len(found) == 2 and all(p.startswith("notify.templates: ") for p in found)
    assert "drop.zh.txt: unknown field {nope}" in found[0]
    assert "support.en.txt: bad braces" in found[1]


def test_a_shop_api_template_with_stray_braces_is_a_problem(tmp_path: Path) -> None:
    text = '[shops.x]\ncurrency = "EUR"\n[shops.x.api]\nurl = "https://api.example/p?id={id"\n'
    (found,) = problems(text, tmp_path)
    assert found.startswith("shops.x.api.url: expected '}' before end of string")
    assert found.endswith("(write {{ and }} for literal braces)")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "ordered = 9999-12-25",
            "orders[0].ordered: 9999-12-25 is too far in the future for a 7-day window",
        ),
        (
            "ordered = 0001-01-01",
            "orders[0].ordered: must be 1970 or later, got the date 0001-01-01",
        ),
    ],
)
def test_dates_must_give_a_window_that_fits_the_calendar(
    tmp_path: Path, line: str, expected: str
) -> None:
    text = MINIMAL_ORDER.replace("ordered = 2026-11-20", line)
    assert problems(text, tmp_path) == [expected]


def test_an_order_dated_in_the_future_is_a_warning_and_is_watched(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from monitor.rules import is_watched

    future = (datetime.now(UTC) + timedelta(days=30)).date()
    config = parse(MINIMAL_ORDER.replace("2026-11-20", str(future)), tmp_path)
    assert any(
        f"ordered {future} is in the future: its window is not open yet" in w
        for w in config.warnings
    )
    (order,) = config.orders
    assert is_watched(order, config.shop_of(order), datetime.now(UTC))  # not a closed window


def test_a_template_with_an_outdated_time_field_is_a_warning(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "drop.zh.txt").write_text("{title}：还剩 {days_left} 天\n", "utf-8")
    config = parse(f'[notify]\ntemplates = "{folder}"\n', tmp_path)
    (warning,) = [w for w in config.warnings if "templates" in w]
    assert warning.startswith("notify.templates: drop.zh.txt uses {days_left}: it counts whole")
    assert "{time_left}" in warning


def test_templates_are_read_and_checked_with_the_config_and_again_on_reload(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "support.en.txt").write_text("Order {order_id}: please refund {asked}.\n")
    text = f'[notify]\ntemplates = "{folder}"\n'
    config = parse(text, tmp_path)
    (folder / "support.en.txt").write_text("Order {ordr_id}\n")  # a typo made after the load
    assert config.templates.get("support", "en") == "Order {order_id}: please refund {asked}.\n"
    found = problems(text, tmp_path)  # the next load (a reload) sees the edit, and refuses it
    assert found[0].startswith("notify.templates: support.en.txt: unknown field {ordr_id}")


def test_a_shop_api_reads_one_items_path_or_several_tried_in_order(tmp_path: Path) -> None:
    # A user's section written before items took a list still reads as it did.
    one = parse(
        '[shops.xiaomi.api]\nurl = "https://api.example/v?id={sku}"\nitems = "data.goods"\n',
        tmp_path,
    )
    assert one.shops["xiaomi"].api is not None
    assert one.shops["xiaomi"].api.items == ("data.goods",)
    several = parse(
        '[shops.x]\ncurrency = "CNY"\nwindow_days = 7\n[shops.x.api]\n'
        'url = "https://api.example/v?id={sku}"\n'
        'items = ["data.goods_list[].goods_info", "data.goods_info"]\nitem_name = "name"\n',
        tmp_path,
    )
    api = several.shops["x"].api
    assert api is not None
    assert (api.items, api.item_name) == (
        ("data.goods_list[].goods_info", "data.goods_info"),
        "name",
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('items = "data..goods"', "shops.x.api.items: expected a JSON path to the goods like"),
        ('items = ["data.goods", "a[x]"]', "shops.x.api.items[1]: expected a JSON path to the"),
        ("items = []", "shops.x.api.items: expected a JSON path, or a list of them tried in order"),
        ('price = "goods[].price"', 'shops.x.api.price: expected a JSON path like "price"'),
        ('item_name = ""', "shops.x.api.item_name: expected a JSON path like"),
    ],
)
def test_a_shop_api_path_that_is_no_path_is_a_problem(
    tmp_path: Path, line: str, expected: str
) -> None:
    text = f'[shops.x]\ncurrency = "CNY"\n[shops.x.api]\nurl = "https://api.example/v?id={{sku}}"\n{line}\n'
    (found,) = problems(text, tmp_path)
    assert found.startswith(expected), found
