"""Alerts that are right and never lost, and the claim workflow, with real receivers."""

from __future__ import annotations

import asyncio
import gzip
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.channels import Notifier
from monitor.check import remind
from monitor.config import load_config
from monitor.delivery import deliver_due
from monitor.history import History
from monitor.models import AlertKind, Message, Money, QuietHours
from monitor.testing import (
    DaemonProcess,
    JsonReceiver,
    LoopbackShop,
    MailSink,
    NotifySocket,
    run_cli,
    write_config,
)
from tests.scenarios import phone

TODAY = datetime.now(UTC).date()


# --- what goes out, and how --------------------------------------------------------------


def test_email_carries_the_support_request_and_the_page_as_evidence(
    tmp_path: Path, shop: LoopbackShop, mail: MailSink
) -> None:
    url = shop.add("/phone", "4599.00")
    config = write_config(tmp_path / "config.toml", orders=[phone(url)], urls=[mail.url()])
    run_cli(config, "check")
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
    # The page; and beside it the price chart, when matplotlib is installed (test_history).
    ((name, data),) = [(n, d) for n, d in attachments if not n.endswith(".png")]
    assert name.endswith(".html.gz")
    assert b"4599.00" in gzip.decompress(data)  # the page as the shop served it
    evidence = list((tmp_path / "evidence").glob("*.html.gz"))
    assert [p.name for p in evidence] == [name]


def test_a_flapping_price_alerts_nobody_and_a_confirmed_one_does(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/p", "4999.00")
    shop.script("/p", "4599.00")  # the drop shows once; the confirmation reads 4999.00 again
    config = write_config(
        tmp_path / "config.toml",
        orders=[phone(url)],
        urls=[receiver.url],
        monitor={"confirm": "1s"},
    )
    result = run_cli(config, "check")
    assert "new alert" not in result.output and receiver.requests == 0
    assert shop.requests("/p") == 2  # it did look twice

    shop.set_price("/p", "4599.00")  # a drop that stays
    run_cli(config, "check")
    (alert,) = receiver.wait_for(1)
    assert "¥800.00" in alert["title"]


def test_an_implausible_drop_asks_for_a_check_and_is_not_a_claim(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/phone", "499.00")  # 90 % off: more likely a misread than a real price
    config = write_config(tmp_path / "config.toml", orders=[phone(url)], urls=[receiver.url])
    run_cli(config, "check")
    (alert,) = receiver.wait_for(1)
    assert "请人工核实" in alert["title"]
    assert "实付单价" not in alert["message"]  # no support request to paste
    history = History.open(load_config(config).database)
    # Not a claimed price, and nothing asked for:
    assert history.outbox.claim_prices("5231120712345678", "CNY") == (None, None)
    history.close()


def test_a_retry_goes_only_to_the_target_that_missed_it(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    other = JsonReceiver()
    try:
        other.fail_with = 500
        url = shop.add("/phone", "4599.00")
        config_path = write_config(
            tmp_path / "config.toml",
            orders=[phone(url)],
            urls=[receiver.url, other.url],
        )
        result = run_cli(config_path, "check")
        assert "0 sent, 1 failed" in result.output
        assert len(receiver.wait_for(1)) == 1

        other.fail_with = None
        retried = run_cli(config_path, "alerts", "--retry")
        assert "retried: 1 sent, 0 failed" in retried.output
        assert len(other.wait_for(1)) == 1
        assert receiver.requests == 1  # the target that had it did not get it again
        run_cli(config_path, "alerts", "--retry")
        assert (receiver.requests, other.requests) == (1, 2)
    finally:
        other.close()


def test_quiet_hours_hold_alerts_but_not_window_reminders(
    tmp_path: Path, receiver: JsonReceiver
) -> None:
    history = History.open(tmp_path / "state.db")
    config = load_config(write_config(tmp_path / "c.toml", orders=[], urls=[receiver.url]))
    notifier = Notifier(config.notify.urls)
    night = datetime(2026, 11, 26, 23, 0, tzinfo=UTC)
    history.outbox.enqueue(
        [
            Message("a", "O-1", AlertKind.DROP, "drop", "body", price=Money(Decimal(1), "CNY")),
            Message("b", "O-1", AlertKind.WINDOW_CLOSING, "closing", "body"),
        ],
        now=night,
    )
    quiet = QuietHours(time(22, 0), time(7, 30), ZoneInfo("UTC"))
    report = asyncio.run(deliver_due(history.outbox, notifier, clock=lambda: night, quiet=quiet))
    assert (report.sent, report.held) == (1, 1)
    assert [m["title"] for m in receiver.wait_for(1)] == ["closing"]
    morning = datetime(2026, 11, 27, 7, 30, tzinfo=UTC)
    report = asyncio.run(deliver_due(history.outbox, notifier, clock=lambda: morning, quiet=quiet))
    assert (report.sent, report.held) == (1, 0)
    assert [m["title"] for m in receiver.wait_for(2)] == ["closing", "drop"]
    history.close()


# --- the window --------------------------------------------------------------------------


def test_the_window_closing_reminder_fires_once_at_the_right_time(
    tmp_path: Path, shop: LoopbackShop
) -> None:
    url = shop.add("/phone", "4599.00")
    ordered = TODAY - timedelta(days=2)
    path = write_config(tmp_path / "config.toml", orders=[phone(url, ordered=ordered)], urls=[])
    run_cli(path, "check")  # a drop is alerted (and stays pending: no notify URL)
    config = load_config(path)
    history = History.open(config.database)
    window_end = datetime.combine(
        ordered + timedelta(days=16), time.min, tzinfo=ZoneInfo(config.shops["testmall"].timezone)
    )

    assert remind(config, history, now=window_end - timedelta(hours=25)) == 0
    assert remind(config, history, now=window_end - timedelta(hours=23)) == 1
    assert remind(config, history, now=window_end - timedelta(hours=2)) == 0  # once
    closing = [m for m in messages(history) if m.kind == AlertKind.WINDOW_CLOSING]
    assert len(closing) == 1
    assert "还剩 23 小时" in closing[0].body and "¥800.00" in closing[0].body

    assert remind(config, history, now=window_end + timedelta(hours=1)) == 1
    (closed,) = [m for m in messages(history) if m.kind == AlertKind.WINDOW_CLOSED]
    assert "错过 ¥800.00" in closed.body  # nothing was claimed
    history.close()


def test_no_reminder_when_the_drop_was_claimed(tmp_path: Path, shop: LoopbackShop) -> None:
    url = shop.add("/phone", "4599.00")
    path = write_config(tmp_path / "config.toml", orders=[phone(url)], urls=[])
    run_cli(path, "check")
    run_cli(path, "claim", "5231120712345678")
    config = load_config(path)
    history = History.open(config.database)
    end = datetime.combine(
        TODAY + timedelta(days=14), time.min, tzinfo=ZoneInfo(config.shops["testmall"].timezone)
    )
    assert remind(config, history, now=end - timedelta(hours=1)) == 0
    history.close()


# --- claims ------------------------------------------------------------------------------


def test_claims_move_through_status_and_savings(tmp_path: Path, shop: LoopbackShop) -> None:
    url = shop.add("/phone", "4599.00")
    path = write_config(tmp_path / "config.toml", orders=[phone(url)], urls=[])
    run_cli(path, "check")
    assert "to claim" in run_cli(path, "savings").stdout
    assert "¥800.00" in run_cli(path, "savings").stdout.splitlines()[1]

    claimed = run_cli(path, "claim", "5231120712345678", "--note", "ticket 42")
    assert "claimed ¥800.00 at ¥4,599.00 each" in claimed.output
    assert "claimed" in run_cli(path, "status").stdout
    row = run_cli(path, "savings").stdout.splitlines()[1].split()
    assert row == ["CNY", "-", "¥800.00", "-", "-", "-"]  # pending

    shop.set_price("/phone", "4599.00")
    result = run_cli(path, "check")  # the claimed price again: nothing new
    assert "new alert" not in result.output
    shop.set_price("/phone", "4499.00")
    result = run_cli(path, "check")  # lower than the claim: you can claim more
    assert "1 new alert" in result.output

    run_cli(path, "refunded", "5231120712345678", "--amount", "800")
    row = run_cli(path, "savings").stdout.splitlines()[1].split()
    assert row == ["CNY", "¥800.00", "-", "¥200.00", "-", "-"]  # the further 2 x 100 is owed
    assert "refunded" in run_cli(path, "status").stdout

    result = run_cli(path, "rejected", "5231120712345678", code=2)  # nothing waits for an answer
    assert "no claim on 5231120712345678 waits for an answer" in result.output
    claimed = run_cli(path, "claim", "5231120712345678")  # what the further drop asked for
    assert "claimed ¥200.00 at ¥4,499.00 each" in claimed.output
    run_cli(path, "rejected", "5231120712345678", "--reason", "flash sale")
    assert "rejected" in run_cli(path, "status").stdout
    row = run_cli(path, "savings").stdout.splitlines()[1].split()
    assert row == ["CNY", "¥800.00", "-", "-", "-", "¥200.00"]


def test_claim_needs_an_amount_when_no_drop_was_alerted(tmp_path: Path, shop: LoopbackShop) -> None:
    url = shop.add("/phone", "4999.00")
    path = write_config(tmp_path / "config.toml", orders=[phone(url)], urls=[])
    result = run_cli(path, "claim", "5231120712345678", code=2)
    assert "give --amount" in result.output
    assert "unknown order NOPE" in run_cli(path, "claim", "NOPE", code=2).output
    assert (
        "expected an amount like 400.00"
        in run_cli(path, "refunded", "5231120712345678", "--amount", "1,000", code=2).output
    )


# --- failing checks, the outbox commands ---------------------------------------------------


def test_checks_failing_after_n_unknowns_and_recovered_after(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/phone", "4999.00")
    shop.set_status("/phone", 503)
    path = write_config(
        tmp_path / "config.toml",
        orders=[phone(url)],
        urls=[receiver.url],
        monitor={"failing_after": 3},
    )
    for _ in range(5):
        run_cli(path, "check")
    (failing,) = receiver.wait_for(1)
    assert "读不到价格" in failing["title"] and "HTTP 503" in failing["message"]
    shop.set_status("/phone", None)
    run_cli(path, "check")
    recovered = receiver.wait_for(2)[1]
    assert "恢复读取" in recovered["title"]
    run_cli(path, "check")
    assert receiver.requests == 2


def test_alerts_lists_the_outbox_and_notify_test_reports_each_target(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/phone", "4599.00")
    receiver.fail_with = 500
    path = write_config(tmp_path / "config.toml", orders=[phone(url)], urls=[receiver.url])
    run_cli(path, "check", code=1)
    header, row = run_cli(path, "alerts").stdout.splitlines()[:2]
    assert header.split()[:5] == ["id", "created", "status", "tries", "kind"]
    cells = row.split()
    assert (cells[3], cells[4], cells[5]) == ("pending", "1", "drop")
    assert "failure" in row  # the last error is shown beside the title
    result = run_cli(path, "notify-test", code=1)
    assert "FAIL json://127.0.0.1" in result.output
    receiver.fail_with = None
    result = run_cli(path, "notify-test")
    assert result.output.startswith("ok   json://127.0.0.1")
    assert "price-monitor test" in receiver.wait_for(1)[0]["title"]


def test_user_templates_are_checked_when_the_config_loads(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "support.zh.txt").write_text("订单 {ordr_id}\n", "utf-8")
    url = shop.add("/phone", "4599.00")
    path = write_config(tmp_path / "config.toml", orders=[phone(url)], urls=[receiver.url])
    text = path.read_text().replace("[notify]\n", f'[notify]\ntemplates = "{folder}"\n')
    path.write_text(text)
    result = run_cli(path, "config", "check", code=2)
    assert "notify.templates: support.zh.txt: unknown field {ordr_id}" in result.output

    (folder / "support.zh.txt").write_text("我的模板：订单 {order_id}，差价 {total}\n", "utf-8")
    run_cli(path, "check")
    (alert,) = receiver.wait_for(1)
    assert "我的模板：订单 5231120712345678，差价 ¥800.00" in alert["message"]


# --- a crash between enqueue and send -----------------------------------------------------


def test_sigkill_between_enqueue_and_send_still_delivers_exactly_once(
    tmp_path: Path,
    shop: LoopbackShop,
    receiver: JsonReceiver,
    daemon_process: Callable[..., DaemonProcess],
) -> None:
    url = shop.add("/phone", "4599.00")
    now = datetime.now(UTC)
    quiet = f"{(now - timedelta(hours=1)):%H:00}-{(now + timedelta(hours=2)):%H:00}"
    path = write_config(
        tmp_path / "config.toml",
        orders=[phone(url)],
        urls=[receiver.url],
        monitor={"timezone": "UTC"},
    )
    path.write_text(path.read_text().replace("[notify]\n", f'[notify]\nquiet_hours = "{quiet}"\n'))
    notify = NotifySocket()
    try:
        daemon = daemon_process(path, {"NOTIFY_SOCKET": notify.path})
        # The daemon reports "1 alert pending" once the alert is in the outbox.
        notify.wait_for_status("1 alert pending")
        daemon.kill()  # in the outbox, held back by quiet hours
    finally:
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
    run_cli(path, "alerts", "--retry")
    assert receiver.requests == 1


def messages(history: History) -> list[Message]:
    """Every message in the outbox, whatever its status."""
    return [entry.message for entry in history.outbox.entries()]


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
