"""The state database, on real SQLite files: run-length history, the outbox, migrations."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from monitor.history import History
from monitor.models import AlertKind, Extraction, Message, Money, Observation, Status

T0 = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


def price(amount: str, at: datetime) -> Observation:
    return Observation(
        "https://shop/p", at, Extraction(Status.PRICE, price=Money(Decimal(amount), "CNY"))
    )


def unknown(at: datetime) -> Observation:
    return Observation("https://shop/p", at, Extraction(Status.UNKNOWN, reason="HTTP 503"))


def message(key: str, amount: str, kind: AlertKind = AlertKind.DROP) -> Message:
    return Message(
        key, "O-1", kind, f"title {key}", "body", ("family",), Money(Decimal(amount), "CNY")
    )


def test_an_unchanged_price_adds_no_row(tmp_path: Path) -> None:
    history = History.open(tmp_path / "state.db")
    pid = history.product_id("https://shop/p", None, now=T0)
    for i in range(5):
        history.record(pid, price("4999.00", T0 + timedelta(hours=i)))
    history.record(pid, unknown(T0 + timedelta(hours=5)))  # a failed check does not split the run
    history.record(pid, price("4999.0", T0 + timedelta(hours=6)))  # same amount, other spelling
    history.record(pid, price("4599.00", T0 + timedelta(hours=7)))
    runs = history.price_runs(pid)
    assert [(r.price.amount, r.checks) for r in runs] == [
        (Decimal("4999.00"), 6),
        (Decimal("4599.00"), 1),
    ]
    assert runs[0].first_seen == T0 and runs[0].last_seen == T0 + timedelta(hours=6)
    count = history.db.execute("SELECT count(*) FROM prices").fetchone()[0]
    assert count == 2


def test_failures_in_a_row_are_counted_and_reset_by_a_price(tmp_path: Path) -> None:
    history = History.open(tmp_path / "state.db")
    pid = history.product_id("https://shop/p", "SKU", now=T0)
    history.record(pid, unknown(T0))
    history.record(pid, unknown(T0 + timedelta(hours=1)))
    state = history.product_state(pid)
    assert (state.failures, state.last_status, state.last_reason) == (2, "unknown", "HTTP 503")
    history.record(pid, price("1.00", T0 + timedelta(hours=2)))
    assert history.product_state(pid).failures == 0


def test_the_outbox_keeps_one_alert_per_dedupe_key(tmp_path: Path) -> None:
    history = History.open(tmp_path / "state.db")
    pid = history.product_id("https://shop/p", None, now=T0)
    assert history.record(pid, price("4599.00", T0), [message("k1", "4599.00")]) == 1
    assert history.record(pid, price("4599.00", T0), [message("k1", "4599.00")]) == 0
    assert (
        history.record(
            pid, price("4499.00", T0), [message("k2", "4499.00", AlertKind.FURTHER_DROP)]
        )
        == 1
    )
    assert [a.dedupe_key for a in history.alerts()] == ["k2", "k1"]
    assert history.last_alerted("O-1", "CNY") == Money(Decimal("4499.00"), "CNY")
    assert history.last_alerted("O-1", "USD") is None


def test_needs_review_alerts_do_not_count_as_claimed_prices(tmp_path: Path) -> None:
    history = History.open(tmp_path / "state.db")
    pid = history.product_id("https://shop/p", None, now=T0)
    history.record(pid, price("99.00", T0), [message("r", "99.00", AlertKind.NEEDS_REVIEW)])
    assert history.last_alerted("O-1", "CNY") is None


def test_failed_sends_wait_for_their_retry_time_and_sent_ones_leave_the_queue(
    tmp_path: Path,
) -> None:
    history = History.open(tmp_path / "state.db")
    pid = history.product_id("https://shop/p", None, now=T0)
    history.record(pid, price("4599.00", T0), [message("k1", "4599.00")])
    (entry,) = history.due_alerts(T0)
    assert entry.tags == ("family",) and entry.attempts == 0
    history.mark_failed(entry.id, error="receiver down", retry_at=T0 + timedelta(minutes=1))
    assert history.due_alerts(T0 + timedelta(seconds=59)) == []
    (again,) = history.due_alerts(T0 + timedelta(minutes=1))
    assert (again.attempts, again.last_error) == (1, "receiver down")
    history.mark_sent(again.id, T0 + timedelta(minutes=1))
    assert history.due_alerts(T0 + timedelta(days=1)) == []
    assert history.pending_count() == 0
    (sent,) = history.alerts(status="sent")
    assert (sent.attempts, sent.last_error, sent.sent_at) == (2, None, T0 + timedelta(minutes=1))


def test_reopening_applies_no_migration_twice_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    history = History.open(path)
    pid = history.product_id("https://shop/p", None, now=T0)
    history.record(pid, price("1.00", T0))
    history.close()
    history = History.open(path)
    assert history.price_runs(pid)[0].price.amount == Decimal("1.00")
    history.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == 1
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_naive_times_are_refused(tmp_path: Path) -> None:
    history = History.open(tmp_path / "state.db")
    try:
        history.product_id("https://shop/p", None, now=datetime(2026, 1, 1))  # noqa: DTZ001
    except ValueError as exc:
        assert "timezone-aware" in str(exc)
    else:
        raise AssertionError("a naive datetime was stored")


def test_a_backlog_larger_than_one_batch_is_delivered_whole(tmp_path: Path) -> None:
    import asyncio

    from monitor.channels import Notifier
    from monitor.config import NotifyTarget
    from monitor.notify import deliver_due

    history = History.open(tmp_path / "state.db")
    untagged = [replace(message(f"k{i}", f"{i}.00"), tags=()) for i in range(1, 251)]
    history.enqueue(untagged, now=T0)
    notifier = Notifier([NotifyTarget(url="console://")])
    report = asyncio.run(deliver_due(history, notifier, clock=lambda: T0))
    assert report.sent == 250
    assert history.pending_count() == 0
