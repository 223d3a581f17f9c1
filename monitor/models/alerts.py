"""Alerts before they are put into words, the message that carries one, and its dedupe key.

The dedupe key makes an alert unique in the outbox: the same drop, reminder or failure
streak is never enqueued twice. It is built here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.models.money import Money
from monitor.models.observation import Disagreement
from monitor.models.states import AlertKind, ClaimState, ReviewReason
from monitor.models.window import Window


def dedupe_key(subject: str, *parts: AlertKind | Money | datetime | str) -> str:
    """Given what an alert is about (an order id, ``product_subject(id)``, ``"config"``) and
    what tells it apart (its kind, a price, a deadline, a streak's start, a digest), return
    its outbox key, e.g. ``"5231120712345678|drop|4599.00 CNY"``."""

    def text(part: AlertKind | Money | datetime | str) -> str:
        if isinstance(part, AlertKind):
            return part.value
        if isinstance(part, Money):
            return f"{part.rounded()} {part.currency}"
        if isinstance(part, datetime):
            return part.isoformat()
        return part

    return "|".join([subject, *(text(p) for p in parts)])


def product_subject(product_id: int) -> str:
    """The subject of an alert about a product rather than one order (failing, gone)."""
    return f"product:{product_id}"


@dataclass(frozen=True, slots=True)
class DropAlert:
    """A claim alert (drop, further drop): the price is below what was paid, in the window."""

    kind: AlertKind  # DROP or FURTHER_DROP
    order_id: str
    dedupe_key: str
    paid: Money
    current: Money
    drop: Money  # per unit: paid - current
    total: Money  # drop x quantity
    further: Money | None  # for a further drop: how much below the last alerted or claimed price
    window: Window
    seen_at: datetime
    url: str
    asked: Money  # what to ask for now: total - refunded - claimed and not yet answered
    refunded: Money  # refunded so far (zero when nothing was)
    refunded_at: datetime | None  # the latest refund
    pending: Money  # claimed before, no answer yet


@dataclass(frozen=True, slots=True)
class ReviewAlert:
    """A price the user should look at themselves before claiming anything."""

    order_id: str
    dedupe_key: str
    reason: ReviewReason
    paid: Money
    seen: Money
    window: Window
    seen_at: datetime
    url: str
    kind: AlertKind = AlertKind.NEEDS_REVIEW
    disagreement: Disagreement | None = None  # STALE: the two prices; ``seen`` is the lower


PriceAlert = DropAlert | ReviewAlert


@dataclass(frozen=True, slots=True)
class WindowAlert:
    """The window is about to close (with money unclaimed) or has closed (a summary)."""

    kind: AlertKind  # WINDOW_CLOSING or WINDOW_CLOSED
    order_id: str
    dedupe_key: str
    window: Window
    lowest: Money | None  # the lowest price alerted while the window was open
    owed: Money | None  # what is still to ask for at that price: not refunded, not claimed
    claim_state: ClaimState | None  # the user's latest claim step, if they recorded one
    claimed: Money | None  # claimed, with no answer yet
    refunded: Money | None


@dataclass(frozen=True, slots=True)
class FailureAlert:
    """A product that has not been read for N checks in a row, reads again, or is gone."""

    kind: AlertKind  # CHECKS_FAILING, RECOVERED, PRODUCT_GONE or COOKIES_EXPIRED
    dedupe_key: str
    order_ids: tuple[str, ...]
    url: str
    failures: int
    since: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Evidence:
    """The page a drop was seen on, as kept beside the database: its file and its SHA-256;
    the chart of the price drawn beside it, when matplotlib is installed; and, for a page
    rendered in the browser, a screenshot of the lower price (for the shop's support)."""

    path: str
    sha256: str
    chart: str | None = None  # a PNG, kept and pruned with the page
    screenshot: str | None = None  # a PNG, kept and pruned with the page

    @property
    def files(self) -> tuple[str, ...]:
        """The files an alert attaches: the page, then the chart and the screenshot."""
        return (self.path, *(f for f in (self.chart, self.screenshot) if f))


@dataclass(frozen=True, slots=True)
class Message:
    """An alert put into words, ready for the outbox: what to send and where.

    ``body`` is plain text (email, most services); ``markdown`` is the same message for
    services that render Markdown (Telegram), with the support request in a code block.
    """

    dedupe_key: str
    order_id: str
    kind: AlertKind
    title: str
    body: str
    tags: tuple[str, ...] = ()
    price: Money | None = None
    markdown: str | None = None
    attachments: tuple[str, ...] = ()
    asked: Money | None = None  # for a claim alert: what the support request asks for
