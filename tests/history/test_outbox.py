"""The outbox, on real SQLite files: one alert per dedupe key, retries, sent alerts."""

from __future__ import annotations

from dataclasses import replace
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
    lowest, _ = history.outbox.claim_prices("O-1", "CNY")
    assert lowest == Money(Decimal("4499.00"), "CNY")
    assert history.outbox.claim_prices("O-1", "USD") == (None, None)


def test_claim_prices_are_the_lowest_named_and_the_latest_asked(tmp_path: Path) -> None:
    history = History.open(tmp_path / "state.db")
    pid = history.product_id("https://shop/p", None, now=T0)
    cny = lambda amount: Money(Decimal(amount), "CNY")  # noqa: E731
    first = replace(message("k1", "4499.00"), asked=cny("500.00"))
    further = replace(message("k2", "4599.00", AlertKind.FURTHER_DROP), asked=cny("100.00"))
    history.record(pid, price("4499.00", T0), [first])
    history.record(pid, price("4599.00", T0), [further])
    assert history.outbox.claim_prices("O-1", "CNY") == (cny("4499.00"), cny("100.00"))


def test_needs_review_alerts_do_not_count_as_claimed_prices(tmp_path: Path) -> None:
    history = History.open(tmp_path / "state.db")
    pid = history.product_id("https://shop/p", None, now=T0)
    history.record(pid, price("99.00", T0), [message("r", "99.00", AlertKind.NEEDS_REVIEW)])
    assert history.outbox.claim_prices("O-1", "CNY") == (None, None)


def test_failed_sends_wait_for_their_retry_time_and_sent_ones_leave_the_queue(
    tmp_path: Path,
) -> None:
    history = History.open(tmp_path / "state.db")
    pid = history.product_id("https://shop/p", None, now=T0)
    history.record(pid, price("4599.00", T0), [message("k1", "4599.00")])
    entry = history.outbox.lease_next(T0, owner="me")
    assert entry is not None and entry.status is OutboxStatus.SENDING
    assert entry.message.tags == ("family",) and entry.attempts == 0
    history.outbox.mark_failed(
        entry.id, owner="me", error="receiver down", retry_at=T0 + timedelta(minutes=1)
    )
    assert history.outbox.lease_next(T0 + timedelta(seconds=59), owner="me") is None
    again = history.outbox.lease_next(T0 + timedelta(minutes=1), owner="me")
    assert again is not None and (again.attempts, again.last_error) == (1, "receiver down")
    history.outbox.mark_sent(again.id, T0 + timedelta(minutes=1))
    assert history.outbox.lease_next(T0 + timedelta(days=1), owner="me") is None
    assert history.outbox.pending_count() == 0
    (sent,) = history.outbox.entries(status=OutboxStatus.SENT)
    assert (sent.attempts, sent.last_error, sent.sent_at) == (2, None, T0 + timedelta(minutes=1))


def test_one_sender_at_a_time_holds_an_alert_until_its_lease_runs_out(tmp_path: Path) -> None:
    history = History.open(tmp_path / "state.db")
    history.outbox.enqueue([message("k1", "4599.00")], now=T0)
    taken = history.outbox.lease_next(T0, owner="daemon", lease_for=timedelta(minutes=5))
    assert taken is not None
    assert history.outbox.lease_next(T0 + timedelta(minutes=4), owner="check") is None
    assert history.outbox.pending_count() == 1  # still to be sent, while it is being sent
    # The daemon hangs: once its lease runs out, the next sender takes the alert over, and
    # what the daemon records afterwards does not undo the new lease.
    over = history.outbox.lease_next(T0 + timedelta(minutes=5), owner="check")
    assert over is not None and over.id == taken.id
    history.outbox.mark_failed(taken.id, owner="daemon", error="late", retry_at=T0)
    (row,) = history.outbox.entries()
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENDING, 0, None)


def test_an_alert_whose_sender_died_is_queued_again_at_once(tmp_path: Path) -> None:
    history = History.open(tmp_path / "state.db")
    history.outbox.enqueue([message("k1", "4599.00"), message("k2", "4499.00")], now=T0)
    assert history.outbox.lease_next(T0, owner="host/1") is not None
    assert history.outbox.lease_next(T0, owner="host/2") is not None
    assert history.outbox.release_abandoned(alive=lambda owner: owner != "host/1") == 1
    again = history.outbox.lease_next(T0, owner="host/3")
    assert again is not None and again.message.dedupe_key == "k1"
    assert history.outbox.lease_next(T0, owner="host/3") is None  # k2's sender lives


def test_retry_now_takes_given_up_alerts_and_kinds_narrow_the_choice(tmp_path: Path) -> None:
    history = History.open(tmp_path / "state.db")
    history.outbox.enqueue(
        [message("drop", "1.00"), message("closing", "2.00", AlertKind.WINDOW_CLOSING)], now=T0
    )
    drop = history.outbox.lease_next(T0, owner="me")
    assert drop is not None
    history.outbox.mark_failed(drop.id, owner="me", error="x", retry_at=T0, give_up=True)
    urgent = history.outbox.lease_next(T0, owner="me", kinds={AlertKind.WINDOW_CLOSING})
    assert urgent is not None and urgent.message.kind is AlertKind.WINDOW_CLOSING
    assert history.outbox.lease_next(T0, owner="me") is None  # the drop was given up
    retried = history.outbox.lease_next(T0, owner="me", retry_now=True)
    assert retried is not None and retried.id == drop.id


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


def test_a_sender_whose_pid_was_reused_is_known_to_be_gone() -> None:
    from monitor.delivery import sender_alive, sender_name

    me = sender_name()
    host, pid, started = me.split("/")
    assert sender_alive(me)
    # Another process now has the dead sender's pid (pids wrap at 32,768 on many machines):
    # its start time tells them apart, and the lease is taken back at once.
    assert not sender_alive(f"{host}/{pid}/{int(started) - 1}")
    assert sender_alive(f"{host}/{pid}")  # an older version's owner: by its pid alone
    assert sender_alive(f"elsewhere/{pid}/{started}")  # another host's: its lease runs out
