"""Typed values that flow between the modules: money, observations, windows and alerts.

Everything here is immutable and free of I/O. Money is ``Decimal`` (never float) and every
``datetime`` is timezone-aware.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

# Currencies whose prices carry no minor unit; everything else is shown with two decimals.
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "HUF", "TWD"})


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An amount in one ISO 4217 currency."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money.amount must be a Decimal, got {type(self.amount).__name__}")

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def times(self, quantity: int) -> Money:
        return Money(self.amount * quantity, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def rounded(self) -> Decimal:
        """Return the amount at the currency's usual precision (two places, or none)."""
        exponent = Decimal(1) if self.currency in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")
        return self.amount.quantize(exponent, rounding=ROUND_HALF_UP)


class Status(StrEnum):
    """What one look at a product page found."""

    PRICE = "price"
    NOT_FOUND = "not_found"
    UNKNOWN = "unknown"


class Availability(StrEnum):
    IN_STOCK = "in_stock"
    OUT_OF_STOCK = "out_of_stock"
    UNSTATED = "unstated"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A price one extraction strategy found on a page, with the text it came from."""

    strategy: str
    amount: Decimal
    currency: str | None
    raw: str
    sku: str | None = None
    availability: Availability = Availability.UNSTATED


@dataclass(frozen=True, slots=True)
class Extraction:
    """The verdict on one page: a price, not_found, or unknown, never a guess.

    ``foreign`` is a single clear price in another currency than the order's (an unknown,
    but worth a "needs review"); ``variant_confirmed`` is False when the order names a SKU
    and nothing on the page ties the price to it.
    """

    status: Status
    price: Money | None = None
    strategy: str | None = None
    reason: str = ""
    availability: Availability = Availability.UNSTATED
    candidates: tuple[Candidate, ...] = ()
    foreign: Money | None = None
    variant_confirmed: bool = True


@dataclass(frozen=True, slots=True)
class Observation:
    """One fetch of one product: the extraction plus where and when it was made.

    ``body`` is the page as fetched, kept only in memory, to be saved as evidence.
    """

    url: str
    seen_at: datetime
    extraction: Extraction
    body: bytes | None = field(default=None, repr=False, compare=False)
    retry_after: float | None = None  # seconds the shop asked us to wait (429/503)

    @property
    def status(self) -> Status:
        return self.extraction.status

    @property
    def price(self) -> Money | None:
        return self.extraction.price

    @property
    def reason(self) -> str:
        return self.extraction.reason


@dataclass(frozen=True, slots=True)
class Threshold:
    """The smallest drop worth an alert: an absolute amount, or a percent of the paid price."""

    amount: Decimal | None = None
    percent: Decimal | None = None

    def of(self, paid: Decimal) -> Decimal:
        """Given the paid unit price, return the minimum drop in the same currency."""
        if self.percent is not None:
            return paid * self.percent / Decimal(100)
        return self.amount if self.amount is not None else Decimal(0)

    def __str__(self) -> str:
        return f"{self.percent}%" if self.percent is not None else str(self.amount)


@dataclass(frozen=True, slots=True)
class Window:
    """The price-protection window: open from ``start`` until just before ``deadline``."""

    start: datetime
    deadline: datetime
    starts_on: str  # "order" or "delivery": the event the shop counts from
    estimated: bool = False  # counted from the order date because the delivery date is unknown

    def is_open(self, now: datetime) -> bool:
        return self.start <= now < self.deadline

    def time_left(self, now: datetime) -> timedelta:
        return max(self.deadline - now, timedelta(0))

    def days_left(self, now: datetime) -> int:
        """Return whole calendar days left, counting today while the window is open."""
        if not self.is_open(now):
            return 0
        local_now = now.astimezone(self.deadline.tzinfo)
        last_day: date = (self.deadline - timedelta(microseconds=1)).date()
        return (last_day - local_now.date()).days + 1


class AlertKind(StrEnum):
    DROP = "drop"
    FURTHER_DROP = "further_drop"
    NEEDS_REVIEW = "needs_review"
    WINDOW_CLOSING = "window_closing"
    WINDOW_CLOSED = "window_closed"
    CHECKS_FAILING = "checks_failing"
    RECOVERED = "recovered"
    PRODUCT_GONE = "product_gone"
    CONFIG_REJECTED = "config_rejected"
    TEST = "test"


# Kinds that tell the user to claim: the lowest price among them is the "last alerted" one.
CLAIM_KINDS = frozenset({AlertKind.DROP, AlertKind.FURTHER_DROP})
# Kinds that are sent even in quiet hours: they cannot wait until morning.
URGENT_KINDS = frozenset({AlertKind.WINDOW_CLOSING, AlertKind.CONFIG_REJECTED, AlertKind.TEST})


@dataclass(frozen=True, slots=True)
class Alert:
    """A claim alert (drop, further drop) or an implausible drop, before it is put into words."""

    kind: AlertKind
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


class ReviewReason(StrEnum):
    IMPLAUSIBLE = "implausible"  # far too deep a drop to trust
    CURRENCY = "currency"  # the page shows another currency than the order's
    VARIANT = "variant"  # the page does not confirm the order's variant


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


@dataclass(frozen=True, slots=True)
class WindowAlert:
    """The window is about to close (with money unclaimed) or has closed (a summary)."""

    kind: AlertKind  # WINDOW_CLOSING or WINDOW_CLOSED
    order_id: str
    dedupe_key: str
    window: Window
    lowest: Money | None  # the lowest price alerted while the window was open
    owed: Money | None  # what that lowest price is worth to the user: (paid - lowest) x quantity
    claim_state: str | None  # claimed / refunded / rejected, if the user recorded one
    claimed: Money | None
    refunded: Money | None


@dataclass(frozen=True, slots=True)
class FailureAlert:
    """A product that has not been read for N checks in a row, reads again, or is gone."""

    kind: AlertKind  # CHECKS_FAILING, RECOVERED or PRODUCT_GONE
    dedupe_key: str
    order_ids: tuple[str, ...]
    url: str
    failures: int
    since: datetime
    reason: str


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
