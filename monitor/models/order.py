"""The order (one purchased line) and the product (one thing to fetch, serving its orders)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from monitor.models.money import Money
from monitor.models.shop import Shop
from monitor.models.states import FetchMode, Payment, WindowSource
from monitor.models.values import (
    Amount,
    Currency,
    Day,
    Duration,
    Frozen,
    HttpUrl,
    Location,
    OrderId,
    Selector,
    Text,
    ThresholdValue,
    WindowDays,
    invalid,
)


class Order(Frozen):
    """One purchased line, as an ``[[orders]]`` table writes it.

    ``currency``, ``window_days``, ``threshold`` and ``interval`` may be left out of the
    table: the config fills them from the order's shop and ``[monitor]`` before reading it
    (see ``monitor.config.schema``), so an Order always has them. ``window_source`` says
    where its window came from; a window the order does not set itself is the one a label on
    the product page gives it, once one was seen (``with_window_label``).
    """

    id: OrderId
    shop: Text
    url: HttpUrl
    title: Text
    paid: Amount  # the unit price actually paid
    ordered: Day
    currency: Currency
    window_days: WindowDays
    threshold: ThresholdValue
    interval: Duration  # how often to check; never below the shop's minimum
    quantity: Annotated[int, Field(ge=1, le=10_000)] = 1
    delivered: Day | None = None
    payment: Payment | None = None
    installments: Annotated[int | None, Field(ge=2, le=120, validate_default=True)] = None
    installment_provider: Text | None = (
        None  # 花呗, 信用卡, 京东白条, 小米分期…: named in the request
    )
    sku: Text | None = None
    variant: Text | None = None
    selector: Selector | None = None  # the order's own: when given, it alone decides
    fetch: FetchMode | None = None  # the shop's when not given
    tags: tuple[Text, ...] = ()
    notes: str | None = None
    # Set by the config, never by the table (as "@window_source", which no one writes): the
    # shop's when it filled window_days in. An Order made in code sets its own window.
    window_source: WindowSource = Field(
        default=WindowSource.ORDER, validation_alias="@window_source", exclude=True
    )

    # A check on a field that an earlier one decides is a field validator: it runs even when
    # other fields are wrong, so every problem is listed at once. The check that names the
    # earlier field runs once the whole order has been read.

    @field_validator("delivered")
    @classmethod
    def _delivered_after_ordered(cls, delivered: date | None, info: ValidationInfo) -> date | None:
        ordered = info.data.get("ordered")
        if delivered is not None and ordered is not None and delivered < ordered:
            raise PydanticCustomError(
                "cross_field",
                "{delivered} is before the order date {ordered}",
                {"delivered": str(delivered), "ordered": str(ordered)},
            )
        return delivered

    @field_validator("installments")
    @classmethod
    def _installments_with_their_payment(
        cls, installments: int | None, info: ValidationInfo
    ) -> int | None:
        if installments is None and info.data.get("payment") is Payment.INSTALLMENTS:
            raise PydanticCustomError(
                "cross_field", 'required with payment = "installments": how many periods, e.g. 12'
            )
        return installments

    @model_validator(mode="after")
    def _payment_and_window_agree(self) -> Order:
        found: list[tuple[Location, str]] = []
        if self.installments is not None and self.payment is not Payment.INSTALLMENTS:
            found.append((("payment",), 'must be "installments" when installments is given'))
        if self.installment_provider is not None and self.payment is not Payment.INSTALLMENTS:
            found.append(
                (("payment",), 'must be "installments" when installment_provider is given')
            )
        start = self.delivered or self.ordered
        try:
            start + timedelta(days=self.window_days + 1)
        except OverflowError:  # the calendar ends before the window would
            field = "delivered" if self.delivered else "ordered"
            found.append(
                ((field,), f"{start} is too far in the future for a {self.window_days}-day window")
            )
        if found:
            raise invalid("Order", found)
        return self

    def with_window_label(self, days: int | None) -> Order:
        """Return the order with the window a product page's label gives it (``days``), when
        the order sets none of its own; as it is otherwise, or when the calendar ends first.

        A label never shortens the window the order has without it (the shop's, as the
        catalogue or the user's ``[shops.NAME]`` sets it): a window closed too early misses
        refunds the shop still owes, and a label read off a page is less sure than that.
        """
        if days is None or self.window_source is WindowSource.ORDER:
            return self
        if self.window_source is WindowSource.SHOP and days <= self.window_days:
            return self
        try:
            (self.delivered or self.ordered) + timedelta(days=days + 1)
        except OverflowError:
            return self
        return self.model_copy(update={"window_days": days, "window_source": WindowSource.LABEL})

    @property
    def paid_money(self) -> Money:
        return Money(self.paid, self.currency)

    @property
    def product_key(self) -> tuple[str, str]:
        """Orders with the same URL and SKU share one product, so one fetch serves them."""
        return (self.url, self.sku or "")

    def owed_at(self, price: Money) -> Money:
        """Return what a price is worth to the user: (paid - price) x quantity, never below 0."""
        return (self.paid_money - price).at_least_zero().times(self.quantity)

    def minimum_drop(self) -> Decimal:
        """The smallest drop per unit worth an alert, in the order's currency."""
        return self.threshold.of(self.paid)


@dataclass(frozen=True, slots=True)
class Product:
    """One thing to fetch, with the orders it serves: they share its URL and SKU, and the
    first of them speaks for the rest (its selector and currency)."""

    id: int
    shop: Shop
    orders: tuple[Order, ...]

    @property
    def url(self) -> str:
        return self.orders[0].url

    @property
    def sku(self) -> str | None:
        return self.orders[0].sku

    @property
    def selector(self) -> str | None:
        return self.orders[0].selector

    @property
    def currency(self) -> str:
        return self.orders[0].currency

    @property
    def fetch(self) -> FetchMode:
        """How its page is fetched: as its first order says, else as its shop does."""
        return self.orders[0].fetch or self.shop.fetch

    @property
    def key(self) -> str:
        return f"{self.url}#{self.sku}" if self.sku else self.url

    @property
    def label(self) -> str:
        return ", ".join(o.id for o in self.orders)

    @property
    def interval(self) -> timedelta:
        return min(o.interval for o in self.orders)

    @property
    def tags(self) -> tuple[str, ...]:
        """Every tag of its orders: alerts about the product go where any of them would."""
        return tuple(sorted({t for o in self.orders for t in o.tags}))
