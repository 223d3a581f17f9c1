"""The tables the command line prints: status, history, alerts and savings.

``status_rows`` reads what it needs from the database; everything else is pure: rows in,
aligned text (or JSON) out, CJK characters counted two columns wide, times in the user's
zone. On a terminal, ``print_coloured`` gives the same table rich's colours.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from monitor import ledger
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
from monitor.timeline import Timeline, lowest_run, sparkline

# A window closing within this long is shown in red.
CLOSING_SOON = timedelta(days=1)


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
    shop: str = ""
    lowest_seen: datetime | None = None  # when the lowest price was first seen
    owed: Money | None = None  # what can be asked for now (``ledger.owed``); None: window shut
    deadline: datetime | None = None
    is_open: bool = False  # the window
    closing_soon: bool = False  # open, and closing within CLOSING_SOON

    @property
    def owes(self) -> bool:
        """Whether money is owed now: the window is open and the price is low enough."""
        return self.owed is not None and self.owed.amount > 0


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
        claims = history.claims(order.id)
        paid = order.paid_money
        current = runs[-1].price if runs else None
        lowest = lowest_run(runs)
        is_open = window.is_open(now)
        rows.append(
            StatusRow(
                order_id=order.id,
                title=order.title,
                paid=paid,
                current=current,
                lowest=lowest.price if lowest else None,
                difference=paid - current if current else None,
                window=_time_left(window, now),
                protection=protection(order),
                last_check=product.last_checked_at if product else None,
                last_status=product.last_status if product else None,
                last_reason=product.last_reason if product else None,
                claim=claims[-1].state if claims else None,
                shop=order.shop,
                lowest_seen=lowest.first_seen if lowest else None,
                owed=ledger.owed(order, current, claims) if current and is_open else None,
                deadline=window.deadline,
                is_open=is_open,
                closing_soon=is_open and window.time_left(now) <= CLOSING_SOON,
            )
        )
    return rows


def filter_status(
    rows: Sequence[StatusRow],
    *,
    owed: bool = False,
    open_only: bool = False,
    shop: str | None = None,
) -> list[StatusRow]:
    """Return the rows of orders with money owed now (``owed``), with their window open
    (``open_only``), at one ``shop``: every filter given must hold."""
    return [
        row
        for row in rows
        if (not owed or row.owes)
        and (not open_only or row.is_open)
        and (shop is None or row.shop == shop)
    ]


def status_json(row: StatusRow, *, tz: ZoneInfo) -> dict[str, object]:
    """Return the facts of one status row as the object ``status --json`` prints: amounts
    as decimal strings (never floats), in ``currency``; times in ISO 8601, in ``tz``.
    ``difference`` is the current price less the paid one, as the table shows it."""
    return {
        "order": row.order_id,
        "title": row.title,
        "shop": row.shop,
        "currency": row.paid.currency,
        "paid": _amount(row.paid),
        "current": _amount(row.current),
        "lowest": _amount(row.lowest),
        "lowest_seen_at": _iso(row.lowest_seen, tz),
        "difference": f"{-row.difference.amount:f}" if row.difference else None,
        "owed": _amount(row.owed),
        "window": row.window,
        "window_open": row.is_open,
        "window_closes_at": _iso(row.deadline, tz),
        "protection": row.protection,
        "claim": row.claim.value if row.claim else None,
        "last_check": _iso(row.last_check, tz),
        "last_status": row.last_status.value if row.last_status else None,
        "last_reason": row.last_reason or None,
    }


def _amount(money: Money | None) -> str | None:
    return f"{money.amount:f}" if money is not None else None


def _iso(moment: datetime | None, tz: ZoneInfo) -> str | None:
    return moment.astimezone(tz).isoformat() if moment is not None else None


STATUS_HEADERS = (
    "order",
    "product",
    "paid",
    "current",
    "lowest",
    "lowest seen",
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
    return render_rows(status_cells(rows, tz=tz))


def status_cells(rows: Sequence[StatusRow], *, tz: ZoneInfo) -> list[tuple[str, ...]]:
    """Return the status table's cells: the header, then one row per order."""
    cells: list[tuple[str, ...]] = [STATUS_HEADERS]
    for row in rows:
        cells.append(
            (
                row.order_id,
                _shorten(row.title, 28),
                format_money(row.paid),
                _money(row.current),
                _money(row.lowest),
                f"{row.lowest_seen.astimezone(tz):%m-%d %H:%M}" if row.lowest_seen else "-",
                _difference(row.difference),
                row.window,
                row.protection or "-",
                row.claim.value if row.claim else "-",
                _last_check(row, tz),
            )
        )
    return cells


def status_styles(row: StatusRow) -> tuple[str, ...]:
    """Return the rich style of each of a row's cells ("" for none): money owed in green,
    a window closing within a day in red (a closed one dimmed), a failing check in red."""
    money = "bold green" if row.owes else ""
    window = "bold red" if row.closing_soon else ("" if row.is_open else "dim")
    failing = row.last_status is not None and row.last_status is not Status.PRICE
    return ("", "", "", money, "", "", money, window, "", "", "red" if failing else "")


def print_coloured(
    cells: Sequence[Sequence[str]], styles: Sequence[Sequence[str]], *, file: TextIO | None = None
) -> None:
    """Print a table as ``render_rows`` aligns it, the header bold and each cell in its
    style (``styles`` has one tuple per row after the header), with rich: for a terminal
    only, which is where rich is imported."""
    from rich.console import Console
    from rich.text import Text

    console = Console(file=file or sys.stdout, highlight=False, soft_wrap=True)
    widths = _widths(cells)
    for index, row in enumerate(cells):
        line = Text()
        for column, cell in enumerate(row):
            last = column == len(row) - 1
            style = "bold" if index == 0 else styles[index - 1][column]
            line.append(cell, style=style or None)
            if not last:
                line.append(" " * (widths[column] - _width(cell) + 2))
        console.print(line)


def render_history(timeline: Timeline, *, tz: ZoneInfo, now: datetime) -> str:
    """Return an order's price history as ``history`` prints it: what was paid and the
    window, a table of the price runs (oldest first), a sparkline of their prices, the
    lowest price and when it was first seen, then the order's alerts and claims."""
    (order, *_) = timeline.orders
    window = order.window
    closes = window.deadline - timedelta(minutes=1)  # the last minute, as the alerts say it
    lines = [
        f"{timeline.title} (order {order.order_id}): paid {format_money(order.paid)}; window "
        f"{window.start.astimezone(tz):%Y-%m-%d} to {closes.astimezone(tz):%Y-%m-%d %H:%M}, "
        f"{_time_left(window, now)}",
        "",
    ]
    if not timeline.runs:
        return "\n".join([*lines, "No price recorded yet."])
    table: list[tuple[str, ...]] = [
        ("price", "difference", "availability", "first seen", "last seen", "checks")
    ]
    for run in timeline.runs:
        table.append(
            (
                format_money(run.price),
                _difference(order.paid - run.price),
                run.availability.value.replace("_", " "),
                _when(run.first_seen, tz),
                _when(run.last_seen, tz),
                str(run.checks),
            )
        )
    amounts = [run.price.amount for run in timeline.runs[-SPARKLINE_RUNS:]]
    span = [format_money(run.price) for run in timeline.runs[-SPARKLINE_RUNS:]]
    low, high = span[amounts.index(min(amounts))], span[amounts.index(max(amounts))]
    lines += [render_rows(table), "", f"prices  {sparkline(amounts)}  {low} to {high}"]
    if len(timeline.runs) > SPARKLINE_RUNS:
        lines[-1] += f" (the last {SPARKLINE_RUNS} runs)"
    lowest = timeline.lowest
    if lowest is not None:
        lines.append(
            f"lowest  {format_money(lowest.price)}, first seen {_when(lowest.first_seen, tz)}"
        )
    for mark in timeline.alerts:
        price = f" {format_money(mark.price)}" if mark.price else ""
        lines.append(f"alert   {_when(mark.at, tz)}  {mark.label}{price}  (#{mark.alert_id})")
    for mark in timeline.claims:
        price = f" at {format_money(mark.price)}" if mark.price else ""
        lines.append(f"claim   {_when(mark.at, tz)}  {mark.label}{price}")
    return "\n".join(lines)


# The sparkline shows this many runs at most: one line of a terminal.
SPARKLINE_RUNS = 60


def human_size(size: int) -> str:
    """Return a size in bytes as people read it: ``812 B``, ``41.2 kB``, ``95.0 MB``."""
    if size < 1000:
        return f"{size} B"
    value, unit = float(size), "B"
    for unit in ("kB", "MB", "GB"):  # noqa: B007 (the unit the loop stops at is the one)
        value /= 1000
        if value < 1000:
            break
    return f"{value:.1f} {unit}"


def _when(moment: datetime, tz: ZoneInfo) -> str:
    return f"{moment.astimezone(tz):%Y-%m-%d %H:%M}"


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
    widths = _widths(rows)
    return "\n".join(
        "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    )


def _widths(rows: Sequence[Sequence[str]]) -> list[int]:
    return [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]


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
