"""The tables the command line prints: status, alerts and savings.

``status_rows`` reads what it needs from the database; everything else is pure: rows in,
aligned text out, CJK characters counted two columns wide, times in the user's zone.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from monitor.config import Config
from monitor.history import History, OutboxEntry
from monitor.ledger import Totals
from monitor.messages import format_money, format_time_left
from monitor.models import (
    ClaimState,
    Language,
    Money,
    Order,
    OutboxStatus,
    Status,
    Window,
    WindowSource,
    window_for,
)


@dataclass(frozen=True, slots=True)
class StatusRow:
    order_id: str
    title: str
    paid: Money
    current: Money | None
    lowest: Money | None
    difference: Money | None  # paid - current, per unit; positive means money owed
    window: str  # "5 days left", "22 hours left" by the alerts' rule; "closed", "not open yet"
    last_check: datetime | None
    last_status: Status | None
    last_reason: str | None
    claim: ClaimState | None = None  # the latest claim step
    protection: str = ""  # the window's length and where it came from: "15 days (page label)"


def status_rows(
    config: Config, history: History, product_ids: Mapping[str, int], *, now: datetime
) -> list[StatusRow]:
    """Return the status of every order in the config, reading prices from the database;
    ``product_ids`` is each order's product (``History.sync_orders``)."""
    rows = []
    for order in history.labels.apply(config.orders):  # with the windows page labels gave them
        window = window_for(order, config.shop_of(order))
        # On a full disk, an order the database has never seen has no history yet.
        product_id = product_ids.get(order.id)
        product = history.product_state(product_id) if product_id is not None else None
        runs = [
            r
            for r in (history.price_runs(product.id) if product else [])
            if r.price.currency == order.currency and r.last_seen >= window.start
        ]
        claim = history.latest_claim(order.id)
        paid = order.paid_money
        current = runs[-1].price if runs else None
        rows.append(
            StatusRow(
                order_id=order.id,
                title=order.title,
                paid=paid,
                current=current,
                lowest=min((r.price for r in runs), key=lambda m: m.amount) if runs else None,
                difference=paid - current if current else None,
                window=_time_left(window, now),
                protection=protection(order),
                last_check=product.last_checked_at if product else None,
                last_status=product.last_status if product else None,
                last_reason=product.last_reason if product else None,
                claim=claim.state if claim else None,
            )
        )
    return rows


STATUS_HEADERS = (
    "order",
    "product",
    "paid",
    "current",
    "lowest",
    "difference",
    "window",
    "protection",
    "claim",
    "last check",
)

# Where an order's window came from, as ``status`` says it.
WINDOW_SOURCES = {
    WindowSource.ORDER: "order",
    WindowSource.SHOP: "shop default",
    WindowSource.LABEL: "page label",
}


def protection(order: Order) -> str:
    """Return the length of an order's window and where it came from: "15 days (page label)"."""
    days = order.window_days
    return f"{days} day{'s' * (days != 1)} ({WINDOW_SOURCES[order.window_source]})"


def _time_left(window: Window, now: datetime) -> str:
    if now < window.start:
        return "not open yet"
    return format_time_left(window, now, Language.EN) if window.is_open(now) else "closed"


def render_status(rows: Sequence[StatusRow], *, tz: ZoneInfo) -> str:
    """Return the status rows as an aligned text table."""
    cells = [STATUS_HEADERS]
    for row in rows:
        cells.append(
            (
                row.order_id,
                _shorten(row.title, 28),
                format_money(row.paid),
                _money(row.current),
                _money(row.lowest),
                _difference(row.difference),
                row.window,
                row.protection or "-",
                row.claim.value if row.claim else "-",
                _last_check(row, tz),
            )
        )
    return render_rows(cells)


def render_alerts(entries: Sequence[OutboxEntry], *, tz: ZoneInfo) -> str:
    """Return outbox entries as a table: when, status, tries, kind, order, title or error."""
    rows: list[tuple[str, ...]] = [
        ("id", "created", "status", "tries", "kind", "order", "title / last error")
    ]
    for e in entries:
        title = e.message.title
        failing = e.status is not OutboxStatus.SENT and e.last_error
        rows.append(
            (
                str(e.id),
                f"{e.created_at.astimezone(tz):%m-%d %H:%M}",
                e.status.value,
                str(e.attempts),
                e.message.kind.value,
                e.message.order_id or "-",
                f"{title} — {e.last_error}" if failing else title,
            )
        )
    return render_rows(rows)


def render_savings(totals: Totals) -> str:
    """Return the savings per currency: refunded (in cash, and in coupons or credit when any),
    pending, to claim, missed and rejected; and how many removed orders are counted."""
    columns = [("refunded", totals.refunded)]
    if totals.in_kind:
        columns.append(("in coupons/credit", totals.in_kind))
    columns += [
        ("pending", totals.pending),
        ("to claim", totals.to_claim),
        ("missed", totals.missed),
        ("rejected", totals.rejected),
    ]
    rows: list[tuple[str, ...]] = [("currency", *(name for name, _ in columns))]
    for currency in totals.currencies():
        cells = [
            format_money(Money(part[currency], currency)) if currency in part else "-"
            for _, part in columns
        ]
        rows.append((currency, *cells))
    table = render_rows(rows)
    if totals.removed:
        orders = f"{totals.removed} order{'s' * (totals.removed != 1)}"
        table += (
            f"\n\nIncluding {orders} no longer in the config (removed): their claims and refunds."
        )
    return table


def render_rows(rows: Sequence[Sequence[str]]) -> str:
    """Return rows (the first is the header) as aligned columns, CJK counted as two wide."""
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    )


def _money(money: Money | None) -> str:
    return format_money(money) if money else "-"


def _difference(difference: Money | None) -> str:
    if difference is None:
        return "-"
    if difference.amount > 0:
        return "-" + format_money(difference)  # the price is this much below what was paid
    if difference.amount == 0:
        return "0"
    return "+" + format_money(Money(-difference.amount, difference.currency))


def _last_check(row: StatusRow, tz: ZoneInfo) -> str:
    if row.last_check is None:
        return "never"
    when = f"{row.last_check.astimezone(tz):%m-%d %H:%M}"
    if row.last_status and row.last_status is not Status.PRICE:
        return f"{when} {row.last_status.value}: {_shorten(row.last_reason or '', 40)}"
    return when


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _shorten(text: str, width: int) -> str:
    if _width(text) <= width:
        return text
    out = ""
    for ch in text:
        if _width(out + ch) > width - 1:
            break
        out += ch
    return out + "…"
