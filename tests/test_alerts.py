"""Alerts that are right and never lost, and the claim workflow, with real receivers."""

from __future__ import annotations

import asyncio
import gzip
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from monitor.channels import Notifier
from monitor.check import Settings, remind
from monitor.cli import cli
from monitor.config import load_config
from monitor.demo import DemoProduct, product_page
from monitor.history import History
from monitor.models import AlertKind, Message, Money
from monitor.notify import QuietHours, deliver_due
from tests.conftest import TEST_SHOPS, MailServer, NotifySocket, Receiver, Shop, write_config

TODAY = datetime.now(UTC).date()


def phone(url: str, **changes: object) -> dict[str, object]:
    return {
        "id": "5231120712345678",
        "shop": "testmall",
        "url": url,
        "title": "Xiaomi 14 Pro",
        "paid": "4999.00",
        "quantity": 2,
        "ordered": TODAY - timedelta(days=2),
        "payment": "installments",
        "installments": 12,
        **changes,
    }


def cli_run(config: Path, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, ["-c", str(config), *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def flapping_shop(httpserver: HTTPServer, prices: list[str]) -> str:
    """A shop whose page shows each price in turn, then the last one forever."""

    def handle(request: Request) -> Response:
        price = prices.pop(0) if len(prices) > 1 else prices[0]
        page = product_page(DemoProduct("/p", "Phone", Decimal(price), "CNY", "S", ()))
        return Response(page, content_type="text/html; charset=utf-8")

    httpserver.expect_request("/p").respond_with_handler(handle)
    return httpserver.url_for("/p")


# --- what goes out, and how --------------------------------------------------------------


def test_email_carries_the_support_request_and_the_page_as_evidence(
    tmp_path: Path, shop: Shop, mail: MailServer
) -> None:
    url = shop.add("/phone", "4599.00")
    config = write_config(
        tmp_path / "config.toml", orders=[phone(url)], urls=[mail.url()], extra=TEST_SHOPS
    )
    cli_run(config, "check")
    (message,) = mail.wait_for(1)
    assert "5231120712345678" in str(email_header(message["Subject"]))
    text, attachments = email_parts(message)
    for fragment in (
        "订单号：5231120712345678",
        "实付单价：¥4,999.00",
        "差价：¥400.00 × 2 = ¥800.00",
        "页面存档：",
    ):
        assert fragment in text, fragment
    ((name, data),) = attachments
    assert name.endswith(".html.gz")
    assert b"4599.00" in gzip.decompress(data)  # the page as the shop served it
    evidence = list((tmp_path / "evidence").glob("*.html.gz"))
    assert [p.name for p in evidence] == [name]


def test_a_flapping_price_alerts_nobody_and_a_confirmed_one_does(
    tmp_path: Path, httpserver: HTTPServer, receiver: Receiver
) -> None:
    url = flapping_shop(httpserver, ["4599.00", "4999.00"])
    config = write_config(
        tmp_path / "config.toml",
        orders=[phone(url)],
        urls=[receiver.url],
        monitor={"confirm": "1s"},
        extra=TEST_SHOPS,
    )
    result = cli_run(config, "check")
    assert "new alert" not in result.output and receiver.requests == 0
    assert len(httpserver.log) == 2  # it did look twice

    httpserver.clear()
    url = flapping_shop(httpserver, ["4599.00", "4599.00"])
    cli_run(config, "check")
    (alert,) = receiver.wait_for(1)
    assert "¥800.00" in alert["title"]


def test_an_implausible_drop_asks_for_a_check_and_is_not_a_claim(
    tmp_path: Path, shop: Shop, receiver: Receiver
) -> None:
    url = shop.add("/phone", "499.00")  # 90 % off: more likely a misread than a real price
    config = write_config(
        tmp_path / "config.toml", orders=[phone(url)], urls=[receiver.url], extra=TEST_SHOPS
    )
    cli_run(config, "check")
    (alert,) = receiver.wait_for(1)
    assert "请人工核实" in alert["title"]
    assert "实付单价" not in alert["message"]  # no support request to paste
    history = History.open(load_config(config).database)
    assert history.last_alerted("5231120712345678", "CNY") is None  # not a claimed price
    history.close()


def test_a_retry_goes_only_to_the_target_that_missed_it(
    tmp_path: Path, shop: Shop, receiver: Receiver
) -> None:
    other = Receiver()
    try:
        other.fail_with = 500
        url = shop.add("/phone", "4599.00")
        config_path = write_config(
            tmp_path / "config.toml",
            orders=[phone(url)],
            urls=[receiver.url, other.url],
            extra=TEST_SHOPS,
        )
        result = cli_run(config_path, "check")
        assert "0 sent, 1 failed" in result.output
        assert len(receiver.wait_for(1)) == 1

        other.fail_with = None
        retried = cli_run(config_path, "alerts", "--retry")
        assert "retried: 1 sent, 0 failed" in retried.output
        assert len(other.wait_for(1)) == 1
        assert receiver.requests == 1  # the target that had it did not get it again
        cli_run(config_path, "alerts", "--retry")
        assert (receiver.requests, other.requests) == (1, 2)
    finally:
        other.close()


def test_quiet_hours_hold_alerts_but_not_window_reminders(
    tmp_path: Path, receiver: Receiver
) -> None:
    history = History.open(tmp_path / "state.db")
    notifier = Notifier(
        load_config(write_config(tmp_path / "c.toml", orders=[], urls=[receiver.url])).notify
    )
    night = datetime(2026, 11, 26, 23, 0, tzinfo=UTC)
    history.enqueue(
        [
            Message("a", "O-1", AlertKind.DROP, "drop", "body", price=Money(Decimal(1), "CNY")),
            Message("b", "O-1", AlertKind.WINDOW_CLOSING, "closing", "body"),
        ],
        now=night,
    )
    quiet = QuietHours(time(22, 0), time(7, 30), ZoneInfo("UTC"))
    report = asyncio.run(deliver_due(history, notifier, clock=lambda: night, quiet=quiet))
    assert (report.sent, report.held) == (1, 1)
    assert [m["title"] for m in receiver.wait_for(1)] == ["closing"]
    morning = datetime(2026, 11, 27, 7, 30, tzinfo=UTC)
    report = asyncio.run(deliver_due(history, notifier, clock=lambda: morning, quiet=quiet))
    assert (report.sent, report.held) == (1, 0)
    assert [m["title"] for m in receiver.wait_for(2)] == ["closing", "drop"]
    history.close()


# --- the window --------------------------------------------------------------------------


def test_the_window_closing_reminder_fires_once_at_the_right_time(
    tmp_path: Path, shop: Shop
) -> None:
    url = shop.add("/phone", "4599.00")
    ordered = TODAY - timedelta(days=2)
    path = write_config(
        tmp_path / "config.toml", orders=[phone(url, ordered=ordered)], urls=[], extra=TEST_SHOPS
    )
    cli_run(path, "check")  # a drop is alerted (and stays pending: no notify URL)
    config = load_config(path)
    history = History.open(config.database)
    settings = Settings.from_config(config)
    window_end = datetime.combine(
        ordered + timedelta(days=16), time.min, tzinfo=ZoneInfo(config.shops["testmall"].timezone)
    )

    assert remind(config, history, now=window_end - timedelta(hours=25), settings=settings) == 0
    assert remind(config, history, now=window_end - timedelta(hours=23), settings=settings) == 1
    assert (
        remind(config, history, now=window_end - timedelta(hours=2), settings=settings) == 0
    )  # once
    closing = [a for a in history.alerts() if a.kind == "window_closing"]
    assert len(closing) == 1
    assert "还剩 23 小时" in closing[0].body and "¥800.00" in closing[0].body

    assert remind(config, history, now=window_end + timedelta(hours=1), settings=settings) == 1
    (closed,) = [a for a in history.alerts() if a.kind == "window_closed"]
    assert "错过 ¥800.00" in closed.body  # nothing was claimed
    history.close()


def test_no_reminder_when_the_drop_was_claimed(tmp_path: Path, shop: Shop) -> None:
    url = shop.add("/phone", "4599.00")
    path = write_config(tmp_path / "config.toml", orders=[phone(url)], urls=[], extra=TEST_SHOPS)
    cli_run(path, "check")
    cli_run(path, "claim", "5231120712345678")
    config = load_config(path)
    history = History.open(config.database)
    end = datetime.combine(
        TODAY + timedelta(days=14), time.min, tzinfo=ZoneInfo(config.shops["testmall"].timezone)
    )
    assert (
        remind(config, history, now=end - timedelta(hours=1), settings=Settings.from_config(config))
        == 0
    )
    history.close()


# --- claims ------------------------------------------------------------------------------


def test_claims_move_through_status_and_savings(tmp_path: Path, shop: Shop) -> None:
    url = shop.add("/phone", "4599.00")
    path = write_config(tmp_path / "config.toml", orders=[phone(url)], urls=[], extra=TEST_SHOPS)
    cli_run(path, "check")
    assert "to claim" in cli_run(path, "savings").stdout
    assert "¥800.00" in cli_run(path, "savings").stdout.splitlines()[1]

    claimed = cli_run(path, "claim", "5231120712345678", "--note", "ticket 42")
    assert "claimed ¥800.00 at ¥4,599.00 each" in claimed.output
    assert "claimed" in cli_run(path, "status").stdout
    row = cli_run(path, "savings").stdout.splitlines()[1].split()
    assert row == ["CNY", "-", "¥800.00", "-", "-", "-"]  # pending

    shop.set_price("/phone", "4599.00")
    result = cli_run(path, "check")  # the claimed price again: nothing new
    assert "new alert" not in result.output
    shop.set_price("/phone", "4499.00")
    result = cli_run(path, "check")  # lower than the claim: you can claim more
    assert "1 new alert" in result.output

    cli_run(path, "refunded", "5231120712345678", "--amount", "800")
    row = cli_run(path, "savings").stdout.splitlines()[1].split()
    assert row == ["CNY", "¥800.00", "-", "-", "-", "-"]
    assert "refunded" in cli_run(path, "status").stdout

    cli_run(path, "rejected", "5231120712345678", "--reason", "flash sale")
    assert "rejected" in cli_run(path, "status").stdout


def test_claim_needs_an_amount_when_no_drop_was_alerted(tmp_path: Path, shop: Shop) -> None:
    url = shop.add("/phone", "4999.00")
    path = write_config(tmp_path / "config.toml", orders=[phone(url)], urls=[], extra=TEST_SHOPS)
    result = cli_run(path, "claim", "5231120712345678", code=2)
    assert "give --amount" in result.output
    assert "unknown order NOPE" in cli_run(path, "claim", "NOPE", code=2).output
    assert (
        "expected an amount like 400.00"
        in cli_run(path, "refunded", "5231120712345678", "--amount", "1,000", code=2).output
    )


# --- failing checks, the outbox commands ---------------------------------------------------


def test_checks_failing_after_n_unknowns_and_recovered_after(
    tmp_path: Path, shop: Shop, receiver: Receiver
) -> None:
    url = shop.add("/phone", "4999.00")
    shop.status["/phone"] = 503
    path = write_config(
        tmp_path / "config.toml",
        orders=[phone(url)],
        urls=[receiver.url],
        monitor={"failing_after": 3},
        extra=TEST_SHOPS,
    )
    for _ in range(5):
        cli_run(path, "check")
    (failing,) = receiver.wait_for(1)
    assert "读不到价格" in failing["title"] and "HTTP 503" in failing["message"]
    shop.status["/phone"] = 200
    cli_run(path, "check")
    recovered = receiver.wait_for(2)[1]
    assert "恢复读取" in recovered["title"]
    cli_run(path, "check")
    assert receiver.requests == 2


def test_alerts_lists_the_outbox_and_notify_test_reports_each_target(
    tmp_path: Path, shop: Shop, receiver: Receiver
) -> None:
    url = shop.add("/phone", "4599.00")
    receiver.fail_with = 500
    path = write_config(
        tmp_path / "config.toml", orders=[phone(url)], urls=[receiver.url], extra=TEST_SHOPS
    )
    cli_run(path, "check")
    header, row = cli_run(path, "alerts").stdout.splitlines()[:2]
    assert header.split()[:5] == ["id", "created", "status", "tries", "kind"]
    cells = row.split()
    assert (cells[3], cells[4], cells[5]) == ("pending", "1", "drop")
    assert "failure" in row  # the last error is shown beside the title
    result = cli_run(path, "notify-test", code=1)
    assert "FAIL json://127.0.0.1" in result.output
    receiver.fail_with = None
    result = cli_run(path, "notify-test")
    assert result.output.startswith("ok   json://127.0.0.1")
    assert "price-monitor test" in receiver.wait_for(1)[0]["title"]


def test_user_templates_are_checked_when_the_config_loads(
    tmp_path: Path, shop: Shop, receiver: Receiver
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "support.zh.txt").write_text("订单 {ordr_id}\n", "utf-8")
    url = shop.add("/phone", "4599.00")
    path = write_config(
        tmp_path / "config.toml", orders=[phone(url)], urls=[receiver.url], extra=TEST_SHOPS
    )
    text = path.read_text().replace("[notify]\n", f'[notify]\ntemplates = "{folder}"\n')
    path.write_text(text)
    result = cli_run(path, "config", "check", code=2)
    assert "notify.templates: support.zh.txt: unknown field {ordr_id}" in result.output

    (folder / "support.zh.txt").write_text("我的模板：订单 {order_id}，差价 {total}\n", "utf-8")
    cli_run(path, "check")
    (alert,) = receiver.wait_for(1)
    assert "我的模板：订单 5231120712345678，差价 ¥800.00" in alert["message"]


# --- a crash between enqueue and send -----------------------------------------------------


def test_sigkill_between_enqueue_and_send_still_delivers_exactly_once(
    tmp_path: Path, shop: Shop, receiver: Receiver
) -> None:
    url = shop.add("/phone", "4599.00")
    now = datetime.now(UTC)
    quiet = f"{(now - timedelta(hours=1)):%H:00}-{(now + timedelta(hours=2)):%H:00}"
    path = write_config(
        tmp_path / "config.toml",
        orders=[phone(url)],
        urls=[receiver.url],
        monitor={"timezone": "UTC"},
        extra=TEST_SHOPS,
    )
    path.write_text(path.read_text().replace("[notify]\n", f'[notify]\nquiet_hours = "{quiet}"\n'))
    log = (tmp_path / "daemon.log").open("w")
    notify = NotifySocket()
    daemon = subprocess.Popen(
        [sys.executable, "-m", "monitor", "-c", str(path), "run"],
        stdout=log,
        stderr=log,
        env={**os.environ, "NOTIFY_SOCKET": notify.path},
    )
    try:
        # The daemon reports "1 alert pending" once the alert is in the outbox.
        notify.wait_for_status("1 alert pending")
        daemon.send_signal(signal.SIGKILL)  # in the outbox, held back by quiet hours
        daemon.wait(timeout=10)
    finally:
        if daemon.poll() is None:
            daemon.kill()
        notify.close()
    assert receiver.requests == 0
    with sqlite3.connect(tmp_path / "state.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    path.write_text(path.read_text().replace(f'quiet_hours = "{quiet}"\n', ""))
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "-c", str(path), "alerts", "--retry"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "retried: 1 sent" in done.stdout, done.stdout + done.stderr
    assert len(receiver.wait_for(1)) == 1
    cli_run(path, "alerts", "--retry")
    assert receiver.requests == 1
    log.close()


def email_header(value: str) -> str:
    from email.header import decode_header, make_header

    return str(make_header(decode_header(value)))


def email_parts(message: object) -> tuple[str, list[tuple[str, bytes]]]:
    text, attachments = "", []
    for part in message.walk():  # type: ignore[attr-defined]
        filename = part.get_filename()
        if filename:
            attachments.append((filename, part.get_payload(decode=True)))
        elif part.get_content_type() == "text/plain":
            text += part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return text, attachments
