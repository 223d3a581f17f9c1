"""The user's own time, through the real commands: with no ``[monitor] timezone`` on a machine
in Tokyo, alerts, tables and log lines are in Tokyo time, and a Shanghai shop's deadline is
named as Beijing Time."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.config import load_config
from monitor.history import History
from monitor.testing import Answer, JsonReceiver, LoopbackShop, run_cli, write_config
from tests.scenarios import phone

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def in_tokyo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")


@pytest.mark.usefixtures("in_tokyo")
def test_a_drop_at_a_shanghai_shop_reads_in_the_users_zone(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/phone", "4599.00")
    config_path = write_config(tmp_path / "config.toml", orders=[phone(url)], urls=[receiver.url])
    assert "timezone" not in config_path.read_text("utf-8").split("[notify]")[0]
    run_cli(config_path, "check")
    (message,) = receiver.wait_for(1)
    body = message["message"]

    seen = re.search(r"发现时间：日本时间 (\d{4}-\d\d-\d\d \d\d:\d\d)\n", body)
    assert seen, body
    # The deadline is the shop's, in Beijing time, with the user's clock an hour ahead.
    deadline = re.search(r"价保截止：北京时间 (\S+) 23:59（你所在时区 (\S+) 00:59），还剩 ", body)
    assert deadline, body
    # The request is for the shop's staff: Beijing time, an hour behind what the user saw.
    tokyo_seen = datetime.strptime(seen.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=TOKYO)
    beijing = tokyo_seen.astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"当前价格：¥4,599.00（北京时间 {beijing:%Y-%m-%d %H:%M} 于 {url} 查看）" in body
    assert "UTC+08:00" not in body

    # `status` shows the last check in the user's zone too.
    config = load_config(config_path)
    history = History.open(config.database)
    try:
        product_id = history.product_id(url, None, now=datetime.now(TOKYO))
        checked = history.product_state(product_id).last_checked_at
    finally:
        history.close()
    assert checked is not None
    status = run_cli(config_path, "status").output
    assert f"{checked.astimezone(TOKYO):%m-%d %H:%M}" in status.splitlines()[1]


@pytest.mark.usefixtures("in_tokyo")
def test_log_lines_are_stamped_in_the_users_zone(tmp_path: Path, shop: LoopbackShop) -> None:
    url = shop.add("/busy", "4999.00")
    # A 429 that asks for no wait: the retry is logged (with -v), and comes at once.
    busy = Answer(429, b"slow down", {"Retry-After": "0"})
    shop.script("/busy", busy)
    config_path = write_config(
        tmp_path / "config.toml", orders=[phone(url)], urls=[], monitor={"retries": 1}
    )
    result = run_cli(config_path, "-v", "check")
    (line,) = [line for line in result.stderr.splitlines() if "HTTP 429" in line]
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+0900 DEBUG monitor", line), line

    kolkata = write_config(
        tmp_path / "kolkata.toml",
        orders=[phone(url)],
        urls=[],
        # the config's zone wins over the machine's
        monitor={"timezone": "Asia/Kolkata", "retries": 1},
    )
    shop.script("/busy", busy)
    result = run_cli(kolkata, "-v", "check")
    (line,) = [line for line in result.stderr.splitlines() if "HTTP 429" in line]
    assert re.match(r"\S+ \S+\+0530 DEBUG", line), line
