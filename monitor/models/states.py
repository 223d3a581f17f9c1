"""Every state and choice the program knows, as an enum: no state is a bare string.

The values are what the config file and the database hold, so they never change meaning.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """What one look at a product found: a price, no product, or nothing we can trust."""

    PRICE = "price"
    NOT_FOUND = "not_found"
    UNKNOWN = "unknown"


class RangeEnd(StrEnum):
    """Which end of an AggregateOffer's price range a price is."""

    LOW = "low"
    HIGH = "high"


class PageVerdict(StrEnum):
    """What a fetched page is, before any price is read from it."""

    PRODUCT = "product"  # a product page: the extraction strategies decide
    BLOCKED = "blocked"  # a captcha, bot challenge or login wall
    GONE = "gone"  # the shop says the product is off the shelf or not found
    NEEDS_JAVASCRIPT = "needs_javascript"  # an app shell that draws its price with JavaScript


# What the reason of a BLOCKED verdict says when the page is a login page rather than a
# robot check: for a shop with a cookies file, its cookies expired (``rules.cookie_alerts``).
LOGIN_PAGE = "a login page"


class Availability(StrEnum):
    IN_STOCK = "in_stock"
    OUT_OF_STOCK = "out_of_stock"
    UNSTATED = "unstated"


class FetchMode(StrEnum):
    """How a product's page is fetched: plain HTTP, or rendered in Chromium (``browser``)
    for a shop that draws its price with JavaScript."""

    HTTP = "http"
    BROWSER = "browser"


class WindowStart(StrEnum):
    """The event a shop counts its price-protection window from."""

    ORDER = "order"
    DELIVERY = "delivery"


class WindowSource(StrEnum):
    """Where an order's window_days came from: the order's own table, its shop's default (the
    config fills it in), or a label the product page showed (JD's "15天价保")."""

    ORDER = "order"
    SHOP = "shop"
    LABEL = "label"


class Payment(StrEnum):
    CARD = "card"
    ALIPAY = "alipay"
    WECHAT = "wechat"
    INSTALLMENTS = "installments"
    OTHER = "other"


class Language(StrEnum):
    """The language of a shop's support requests and alerts."""

    ZH = "zh"
    EN = "en"


class Remind(StrEnum):
    """Which orders get a "window closing" reminder."""

    UNCLAIMED = "unclaimed"  # orders with a drop alerted and no claim recorded
    ALWAYS = "always"  # every order


class ClaimState(StrEnum):
    """A step of the user's claim on an order."""

    CLAIMED = "claimed"
    REFUNDED = "refunded"
    REJECTED = "rejected"


class RefundForm(StrEnum):
    """What a refund was paid in."""

    CASH = "cash"  # back along the payment path: money
    COUPON = "coupon"  # JD 京券, shop coupons
    CREDIT = "credit"  # store credit, gift-card balance


class OutboxStatus(StrEnum):
    """Where an alert in the outbox stands."""

    PENDING = "pending"  # not yet received by every target; retried with backoff
    SENDING = "sending"  # leased to one sender until its lease expires
    SENT = "sent"
    FAILED = "failed"  # given up after many tries; `alerts --retry` tries again


class AlertKind(StrEnum):
    DROP = "drop"
    FURTHER_DROP = "further_drop"
    NEEDS_REVIEW = "needs_review"
    WINDOW_CLOSING = "window_closing"
    WINDOW_CLOSED = "window_closed"
    CHECKS_FAILING = "checks_failing"
    RECOVERED = "recovered"
    PRODUCT_GONE = "product_gone"
    COOKIES_EXPIRED = "cookies_expired"
    CONFIG_REJECTED = "config_rejected"
    TEST = "test"


# Kinds that tell the user to claim: the lowest price among them is the "last alerted" one.
CLAIM_KINDS = frozenset({AlertKind.DROP, AlertKind.FURTHER_DROP})
# Kinds that are sent even in quiet hours: they cannot wait until morning.
URGENT_KINDS = frozenset({AlertKind.WINDOW_CLOSING, AlertKind.CONFIG_REJECTED, AlertKind.TEST})


class ReviewReason(StrEnum):
    """Why a price is sent as "check this yourself" instead of a claim."""

    IMPLAUSIBLE = "implausible"  # far too deep a drop to trust
    CURRENCY = "currency"  # the page shows another currency than the order's
    VARIANT = "variant"  # the page does not confirm the order's variant
    STALE = "stale"  # the buy box and the structured data show different prices
