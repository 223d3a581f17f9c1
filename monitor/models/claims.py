"""The user's claims on an order, and what the database remembers of its alerts and claims."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.models.money import Money
from monitor.models.states import ClaimState


@dataclass(frozen=True, slots=True)
class Claim:
    """A step of the user's claim on an order: ``price-monitor claim``, ``refunded``, ``rejected``."""

    order_id: str
    state: ClaimState
    price: Money | None  # the unit price the claim was based on
    amount: Money | None  # what was claimed (or refunded)
    at: datetime
    note: str | None = None


@dataclass(frozen=True, slots=True)
class OrderState:
    """What the database remembers about an order's alerts and its latest claim step."""

    last_alerted: Money | None = None  # the lowest price a claim alert named (sent or pending)
    claim: Claim | None = None

    @property
    def baseline(self) -> Money | None:
        """The price a new alert must beat: the lowest alerted or claimed price."""
        prices = [m for m in (self.last_alerted, self.claim.price if self.claim else None) if m]
        return min(prices, key=lambda m: m.amount) if prices else None
