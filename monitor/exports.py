"""What ``price-monitor export`` writes: the orders, the price history, the alerts and the
claims as records, then as CSV or JSON.

A record holds text, whole numbers, lists of text and None only: amounts are decimal text
(``"4599.00"``, never a float), times ISO 8601 in the user's zone with its offset
(``2026-12-02T06:22:00+08:00``). The orders' columns are the config's keys, so an export of
the orders is a spreadsheet ``price-monitor import`` reads back.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from monitor.history import History, OutboxEntry
from monitor.history.schema import rows
from monitor.messages.format import format_duration
from monitor.models import Claim, Order
from monitor.redact import redact

Value = str | int | list[str] | None
Record = dict[str, Value]

ORDER_COLUMNS = tuple(name for name in Order.model_fields if name != "window_source")
HISTORY_COLUMNS = (
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
)
ALERT_COLUMNS = (
    "id",
    "created_at",
    "status",
    "kind",
    "order_id",
    "title",
    "amount",
    "currency",
    "asked",
    "attempts",
    "last_error",
    "next_attempt_at",
    "sent_at",
    "delivered",
    "body",
)
CLAIM_COLUMNS = ("order_id", "state", "at", "amount", "price", "currency", "form", "note")
COLUMNS = {
    "orders": ORDER_COLUMNS,
    "history": HISTORY_COLUMNS,
    "alerts": ALERT_COLUMNS,
    "claims": CLAIM_COLUMNS,
}


def order_records(orders: Sequence[Order]) -> list[Record]:
    """Return the orders as the config reads them, with what they leave out filled in
    (currency, window, threshold and interval from their shop and ``[monitor]``)."""
    return [
        {
            "id": o.id,
            "shop": o.shop,
            "url": o.url,
            "title": o.title,
            "paid": _amount(o.paid),
            "ordered": o.ordered.isoformat(),
            "currency": o.currency,
            "window_days": o.window_days,
            "threshold": str(o.threshold),
            "interval": format_duration(o.interval),
            "quantity": o.quantity,
            "delivered": o.delivered.isoformat() if o.delivered else None,
            "payment": o.payment.value if o.payment else None,
            "installments": o.installments,
            "installment_provider": o.installment_provider,
            "sku": o.sku,
            "variant": o.variant,
            "selector": o.selector,
            "fetch": o.fetch.value if o.fetch else None,
            "tags": list(o.tags),
            "notes": o.notes,
        }
        for o in orders
    ]


def history_records(history: History, *, tz: ZoneInfo) -> list[Record]:
    """Return every product's price history, run by run (a run is the same price seen by
    checks in a row), oldest first, with the orders the product serves (those taken out of
    the config too)."""
    served: dict[int, list[str]] = {}
    for row in rows(history.db, "SELECT id, product_id FROM orders ORDER BY id"):
        served.setdefault(row["product_id"], []).append(row["id"])
    found: list[Record] = []
    for product in rows(history.db, "SELECT id, url, sku FROM products ORDER BY id"):
        for run in history.price_runs(product["id"]):
            found.append(
                {
                    "orders": served.get(product["id"], []),
                    "product_id": product["id"],
                    "url": product["url"],
                    "sku": product["sku"] or None,
                    "first_seen": _time(run.first_seen, tz),
                    "last_seen": _time(run.last_seen, tz),
                    "checks": run.checks,
                    "amount": _amount(run.price.amount),
                    "currency": run.price.currency,
                    "availability": run.availability.value,
                }
            )
    return found


def alert_records(
    entries: Sequence[OutboxEntry], *, tz: ZoneInfo, secrets: Collection[str]
) -> list[Record]:
    """Return the outbox's alerts, oldest first, with the secrets of the notification URLs
    (``secrets``) masked wherever they could appear: an error, a target, the text."""

    def masked(text: str | None) -> str | None:
        return redact(text, secrets) if text is not None else None

    return [
        {
            "id": e.id,
            "created_at": _time(e.created_at, tz),
            "status": e.status.value,
            "kind": e.message.kind.value,
            "order_id": e.message.order_id,
            "title": masked(e.message.title),
            "amount": _amount(e.message.price.amount) if e.message.price else None,
            "currency": e.message.price.currency if e.message.price else None,
            "asked": _amount(e.message.asked.amount) if e.message.asked else None,
            "attempts": e.attempts,
            "last_error": masked(e.last_error),
            "next_attempt_at": _time(e.next_attempt_at, tz),
            "sent_at": _time(e.sent_at, tz) if e.sent_at else None,
            "delivered": [redact(target, secrets) for target in e.delivered],
            "body": masked(e.message.body),
        }
        for e in sorted(entries, key=lambda e: e.id)
    ]


def claim_records(claims: Sequence[Claim], *, tz: ZoneInfo) -> list[Record]:
    """Return the steps of every claim, oldest first: claimed, refunded, rejected."""
    found: list[Record] = []
    for c in claims:
        reference = c.amount or c.price
        found.append(
            {
                "order_id": c.order_id,
                "state": c.state.value,
                "at": _time(c.at, tz),
                "amount": _amount(c.amount.amount) if c.amount else None,
                "price": _amount(c.price.amount) if c.price else None,
                "currency": reference.currency if reference else None,
                "form": c.form.value if c.form else None,
                "note": c.note,
            }
        )
    return found


def to_csv(records: Sequence[Mapping[str, Value]], columns: Sequence[str]) -> str:
    """Return records as CSV with a header row; a list is joined with ", ", None is blank."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(record.get(column)) for column in columns])
    return out.getvalue()


def to_json(records: Sequence[Mapping[str, Value]]) -> str:
    """Return records as a JSON array, one object each, non-ASCII text as it is."""
    return json.dumps(list(records), ensure_ascii=False, indent=2) + "\n"


def _cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)


def _amount(amount: Decimal) -> str:
    return f"{amount:f}"


def _time(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).isoformat()
