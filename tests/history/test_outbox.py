"""The outbox, on real SQLite files: one alert per dedupe key, retries, sent alerts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from monitor.history import History
from monitor.models import AlertKind, Message, Money, OutboxStatus
from tests.history.test_store import T0, price


def message(key: str, amount: str, kind: AlertKind = AlertKind.DROP) -> Message:
    return Message(
        key, "O-1", kind, f"title {key}", "body", ("family",), Money(Decimal(amount), "CNY")
    )


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
    assert [a.message.dedupe_key for a in history.outbox.entries()] == ["k2", "k1"]
    assert history.outbox.last_alerted("O-1", "CNY") == Money(Decimal("4499.00"), "CNY")
    assert history.outbox.last_alerted("O-1", "USD") is None


def test_needs_review_alerts_do_not_count_as_claimed_prices(tmp_path: Path) -> None:
    history = History.open(tmp_path / "state.db")
    pid = history.product_id("https://shop/p", None, now=T0)
    history.record(pid, price("99.00", T0), [message("r", "99.00", AlertKind.NEEDS_REVIEW)])
    assert history.outbox.last_alerted("O-1", "CNY") is None


def test_failed_sends_wait_for_their_retry_time_and_sent_ones_leave_the_queue(
    tmp_path: Path,
) -> None:
    history = History.open(tmp_path / "state.db")
    pid = history.product_id("https://shop/p", None, now=T0)
    history.record(pid, price("4599.00", T0), [message("k1", "4599.00")])
    (entry,) = history.outbox.due(T0)
    assert entry.message.tags == ("family",) and entry.attempts == 0
    history.outbox.mark_failed(entry.id, error="receiver down", retry_at=T0 + timedelta(minutes=1))
    assert history.outbox.due(T0 + timedelta(seconds=59)) == []
    (again,) = history.outbox.due(T0 + timedelta(minutes=1))
    assert (again.attempts, again.last_error) == (1, "receiver down")
    history.outbox.mark_sent(again.id, T0 + timedelta(minutes=1))
    assert history.outbox.due(T0 + timedelta(days=1)) == []
    assert history.outbox.pending_count() == 0
    (sent,) = history.outbox.entries(status=OutboxStatus.SENT)
    assert (sent.attempts, sent.last_error, sent.sent_at) == (2, None, T0 + timedelta(minutes=1))


def test_a_target_that_received_an_alert_is_recorded_once(tmp_path: Path) -> None:
    history = History.open(tmp_path / "state.db")
    history.outbox.enqueue([message("k1", "4599.00")], now=T0)
    (entry,) = history.outbox.due(T0)
    history.outbox.mark_delivered(entry.id, "target-a")
    history.outbox.mark_delivered(entry.id, "target-a")  # a retry that reached it again
    history.outbox.mark_delivered(entry.id, "target-b")
    (entry,) = history.outbox.due(T0)
    assert entry.delivered == ("target-a", "target-b")
    assert entry.status is OutboxStatus.PENDING  # sent only once every target has it
