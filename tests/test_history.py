"""`price-monitor history` and its chart, the chart drop alerts attach, and `alerts show`: on
a real config and database, after real checks against a loopback shop."""

from __future__ import annotations

import email.header
import io
import json
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from monitor.testing import JsonReceiver, LoopbackShop, MailSink, run_cli, write_config
from monitor.timeline import sparkline
from tests.scenarios import phone
from tests.test_alerts import email_parts

PHONE = "5231120712345678"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def checked_at(tmp_path: Path, shop: LoopbackShop, urls: list[str], *prices: str) -> Path:
    """The phone order (paid ¥4,999.00, two of them), checked once at each price in turn."""
    url = shop.add("/phone", prices[0])
    config = write_config(tmp_path / "config.toml", orders=[phone(url)], urls=urls)
    for price in prices:
        shop.set_price("/phone", price)
        run_cli(config, "check")
    return config


def test_history_lists_the_runs_with_a_sparkline_the_lowest_and_the_alerts(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    config = checked_at(
        tmp_path, shop, [receiver.url], "4999.00", "4999.00", "4599.00", "4699.00", "4399.00"
    )
    out = run_cli(config, "history", PHONE).stdout.splitlines()
    assert out[0].startswith(f"Xiaomi 14 Pro (order {PHONE}): paid ¥4,999.00; window ")
    (status,) = map(json.loads, run_cli(config, "status", "--json").stdout.splitlines())
    assert out[0].endswith(f", {status['window']}") and "days left" in out[0]
    table = out[2:7]
    header = ["price", "difference", "availability", "first", "seen", "last", "seen", "checks"]
    assert table[0].split() == header
    rows = [line.split() for line in table[1:]]
    assert [(r[0], r[1], r[-1]) for r in rows] == [
        ("¥4,999.00", "0", "2"),  # one run of two checks: the same price adds no row
        ("¥4,599.00", "-¥400.00", "1"),
        ("¥4,699.00", "-¥300.00", "1"),
        ("¥4,399.00", "-¥600.00", "1"),
    ]
    assert out[8] == "prices  █▃▅▁  ¥4,399.00 to ¥4,999.00"
    lowest_at = rows[3][4] + " " + rows[3][5]  # the fourth run's first seen
    assert out[9] == f"lowest  ¥4,399.00, first seen {lowest_at}"
    alerts = out[10:]
    assert [line.split()[3:] for line in alerts] == [
        ["drop", "¥4,599.00", "(#1)"],
        ["further_drop", "¥4,399.00", "(#2)"],
    ]


def test_the_sparkline_scales_the_prices_between_the_lowest_and_the_highest() -> None:
    prices = [Decimal(p) for p in ("10", "20", "30", "40", "80")]
    assert sparkline(prices) == "▁▂▃▄█"  # a step of 10 is one bar of 7 over 70
    assert sparkline([Decimal(p) for p in ("10", "24", "25", "80")]) == "▁▂▃█"  # halves round up
    assert sparkline([Decimal("4999.00")] * 3) == "▄▄▄"
    assert sparkline([]) == ""


def test_plot_writes_a_png_chart(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    config = checked_at(tmp_path, shop, [receiver.url], "4999.00", "4599.00")
    chart = tmp_path / "phone.png"
    out = run_cli(config, "history", PHONE, "--plot", str(chart)).stdout
    assert out.endswith(f"chart: {chart}\n")
    data = chart.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.size) == ("PNG", (800, 400))


def test_plot_without_matplotlib_says_how_to_install_it(
    tmp_path: Path, shop: LoopbackShop, mail: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the extra were not installed
    config = checked_at(tmp_path, shop, [mail.url()], "4599.00")
    refused = run_cli(config, "history", PHONE, "--plot", str(tmp_path / "c.png"), code=1)
    assert "pip install 'price-monitor[plot]'" in refused.output
    assert not (tmp_path / "c.png").exists()
    # And the drop alert went out with the page alone: no chart was drawn.
    assert [p.suffix for p in (tmp_path / "evidence").iterdir()] == [".gz"]
    (message,) = mail.wait_for(1)
    assert [Path(name).suffix for name, _ in email_parts(message)[1]] == [".gz"]


def test_a_drop_alert_by_email_attaches_the_chart_beside_the_page(
    tmp_path: Path, shop: LoopbackShop, mail: MailSink
) -> None:
    config = checked_at(tmp_path, shop, [mail.url()], "4999.00", "4599.00")
    (message,) = mail.wait_for(1)
    assert PHONE in str(email.header.make_header(email.header.decode_header(message["Subject"])))
    _, attachments = email_parts(message)
    names = sorted(name for name, _ in attachments)
    kept = sorted(p.name for p in (tmp_path / "evidence").iterdir())
    assert names == kept and [Path(n).suffix for n in names] == [".gz", ".png"]
    assert names[0].removesuffix(".html.gz") == names[1].removesuffix(".png")  # one stem
    chart = dict(attachments)[names[1]]
    assert chart.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(chart)) as image:
        assert image.size == (800, 400)
    assert "Evidence" not in run_cli(config, "status", "--json").stdout  # JSON has no footer


def test_alerts_show_prints_exactly_what_was_sent(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    config = checked_at(tmp_path, shop, [receiver.url], "4599.00", "4399.00")
    first, second = receiver.wait_for(2)
    # json:// shows no pictures: no chart was drawn for it (it takes tenths of a second).
    assert {p.suffix for p in (tmp_path / "evidence").iterdir()} == {".gz"}
    shown = run_cli(config, "alerts", "show", "1")
    assert shown.stdout == f"{first['title']}\n\n{first['message']}\n"  # one line ends it
    assert "复制给测试商城客服" in shown.stdout and "订单号：5231120712345678" in shown.stdout
    assert shown.stderr.startswith(f"alert 1: drop, order {PHONE}; sent ")
    again = run_cli(config, "alerts", "show", "2").stdout
    assert again == f"{second['title']}\n\n{second['message']}\n"
    markdown = run_cli(config, "alerts", "show", "2", "--markdown").stdout
    assert "```" in markdown and "```" not in again  # the request in a code block, for Telegram
    missing = run_cli(config, "alerts", "show", "9", code=2)
    assert "no alert 9" in missing.output
    # The list and its options work as before.
    listed = run_cli(config, "alerts").stdout.splitlines()
    assert [(line.split()[0], line.split()[3]) for line in listed[1:]] == [
        ("2", "sent"),
        ("1", "sent"),
    ]
    assert run_cli(config, "alerts", "--status", "pending").stdout == (
        "No alerts with status pending.\n"
    )
    assert "retried: 0 sent, 0 failed" in run_cli(config, "alerts", "--retry").stdout
    assert "show ID" in run_cli(config, "alerts", "--help").stdout
    refused = run_cli(config, "alerts", "--retry", "show", "1", code=2)
    assert "not for `show`" in refused.output


def test_alerts_show_masks_secrets_as_the_list_does(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    secret = "8f3aC91e77d24a1b"
    url = f"json://127.0.0.1:{receiver.port}/hook/{secret}"
    config = checked_at(tmp_path, shop, [url], "4599.00")
    (alert,) = receiver.wait_for(1)
    from monitor.config import load_config
    from monitor.history import History
    from monitor.models import AlertKind, Message

    history = History.open(load_config(config).database)
    try:  # an alert whose text quotes the URL (a config-refused alert may quote the file)
        history.outbox.enqueue(
            [Message("config|x", "", AlertKind.CONFIG_REJECTED, "refused", f"line 3: {url}")],
            now=datetime.now(UTC),
        )
    finally:
        history.close()
    shown = run_cli(config, "alerts", "show", "2").stdout
    assert secret not in shown and "line 3: json://127.0.0.1" in shown
    assert run_cli(config, "alerts", "show", "1").stdout.startswith(alert["title"])
