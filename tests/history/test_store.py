"""The state database, on real SQLite files: run-length history, failures, migrations."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from monitor.history import History
from monitor.models import Extraction, Money, Observation, Status

T0 = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


def price(amount: str, at: datetime) -> Observation:
    return Observation(
        "https://shop/p", at, Extraction(Status.PRICE, price=Money(Decimal(amount), "CNY"))
    )


def unknown(at: datetime) -> Observation:
    return Observation("https://shop/p", at, Extraction(Status.UNKNOWN, reason="HTTP 503"))


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
    assert (state.failures, state.last_status, state.last_reason) == (2, Status.UNKNOWN, "HTTP 503")
    history.record(pid, price("1.00", T0 + timedelta(hours=2)))
    assert history.product_state(pid).failures == 0


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
        names = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY name")]
        assert names == [
            "0001_initial",
            "0002_outbox_lease",
            "0003_claims_ledger",
            "0004_window_labels",
            "0005_pending_drops",
        ]
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


OPEN_WHEN_TOLD = """
import sys
from pathlib import Path
from monitor.history import History
sys.stdin.read(1)  # every process is started before any opens the database
History.open(Path(sys.argv[1])).close()
"""


def test_processes_opening_a_new_database_at_once_each_migrate_it_or_wait(tmp_path: Path) -> None:
    # The daemon starting while `status` runs: both find a new database. Before the
    # migrations took the write lock, one failed on "UNIQUE constraint failed:
    # _sqlite_migrations" (seen in a CI run of the concurrency test).
    path = tmp_path / "state.db"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_WHEN_TOLD, str(path)],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go")
        process.stdin.close()
    codes = [process.wait(timeout=60) for process in processes]
    errors = [process.stderr.read() for process in processes if process.stderr]
    assert codes == [0] * 8, errors
    with sqlite3.connect(path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY name")]
    assert names == [
        "0001_initial",
        "0002_outbox_lease",
        "0003_claims_ledger",
        "0004_window_labels",
        "0005_pending_drops",
    ]


def test_naive_times_are_refused(tmp_path: Path) -> None:
    history = History.open(tmp_path / "state.db")
    try:
        history.product_id("https://shop/p", None, now=datetime(2026, 1, 1))  # noqa: DTZ001
    except ValueError as exc:
        assert "timezone-aware" in str(exc)
    else:
        raise AssertionError("a naive datetime was stored")


def test_a_lock_held_too_long_says_how_long_it_waited_and_who_may_hold_it(tmp_path: Path) -> None:
    import os

    from monitor.errors import DatabaseLocked
    from monitor.history.schema import daemon_pidfile

    path = tmp_path / "state.db"
    history = History.open(path)
    history.db.execute("PRAGMA busy_timeout = 300")
    daemon_pidfile(path).write_text(f"{os.getpid()}\n")  # a daemon (this process) uses it
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        history.product_id("https://shop/p", None, now=T0)
    except DatabaseLocked as exc:
        assert 0.25 < exc.waited < 5
        assert f"`price-monitor run` (pid {os.getpid()}) uses it" in str(exc)
        assert str(exc).startswith(
            f"the database is locked by another process (waited {exc.waited:.1f} s"
        )
    else:
        raise AssertionError("a write went through a held lock")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    daemon_pidfile(path).unlink()
    assert history.product_id("https://shop/p", None, now=T0) == 1  # the lock is free again


def test_a_database_of_the_first_release_is_brought_up_to_date_with_its_rows(
    tmp_path: Path,
) -> None:
    import sqlite_utils
    from sqlite_utils.migrations import Migrations

    from monitor.history.schema import _initial
    from monitor.models import AlertKind, ClaimState, OutboxStatus

    path = tmp_path / "state.db"
    first_release = Migrations("price-monitor")
    first_release(name="0001_initial")(_initial)
    db = sqlite_utils.Database(path)
    first_release.apply(db)
    db.execute(
        "INSERT INTO alerts (dedupe_key, order_id, kind, title, body, amount, currency, "
        "created_at, next_attempt_at, delivered) VALUES ('O|drop|90.00 USD', 'O', 'drop', 't', "
        "'b', '90.00', 'USD', '2026-11-25T04:00:00.000000+00:00', "
        "'2026-11-25T04:00:00.000000+00:00', '[\"a1b2\"]')"
    )
    db.execute(
        "INSERT INTO claims (order_id, state, price, amount, currency, at) VALUES "
        "('O', 'claimed', '90.00', '10.00', 'USD', '2026-11-25T05:00:00.000000+00:00')"
    )
    db.close()
    history = History.open(path)
    (entry,) = history.outbox.entries()
    assert (entry.status, entry.message.kind, entry.delivered) == (
        OutboxStatus.PENDING,
        AlertKind.DROP,
        ("a1b2",),
    )
    assert history.outbox.lease_next(T0, owner="me") is not None  # it can still be sent
    (claim,) = history.claims("O")
    assert (claim.state, claim.amount, claim.form) == (
        ClaimState.CLAIMED,
        Money(Decimal("10.00"), "USD"),
        None,
    )


def test_quick_work_waits_for_another_process_lock_in_the_thread_not_in_the_loop(
    tmp_path: Path,
) -> None:
    history = History.open(tmp_path / "state.db")
    pid = history.product_id("https://shop/p", None, now=T0)
    other = sqlite3.connect(tmp_path / "state.db", isolation_level=None)

    async def scenario() -> tuple[bool, bool]:
        # Free: the write is done at once, in the loop.
        await history.quick(history.record, pid, price("4999.00", T0))
        other.execute("BEGIN IMMEDIATE")  # a command beside the daemon holds the lock
        recording = asyncio.create_task(
            history.quick(history.record, pid, price("4599.00", T0 + timedelta(hours=1)))
        )
        for _ in range(20):  # the loop goes on turning while the write waits in the thread
            await asyncio.sleep(0)
        waited = not recording.done()
        other.execute("ROLLBACK")
        await recording
        return waited, recording.exception() is None

    try:
        assert asyncio.run(scenario()) == (True, True)
        # Tried in the loop first, then in the thread: written once.
        amounts = [r.price.amount for r in history.price_runs(pid)]
        assert amounts == [Decimal("4999.00"), Decimal("4599.00")]
    finally:
        other.close()
        history.close()


def test_a_window_label_is_kept_per_order_and_never_shortened(tmp_path: Path) -> None:
    from monitor.models import WindowSource
    from monitor.testing import make_order

    history = History.open(tmp_path / "state.db")
    shop_default = make_order(id="A", window_days=7, **{"@window_source": "shop"})
    own = make_order(id="B", window_days=30)  # the order's own window
    later = make_order(id="C", window_days=7, **{"@window_source": "shop"})
    ids = history.sync_orders([shop_default, own, later], now=T0)
    pid = ids["A"]
    assert history.labels.apply([shop_default]) == [shop_default]  # no label seen yet
    history.labels.note(pid, ["A"], 15, at=T0)
    history.labels.note(pid, ["A"], 10, at=T0 + timedelta(days=1))  # shorter: ignored
    history.labels.note(pid, ["C"], 10, at=T0 + timedelta(days=1))  # C's first sighting
    assert history.labels.days([shop_default, own, later]) == {"A": 15, "C": 10}
    labelled, kept, _ = history.labels.apply([shop_default, own, later])
    assert (labelled.window_days, labelled.window_source) == (15, WindowSource.LABEL)
    assert kept == own  # a label never overrides the order's own window_days
    history.labels.note(pid, ["A"], 30, at=T0 + timedelta(days=2))  # longer: kept
    assert history.labels.days([shop_default]) == {"A": 30}
    row = history.db.execute("SELECT seen_at FROM window_labels WHERE order_id = 'A'").fetchone()
    assert row[0] == "2026-11-27T04:00:00.000000+00:00"  # when the kept label was first seen

    # The order edited to another product: the label seen on the old one is not its own.
    moved = shop_default.model_copy(update={"url": "https://item.jd.com/2.html"})
    new_pid = history.sync_orders([moved], now=T0)["A"]
    assert history.labels.days([moved]) == {}
    history.labels.note(new_pid, ["A"], 10, at=T0 + timedelta(days=3))
    assert history.labels.days([moved]) == {"A": 10}  # the new product's, though shorter
    history.close()
