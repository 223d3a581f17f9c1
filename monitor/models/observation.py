"""What one look at a product found, and what the database remembers of earlier looks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from monitor.models.money import Money
from monitor.models.states import Availability, PageVerdict, Status


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

    ``page`` says what the page was (a product page, a robot check, ...). ``foreign`` is a
    single clear price in another currency than the order's (an unknown, but worth a "needs
    review"); ``variant_confirmed`` is False when the order names a SKU and nothing on the
    page ties the price to it.
    """

    status: Status
    price: Money | None = None
    strategy: str | None = None
    reason: str = ""
    availability: Availability = Availability.UNSTATED
    candidates: tuple[Candidate, ...] = ()
    foreign: Money | None = None
    variant_confirmed: bool = True
    page: PageVerdict = PageVerdict.PRODUCT


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
class PriceRun:
    """A run of identical readings of one product's price: the price history's unit."""

    price: Money
    availability: Availability
    first_seen: datetime
    last_seen: datetime
    checks: int


@dataclass(frozen=True, slots=True)
class ProductState:
    """What the database remembers of a product's last check and its failures in a row."""

    id: int
    url: str
    sku: str
    last_checked_at: datetime | None
    last_status: Status | None
    last_reason: str | None
    failures: int
    failing_since: datetime | None
