"""The CLI says each thing once and says where: warnings shared by many orders, config
errors with their line and order id, ``-c`` after the command, ``-v`` lines, completion."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from monitor.cli import cli
from monitor.testing import Answer, LoopbackShop, order_table, write_config

# The config path comes from -c in these tests, never from the machine running them.
CLEAN_ENV = {"PRICE_MONITOR_CONFIG": None, "CONFIGURATION_DIRECTORY": None}


def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(
        cli, list(args), env={**CLEAN_ENV, **(env or {})}, catch_exceptions=False
    )


def generic_order(n: int) -> str:
    return (
        f'[[orders]]\nid = "{n}"\nshop = "generic"\nurl = "https://shop.example/p/{n}"\n'
        'title = "Kettle"\npaid = 30.00\ncurrency = "EUR"\nwindow_days = 30\n'
        "ordered = 2026-11-20\n"
    )


def line_of(text: str, fragment: str, start: int = 1) -> int:
    """The first line (from 1) at or after ``start`` that holds ``fragment``."""
    lines = text.splitlines()
    return next(n for n in range(start, len(lines) + 1) if fragment in lines[n - 1])


# --- the same warning, once --------------------------------------------------------------


def test_a_warning_two_thousand_orders_share_is_printed_once_with_a_count(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[monitor]\ndatabase = "{tmp_path / "state.db"}"\ninterval = "5m"\n'
        '[notify]\nurls = ["console://"]\n'
        + "".join(generic_order(n) for n in range(1, 2001))
        # One order at JD paid in euros: its two warnings are its own.
        + '[[orders]]\nid = "JD-9"\nshop = "jd"\nurl = "https://item.jd.com/9.html"\n'
        'title = "Phone"\npaid = 10.00\ncurrency = "EUR"\nordered = 2026-11-20\n',
        "utf-8",
    )
    result = invoke("-c", str(config), "config", "check")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: config.toml: interval raised to generic's minimum of 15m "
        "(2,000 orders: 1, 2, 3 and 1,997 more)",
        'warning: config.toml: orders[2000] (id "JD-9"): currency EUR differs from jd\'s CNY',
        'warning: config.toml: orders[2000] (id "JD-9"): interval raised to jd\'s minimum of 1h',
    ]
    assert "OK, 2001 orders" in result.stdout


def test_a_warning_a_few_orders_share_names_them_all(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[monitor]\ndatabase = "{tmp_path / "state.db"}"\ninterval = "5m"\n'
        '[notify]\nurls = ["console://"]\n' + "".join(generic_order(n) for n in (7, 8)),
        "utf-8",
    )
    result = invoke("-c", str(config), "status")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "warning: config.toml: interval raised to generic's minimum of 15m (2 orders: 7, 8)"
    ]


# --- config errors: the line and the order -----------------------------------------------


def test_config_errors_give_the_line_and_the_orders_id_in_every_section(
    tmp_path: Path,
) -> None:
    text = (
        "# my orders\n"
        "[monitor]\n"
        'interval = "soon"\n'
        "\n"
        "[notify]\n"
        "urls = [\n"
        '  "console://",\n'
        "  5,\n"
        "]\n"
        "\n"
        "[shops.mine]\n"
        'currency = "yuan"\n'
        "window_days = 7\n"
        + "".join(generic_order(n) for n in (1000, 1001))
        + '[[orders]]\nid = "JD-1001"\nshop = "jd"\nurl = "https://item.jd.com/2.html"\n'
        'title = "Phone"\n\n# the price, as the receipt says\npaid = "4,999"\n'
        'ordered = 2026-11-20\ncolour = "red"\n'
    )
    config = tmp_path / "config.toml"
    config.write_text(text, "utf-8")
    result = invoke("-c", str(config), "config", "check")
    assert result.exit_code == 2
    jd = line_of(text, 'id = "JD-1001"')
    assert result.stderr.splitlines() == [
        "config.toml: 5 problems",
        f"  config.toml:{line_of(text, 'interval')}: monitor.interval: expected a duration "
        'like "2h", "30m" or "1h30m", got "soon"',
        f"  config.toml:{line_of(text, '  5,')}: notify.urls[1]: expected a table, got 5",
        f"  config.toml:{line_of(text, 'yuan')}: shops.mine.currency: expected a 3-letter ISO "
        'currency code like "CNY" or "USD", got "yuan"',
        f'  config.toml:{line_of(text, "paid", jd)}: orders[2] (id "JD-1001").paid: expected a '
        'number like 4999.00 (no currency sign or thousands separator), got "4,999"',
        f'  config.toml:{line_of(text, "colour")}: orders[2] (id "JD-1001").colour: unknown key '
        '"colour"; allowed keys: id, shop, url, title, paid, ordered, currency, window_days, '
        "threshold, interval, quantity, delivered, payment, installments, "
        "installment_provider, sku, variant, selector, fetch, tags, notes",
    ]


def test_a_problem_with_no_key_of_its_own_points_at_its_orders_table(tmp_path: Path) -> None:
    text = (
        '[notify]\nurls = ["console://"]\n'
        + generic_order(1)
        + '[[orders]]\nid = 42\nshop = "generic"\nurl = "https://shop.example/p/2"\n'
        'paid = 30.00\ncurrency = "EUR"\nwindow_days = 30\nordered = 2026-11-20\n'
    )
    config = tmp_path / "config.toml"
    config.write_text(text, "utf-8")
    result = invoke("-c", str(config), "config", "check")
    assert result.exit_code == 2
    # The title is missing: the line is the table's header; a bare integer id is named too.
    header = line_of(text, "[[orders]]", line_of(text, "id = 42") - 1)
    assert (
        f'  config.toml:{header}: orders[1] (id "42").title: required key is missing'
        in result.stderr.splitlines()
    )


# --- -c after the command ------------------------------------------------------------------


def test_the_config_file_can_follow_the_command(tmp_path: Path, shop: LoopbackShop) -> None:
    url = shop.add("/phone", "4999.00")
    config = write_config(
        tmp_path / "config.toml", orders=[order_table(url, "PHONE-1")], urls=["console://"]
    )
    elsewhere = tmp_path / "other.toml"
    elsewhere.write_text("this is not TOML", "utf-8")

    status = invoke("status", "-c", str(config))
    assert status.exit_code == 0, status.output
    assert "PHONE-1" in status.stdout
    nested = invoke("config", "check", "--config", str(config))
    assert nested.exit_code == 0, nested.output
    assert f"{config}: OK, 1 order" in nested.stdout
    probed = invoke("probe", "--order", "PHONE-1", "-c", str(config))
    assert probed.exit_code == 0, probed.output
    assert "verdict   price ¥4,999.00" in probed.stdout

    # After the command it wins over $PRICE_MONITOR_CONFIG, which still works on its own.
    over_env = invoke("status", "-c", str(config), env={"PRICE_MONITOR_CONFIG": str(elsewhere)})
    assert over_env.exit_code == 0, over_env.output
    from_env = invoke("status", env={"PRICE_MONITOR_CONFIG": str(config)})
    assert from_env.exit_code == 0 and "PHONE-1" in from_env.stdout
    # The same file twice is the same file; two different ones: which was meant?
    assert invoke("-c", str(config), "status", "-c", str(config)).exit_code == 0
    both = invoke("-c", str(elsewhere), "status", "-c", str(config))
    assert both.exit_code == 2
    assert f"{config} differs from the config file given before it ({elsewhere})" in both.stderr


# --- -v: each line once ---------------------------------------------------------------------


def test_check_v_prints_each_line_once(tmp_path: Path, shop: LoopbackShop) -> None:
    url = shop.add("/phone", "4999.00")
    # A 429 that asks for no wait: the retry's debug line comes without a pause.
    shop.script("/phone", Answer(429, b"slow down", {"Retry-After": "0"}))
    config = write_config(
        tmp_path / "config.toml",
        orders=[order_table(url, "PHONE-1")],
        urls=["console://"],
        monitor={"retries": 1},
    )
    result = invoke("-c", str(config), "-v", "check")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    retries = [line for line in lines if "retry 1 in 0.0 s" in line]
    assert len(retries) == 1 and " DEBUG monitor.fetch: " in retries[0]
    # What `check` prints of each product is not logged as well.
    (read,) = [line for line in lines if "PHONE-1: ¥4,999.00" in line]
    assert read.startswith("PHONE-1: ¥4,999.00 (json-ld)")


# --- completion ----------------------------------------------------------------------------


def complete(words: str, env: dict[str, str | None] | None = None) -> list[str]:
    """What bash completes for ``words`` (the word under the cursor is the last, maybe "")."""
    parts = words.split(" ")
    result = CliRunner().invoke(
        cli,
        [],
        prog_name="price-monitor",
        env={
            **CLEAN_ENV,
            "_PRICE_MONITOR_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(parts) - 1),
            **(env or {}),
        },
    )
    assert result.exit_code == 0, result.output
    assert not result.stderr
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if "," in line]


def test_order_ids_complete_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[notify]\nurls = ["console://"]\n'
        + generic_order(5231120712345678)
        + generic_order(5231120799999999)
        + generic_order(1001)
        + '[[orders]]\nid = "BBY01-806512345"\nshop = "bestbuy"\n'
        'url = "https://www.bestbuy.com/site/1.p"\n'
        # A problem elsewhere in the file: completion reads the ids all the same.
        'title = "Headphones"\npaid = "349 dollars"\nordered = 2026-11-20\n',
        "utf-8",
    )
    c = str(config)
    everyone = ["5231120712345678", "5231120799999999", "1001", "BBY01-806512345"]
    assert complete(f"price-monitor -c {c} claim ") == everyone
    assert complete(f"price-monitor -c {c} refunded 52311207") == everyone[:2]
    assert complete(f"price-monitor -c {c} rejected B") == ["BBY01-806512345"]
    assert complete(f"price-monitor -c {c} check 1001 5") == everyone[:2]
    assert complete(f"price-monitor probe -c {c} --order 10") == ["1001"]
    assert complete(f"price-monitor check -c {c} B") == ["BBY01-806512345"]
    assert complete("price-monitor claim ", {"PRICE_MONITOR_CONFIG": c}) == everyone
    # No config, or no file where it points: nothing, and nothing said.
    assert complete(f"price-monitor -c {tmp_path / 'missing.toml'} claim ") == []
    (tmp_path / "broken.toml").write_text("[[orders]\nid =", "utf-8")
    assert complete(f"price-monitor -c {tmp_path / 'broken.toml'} claim ") == []


def test_completion_of_order_ids_loads_no_heavy_library(tmp_path: Path) -> None:
    """It runs on every Tab press: no Apprise, no HTML parser, no database."""
    import json
    import os
    import subprocess
    import sys

    config = tmp_path / "config.toml"
    config.write_text(generic_order(1001), "utf-8")
    code = (
        "import json, sys\nfrom monitor.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "_PRICE_MONITOR_COMPLETE": "bash_complete",
            "COMP_WORDS": f"price-monitor -c {config} claim 10",
            "COMP_CWORD": "4",
        },
    )
    first, last = done.stdout.splitlines()[0], done.stdout.splitlines()[-1]
    assert first == "plain,1001"
    loaded = set(json.loads(last))
    assert not loaded & {"apprise", "selectolax", "httpx", "sqlite_utils", "pydantic"}, loaded
