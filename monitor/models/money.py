"""Money and thresholds: an amount is a ``Decimal`` in one ISO 4217 currency, never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# Currencies whose prices carry no minor unit; everything else is shown with two decimals.
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "HUF", "TWD"})


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An amount in one ISO 4217 currency. Amounts in two currencies never mix."""

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

    def at_least_zero(self) -> Money:
        """Return this amount, or zero when it is below zero."""
        return Money(max(self.amount, Decimal(0)), self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    @property
    def places(self) -> int:
        """The number of decimals the currency is written with."""
        return 0 if self.currency in ZERO_DECIMAL_CURRENCIES else 2

    def rounded(self) -> Decimal:
        """Return the amount at the currency's usual precision (two places, or none)."""
        exponent = Decimal(1) if self.places == 0 else Decimal("0.01")
        return self.amount.quantize(exponent, rounding=ROUND_HALF_UP)


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
