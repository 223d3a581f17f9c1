"""Evidence that does not pile up: pages and charts are pruned ``keep_evidence`` after their
orders' windows close, never while their alert waits to be sent; by `check` and the daemon."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.config import load_config, parse_config
from monitor.daemon import Daemon
from monitor.errors import ConfigError
from monitor.evidence import KeptFile, kept_files, prunable, prune
from monitor.history import History
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

T0 = datetime(2026, 12, 1, tzinfo=UTC)
KEEP = timedelta(days=30)


def kept(name: str, product_id: int = 1, at: datetime = T0) -> KeptFile:
    return KeptFile(Path("/evidence") / name, product_id, at, 100)


def page_and_chart(stem: str, product_id: int = 1, at: datetime = T0) -> list[KeptFile]:
    return [kept(f"{stem}.html.gz", product_id, at), kept(f"{stem}.png", product_id, at)]


@pytest.mark.parametrize(
    ("now", "unsent", "gone"),
    [
        (T0 + KEEP - timedelta(seconds=1), set(), []),  # the window closed 30 days ago, less 1 s
        (T0 + KEEP, set(), ["a.html.gz", "a.png"]),  # 30 days after: the page and its chart
        (T0 + KEEP * 10, {"/elsewhere/a.html.gz"}, []),  # its alert is still to be sent
        (T0 + KEEP * 10, {"/evidence/a.png"}, []),  # the chart alone holds the page too
    ],
)
def test_what_is_pruned_counts_from_the_end_of_the_window(
    now: datetime, unsent: set[str], gone: list[str]
) -> None:
    files = page_and_chart("a", product_id=1, at=T0 - timedelta(days=10))
    found = prunable(files, deadlines={1: T0}, unsent=unsent, keep=KEEP, now=now)
    assert [f.path.name for f in found] == gone


def test_a_product_no_order_has_any_more_counts_from_when_its_page_was_kept() -> None:
    files = page_and_chart("removed", product_id=7, at=T0)
    assert prunable(files, deadlines={1: T0 + KEEP * 5}, unsent=(), keep=KEEP, now=T0 + KEEP) == (
        files
    )
    assert prunable(files, deadlines={}, unsent=(), keep=KEEP, now=T0 + KEEP / 2) == []


def test_keep_evidence_is_a_duration_like_the_others(tmp_path: Path) -> None:
    def parse(value: str) -> timedelta:
        text = f'[monitor]\nkeep_evidence = "{value}"\n'
        return parse_config(text, path=tmp_path / "c.toml").monitor.keep_evidence

    assert parse("7d") == timedelta(days=7)
    assert parse_config("", path=tmp_path / "c.toml").monitor.keep_evidence == KEEP
    with pytest.raises(ConfigError) as caught:
        parse("2w")
    (problem,) = caught.value.problems
    assert str(problem).startswith('monitor.keep_evidence: expected a duration like "2h"')


def test_prune_removes_old_evidence_and_keeps_recent_and_unsent(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver, mail: MailSink
) -> None:
    """Two orders alerted by real checks (to email, so with charts, and to json://): the
    phone's alert was sent, the headphones' is still pending (json:// failed). Pruned with
    ``now`` moved past their windows."""
    phone_url = shop.add("/phone", "4599.00")
    headphones = shop.add("/headphones", "299.00", currency="USD", sku="ANC")
    orders = [
        phone(phone_url),
        order_table(headphones, "BBY-1", paid="349.00", shop="teststore", sku="ANC"),
    ]
    path = write_config(tmp_path / "config.toml", orders=orders, urls=[receiver.url, mail.url()])
    receiver.fail_with = 500
    run_cli(path, "check", "BBY-1")  # json:// missed it: it waits for a retry
    receiver.fail_with = None
    run_cli(path, "check", "5231120712345678")  # sent at once
    evidence = tmp_path / "evidence"
    (evidence / "notes.txt").write_text("mine")  # a file of the user's: never ours to delete
    before = {f.path.name: f.product_id for f in kept_files(evidence)}
    assert len(before) == 4  # a page and a chart for each
    closes = {
        row["order"]: datetime.fromisoformat(row["window_closes_at"])
        for row in map(json.loads, run_cli(path, "status", "--json").stdout.splitlines())
    }
    phone_closes, last = closes["5231120712345678"], max(closes.values())
    config = load_config(path)
    history = History.open(config.database)
    try:
        assert prune(config, history, now=phone_closes + KEEP - timedelta(minutes=1)).files == 0
        assert sorted(p.name for p in evidence.iterdir()) == sorted([*before, "notes.txt"])
        pruned = prune(config, history, now=last + KEEP * 3)
        assert pruned.files == 2  # the phone's page and chart; the pending alert's stay
        left = {f.path.name: f.product_id for f in kept_files(evidence)}
        assert len(left) == 2 and len(set(left.values())) == 1
        assert set(left) < set(before) and (evidence / "notes.txt").exists()
        (pending,) = [e for e in history.outbox.entries() if e.message.order_id == "BBY-1"]
        assert sorted(Path(a).name for a in pending.message.attachments) == sorted(left)
    finally:
        history.close()
    run_cli(path, "alerts", "--retry")  # now it is sent, and its evidence may go too
    history = History.open(config.database)
    try:
        assert prune(config, history, now=last + KEEP).files == 2
    finally:
        history.close()
    assert [p.name for p in evidence.iterdir()] == ["notes.txt"]


def closed_order_with_old_evidence(tmp_path: Path, shop: LoopbackShop) -> tuple[Path, Path]:
    """An order whose window closed 45 days ago, and a page kept for it then: past due."""
    url = shop.add("/old", "89.00")
    path = write_config(
        tmp_path / "config.toml",
        orders=[order_table(url, "OLD-1", paid="99.00", ordered=today() - timedelta(days=60))],
        urls=[],
    )
    config = load_config(path)
    history = History.open(config.database)
    try:
        product_id = history.sync_orders(config.orders, now=datetime.now(UTC))["OLD-1"]
    finally:
        history.close()
    config.evidence_dir.mkdir(mode=0o700)
    old = config.evidence_dir / f"product-{product_id}-20250101T000000Z-0123456789ab.html.gz"
    old.write_bytes(b"old page")
    return path, old


def test_check_prunes_at_its_end(tmp_path: Path, shop: LoopbackShop) -> None:
    path, old = closed_order_with_old_evidence(tmp_path, shop)
    chart = old.with_name(old.name.replace(".html.gz", ".png"))
    chart.write_bytes(b"its chart")
    # The window closed 45 days ago: kept 90 days, the page and its chart stay.
    longer = path.read_text().replace("retries = 0", 'retries = 0\nkeep_evidence = "90d"')
    path.write_text(longer)
    run_cli(path, "check")
    assert old.exists() and chart.exists()
    path.write_text(longer.replace('keep_evidence = "90d"', 'keep_evidence = "30d"'))
    result = run_cli(path, "check")
    assert "Nothing to check" in result.output
    assert not old.exists() and not chart.exists()
    assert load_config(path).evidence_dir.is_dir()  # the folder itself stays


def test_the_daemon_prunes_when_it_starts(
    tmp_path: Path, shop: LoopbackShop, caplog: pytest.LogCaptureFixture
) -> None:
    path, old = closed_order_with_old_evidence(tmp_path, shop)
    pruned = threading.Event()

    class Seen(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("evidence: deleted 1 file"):
                pruned.set()

    caplog.set_level(logging.INFO, logger="monitor.evidence")
    seen = Seen()
    logging.getLogger("monitor.evidence").addHandler(seen)

    async def run_until_pruned() -> None:
        async with Daemon(load_config(path), env={}) as daemon:
            running = asyncio.create_task(daemon.run())
            done = await asyncio.to_thread(pruned.wait, 20)
            daemon.stop()
            await running
            assert done, "the daemon did not prune"

    try:
        asyncio.run(run_until_pruned())
    finally:
        logging.getLogger("monitor.evidence").removeHandler(seen)
    assert not old.exists()
