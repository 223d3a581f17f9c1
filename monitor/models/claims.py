"""The user's claims on an order: a ledger of steps, and what the database remembers of an
order's alerts and claims."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.models.money import Money
from monitor.models.states import ClaimState, RefundForm


@dataclass(frozen=True, slots=True)
class Claim:
    """A step of the user's claim on an order: ``price-monitor claim``, ``refunded``, ``rejected``.

    A claim asks for ``amount``, based on the unit ``price``; a refund pays ``amount`` in
    ``form``; a rejection keeps what was asked for and says why in ``note``.
    """

    order_id: str
    state: ClaimState
    price: Money | None  # the unit price the claim was based on
    amount: Money | None  # what was claimed (or refunded)
    at: datetime
    note: str | None = None
    form: RefundForm | None = None  # for a refund: cash unless said otherwise


@dataclass(frozen=True, slots=True)
class OrderState:
    """What the database remembers about an order: its claim alerts, and every claim step."""

    last_alerted: Money | None = None  # the lowest price a claim alert named (sent or pending)
    last_asked: Money | None = None  # what the latest claim alert asked the shop for
    claims: tuple[Claim, ...] = ()  # every step of the user's claim, oldest first

    @property
    def claim(self) -> Claim | None:
        """The latest claim step, if any."""
        return self.claims[-1] if self.claims else None

    @property
    def baseline(self) -> Money | None:
        """The price a new alert must beat: the lowest alerted or claimed price."""
        claimed = [c.price for c in self.claims if c.state is ClaimState.CLAIMED and c.price]
        prices = [m for m in (self.last_alerted, *claimed[-1:]) if m]
        return min(prices, key=lambda m: m.amount) if prices else None
