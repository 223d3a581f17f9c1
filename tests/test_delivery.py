"""Delivering the outbox: how long a failed send waits, and a backlog larger than a batch."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from monitor.channels import Notifier
from monitor.config import NotifyTarget
from monitor.delivery import deliver_due, retry_delay
from monitor.history import History
from monitor.models import AlertKind, Message, Money

T0 = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


def message(key: str, amount: str) -> Message:
    return Message(
        key, "O-1", AlertKind.DROP, f"title {key}", "body", (), Money(Decimal(amount), "CNY")
    )


def test_retries_back_off_doubling_up_to_six_hours() -> None:
    assert [retry_delay(n) for n in (1, 2, 3)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
    ]
    assert retry_delay(50) == timedelta(hours=6)


def test_a_backlog_larger_than_one_batch_is_delivered_whole(tmp_path: Path) -> None:
    history = History.open(tmp_path / "state.db")
    untagged = [message(f"k{i}", f"{i}.00") for i in range(1, 251)]
    history.outbox.enqueue(untagged, now=T0)
    notifier = Notifier([NotifyTarget(url="console://")])
    report = asyncio.run(deliver_due(history.outbox, notifier, clock=lambda: T0))
    assert report.sent == 250
    assert history.outbox.pending_count() == 0
