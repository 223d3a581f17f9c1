"""What one look at a product found, and what the database remembers of earlier looks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from monitor.models.money import Money
from monitor.models.states import Availability, PageVerdict, RangeEnd, Status


@dataclass(frozen=True, slots=True)
class Candidate:
    """A price one extraction strategy found on a page, with the text it came from."""

    strategy: str
    amount: Decimal
    currency: str | None
    raw: str
    sku: str | None = None
    availability: Availability = Availability.UNSTATED
    bound: RangeEnd | None = None  # an end of an AggregateOffer's price range
    # Why the text's amount cannot be read safely ("ambiguous amount '1,234.567' for USD");
    # the amount is then NaN, never taken for a price.
    refused: str | None = None


@dataclass(frozen=True, slots=True)
class Disagreement:
    """The page's buy box shows another price than its structured data: one of them is stale
    (a sale drawn on the page while the JSON-LD still holds the regular price, or the other
    way round), and only a person can tell which."""

    shown: Money  # what the buy box shows
    structured: Money  # what the structured data (JSON-LD, microdata, ...) says

    @property
    def lower(self) -> Money:
        return min(self.shown, self.structured)


@dataclass(frozen=True, slots=True)
class Extraction:
    """The verdict on one page: a price, not_found, or unknown, never a guess.

    ``page`` says what the page was (a product page, a robot check, ...). ``foreign`` is a
    single clear price in another currency than the order's, and ``disagreement`` a buy box
    that shows another price than the structured data (both unknowns, but worth a "needs
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
    disagreement: Disagreement | None = None
    # The price-protection window the page advertises (JD's "15天价保"), when its shop has
    # such a label (``Shop.window_label``) and the page is not a robot check or a gone page.
    window_days: int | None = None

    @property
    def needs_review(self) -> bool:
        """True for an unknown a person should look at: another currency, or stale data."""
        return self.status is Status.UNKNOWN and (
            self.foreign is not None or self.disagreement is not None
        )


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
    def failed(self) -> bool:
        """True for a look that read nothing: an unknown, but not a page whose prices a
        person should review (another currency, stale structured data), which was read."""
        return self.status is Status.UNKNOWN and not self.extraction.needs_review

    @property
    def price(self) -> Money | None:
        return self.extraction.price

    @property
    def reason(self) -> str:
        return self.extraction.reason


@dataclass(frozen=True, slots=True)
class PendingDrop:
    """A drop one look at a product showed, waiting for the look that confirms it.

    It is alerted only if a look at ``due`` or later (``[monitor] confirm`` after it was
    seen) shows the same ``price``: a price that flaps for a minute alerts nobody.
    """

    product_id: int
    price: Money
    seen_at: datetime
    due: datetime


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
