"""`price-monitor export` after real checks: the history run by run, the alerts with their
secrets masked, the claims; amounts as text, times with the user's offset."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from monitor.testing import JsonReceiver, LoopbackShop, order_table, run_cli, write_config

SECRET = "8f3aC91eS3cretT0ken"


def export(path: Path, *args: str) -> str:
    return run_cli(path, "export", *args).stdout


def in_shanghai(text: str, start: datetime, end: datetime) -> bool:
    """True for an ISO 8601 time with Shanghai's offset, between start and end."""
    moment = datetime.fromisoformat(text)
    return text.endswith("+08:00") and start <= moment <= end


def test_export_shows_the_history_and_the_alerts_of_real_checks(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/phone", "4999.00", title="Xiaomi 14 Pro")
    target = receiver.url.replace("/alerts", f"/hook/{SECRET}")
    path = write_config(
        tmp_path / "config.toml",
        orders=[order_table(url, "A-1", title="Xiaomi 14 Pro")],
        urls=[target],
        monitor={"timezone": "Asia/Shanghai"},
    )
    start = datetime.now(UTC)
    run_cli(path, "check")  # at what was paid: no drop
    shop.set_price("/phone", "4599.00")
    run_cli(path, "check")  # a drop: alerted
    run_cli(path, "check")  # the same price again: the run grows, nothing new is sent
    end = datetime.now(UTC)
    (alert,) = receiver.wait_for(1)

    history = json.loads(export(path, "--what", "history", "--format", "json"))
    assert [
        {k: v for k, v in run.items() if k not in ("first_seen", "last_seen")} for run in history
    ] == [
        {
            "orders": ["A-1"],
            "product_id": 1,
            "url": url,
            "sku": None,
            "checks": 1,
            "amount": "4999.00",
            "currency": "CNY",
            "availability": "in_stock",
        },
        {
            "orders": ["A-1"],
            "product_id": 1,
            "url": url,
            "sku": None,
            "checks": 2,
            "amount": "4599.00",
            "currency": "CNY",
            "availability": "in_stock",
        },
    ]
    first, second = history
    assert all(in_shanghai(r[k], start, end) for r in history for k in ("first_seen", "last_seen"))
    assert first["first_seen"] == first["last_seen"] < second["first_seen"] < second["last_seen"]

    as_csv = list(csv.reader(io.StringIO(export(path, "--what", "history"))))
    assert as_csv[0] == [
        "orders",
        "product_id",
        "url",
        "sku",
        "first_seen",
        "last_seen",
        "checks",
        "amount",
        "currency",
        "availability",
    ]
    assert [row[:4] + row[6:] for row in as_csv[1:]] == [
        ["A-1", "1", url, "", "1", "4999.00", "CNY", "in_stock"],
        ["A-1", "1", url, "", "2", "4599.00", "CNY", "in_stock"],
    ]

    out = export(path, "--what", "alerts", "--format", "json")
    assert SECRET not in out  # masked, as `alerts` masks it
    (exported,) = json.loads(out)
    assert {k: exported[k] for k in ("id", "status", "kind", "order_id", "attempts")} == {
        "id": 1,
        "status": "sent",
        "kind": "drop",
        "order_id": "A-1",
        "attempts": 1,
    }
    assert (exported["amount"], exported["currency"], exported["asked"]) == (
        "4599.00",
        "CNY",
        "400.00",
    )
    assert exported["title"] == alert["title"] == "可申请退差价 ¥400.00：Xiaomi 14 Pro（订单 A-1）"
    assert exported["body"].rstrip("\n") == alert["message"]  # the request, to paste again
    (delivered,) = exported["delivered"]  # the one target, by the key the outbox keeps
    assert re.fullmatch(r"[0-9a-f]{16}", delivered)
    assert in_shanghai(exported["created_at"], start, end)
    assert in_shanghai(exported["sent_at"], start, end)
    assert exported["last_error"] is None


def test_export_shows_the_claims_of_orders_kept_and_removed(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/grinder", "90.00", currency="USD", title="Grinder")
    orders = [order_table(url, "G-1", paid="100.00", shop="teststore", title="Grinder")]
    path = write_config(tmp_path / "config.toml", orders=orders, urls=[receiver.url])
    run_cli(path, "check")
    run_cli(path, "claim", "G-1", "--note", "ticket 42")
    run_cli(path, "rejected", "G-1", "--reason", "sale items excluded")
    run_cli(path, "refunded", "G-1", "--amount", "4.50", "--as", "coupon")  # a goodwill coupon
    run_cli(path, "remove", "G-1")

    claims = json.loads(export(path, "--what", "claims", "--format", "json"))
    assert [{k: v for k, v in c.items() if k != "at"} for c in claims] == [
        {
            "order_id": "G-1",
            "state": "claimed",
            "amount": "10.00",  # what the alert asked for
            "price": "90.00",
            "currency": "USD",
            "form": None,
            "note": "ticket 42",
        },
        {
            "order_id": "G-1",
            "state": "rejected",  # keeps what was asked for
            "amount": "10.00",
            "price": "90.00",
            "currency": "USD",
            "form": None,
            "note": "sale items excluded",
        },
        {
            "order_id": "G-1",
            "state": "refunded",
            "amount": "4.50",
            "price": "90.00",
            "currency": "USD",
            "form": "coupon",
            "note": None,
        },
    ]
    assert all(c["at"].endswith("+00:00") for c in claims)  # the machine's zone: UTC here
    assert export(path, "--what", "orders") == (
        "id,shop,url,title,paid,ordered,currency,window_days,threshold,interval,quantity,"
        "delivered,payment,installments,installment_provider,sku,variant,selector,fetch,tags,notes\n"
    )  # removed from the config: only the header is left


def test_an_orders_export_has_every_field_an_order_table_may_set() -> None:
    """So that an export imports again whole: a field added to Order and left out of the
    export would be lost on the way (as fetch once was)."""
    from monitor.exports import ORDER_COLUMNS, order_records
    from monitor.models import FetchMode, Order
    from monitor.testing import make_order

    settable = [name for name, f in Order.model_fields.items() if not f.exclude]
    assert list(ORDER_COLUMNS) == settable
    (record,) = order_records([make_order(fetch=FetchMode.BROWSER)])
    assert list(record) == settable
    assert record["fetch"] == "browser"
