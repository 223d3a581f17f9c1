"""Pure: the user's claims, refunds and rejections, as a ledger of steps per order; what each
new step records, what an order still owes the user, and what price protection brought in.

Amounts are ``Decimal`` in the order's currency; currencies are never mixed. What is owed at
a price is (paid - price) x quantity - refunded - claimed and not yet answered, never below 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from monitor.models import (
    Claim,
    ClaimState,
    Money,
    Order,
    OrderState,
    RefundForm,
    Shop,
    window_for,
)


@dataclass(frozen=True, slots=True)
class Balance:
    """An order's claim steps, summed: what was refunded (and in what form), what waits for
    the shop's answer, and what the shop turned down."""

    refunded: Money
    pending: Money  # claimed, no answer yet
    rejected: Money
    by_form: Mapping[RefundForm, Money] = field(default_factory=dict)
    last_refund_at: datetime | None = None


def balance(claims: Sequence[Claim], currency: str) -> Balance:
    """Given an order's claim steps, oldest first, return their balance.

    A refund or a rejection answers every claim before it: the claims it answers are no
    longer pending, and a rejection counts what they asked for as rejected.
    """
    zero = Money(Decimal(0), currency)
    refunded, pending, rejected = zero, zero, zero
    by_form: dict[RefundForm, Money] = {}
    last_refund_at = None
    for step in claims:
        amount = step.amount if step.amount is not None else zero
        if step.state is ClaimState.CLAIMED:
            pending += amount
        elif step.state is ClaimState.REFUNDED:
            refunded += amount
            form = step.form or RefundForm.CASH
            by_form[form] = by_form.get(form, zero) + amount
            last_refund_at = step.at
            pending = zero
        else:
            rejected += pending
            pending = zero
    return Balance(refunded, pending, rejected, by_form, last_refund_at)


def owed(order: Order, price: Money, claims: Sequence[Claim]) -> Money:
    """Return what the user can still ask for at ``price``: the difference times the quantity,
    less what was refunded and what is claimed and not yet answered; never below 0."""
    so_far = balance(claims, order.currency)
    return (order.owed_at(price) - so_far.refunded - so_far.pending).at_least_zero()


def claimed(
    order: Order,
    state: OrderState,
    *,
    at: datetime,
    price: Decimal | None = None,
    amount: Decimal | None = None,
    note: str | None = None,
) -> Claim | None:
    """Return the claim the user made on an order: by default what the latest alert asked
    for, at the lowest alerted price. Return None when no price is given or alerted."""
    unit = Money(price, order.currency) if price else state.baseline
    if amount is None and unit is None:
        return None
    if amount is not None:
        total: Money | None = Money(amount, order.currency)
    elif price is None and state.last_asked is not None:
        total = state.last_asked
    else:
        total = owed(order, unit, state.claims) if unit else None
    return Claim(order.id, ClaimState.CLAIMED, unit, total, at, note)


def refunded(
    order: Order,
    state: OrderState,
    *,
    at: datetime,
    amount: Decimal,
    form: RefundForm = RefundForm.CASH,
    note: str | None = None,
) -> list[Claim]:
    """Return the steps that record a refund the shop paid on an order.

    A refund with no claim before it (the user asked in the shop's chat and went straight to
    recording the answer) is recorded with the claim it answers: the same amount, at the
    same time, noted as implicit.
    """
    refund = Money(amount, order.currency)
    steps = []
    if balance(state.claims, order.currency).pending.amount == 0 and not _claimed_ever(state):
        steps.append(
            Claim(order.id, ClaimState.CLAIMED, state.baseline, refund, at, "implicit: refunded")
        )
    price = _claimed_price(state) or state.baseline
    steps.append(Claim(order.id, ClaimState.REFUNDED, price, refund, at, note, form))
    return steps


def rejected(
    order: Order, state: OrderState, *, at: datetime, reason: str | None = None
) -> Claim | None:
    """Return the shop's refusal of the pending claim on an order; None when no claim waits
    for an answer (there is nothing to turn down)."""
    waiting = balance(state.claims, order.currency).pending
    if waiting.amount == 0:
        return None
    return Claim(order.id, ClaimState.REJECTED, _claimed_price(state), waiting, at, reason)


def _claimed_ever(state: OrderState) -> bool:
    return any(c.state is ClaimState.CLAIMED for c in state.claims)


def _claimed_price(state: OrderState) -> Money | None:
    prices = [c.price for c in state.claims if c.state is ClaimState.CLAIMED and c.price]
    return prices[-1] if prices else None


@dataclass
class Totals:
    """Per-currency sums; each maps an ISO code to an amount."""

    refunded: dict[str, Decimal] = field(default_factory=dict)  # in cash
    in_kind: dict[str, Decimal] = field(default_factory=dict)  # as coupons or store credit
    pending: dict[str, Decimal] = field(default_factory=dict)  # claimed, no answer yet
    to_claim: dict[str, Decimal] = field(default_factory=dict)  # alerted, window open
    missed: dict[str, Decimal] = field(default_factory=dict)  # alerted, window closed, unclaimed
    rejected: dict[str, Decimal] = field(default_factory=dict)
    removed: int = 0  # orders no longer in the config whose steps are counted

    def currencies(self) -> list[str]:
        found: set[str] = set()
        for part in (
            self.refunded,
            self.in_kind,
            self.pending,
            self.to_claim,
            self.missed,
            self.rejected,
        ):
            found |= set(part)
        return sorted(found)


def totals(
    orders: Iterable[Order],
    shops: Mapping[str, Shop],
    states: Mapping[str, OrderState],
    *,
    now: datetime,
    removed: Mapping[str, str] | None = None,
) -> Totals:
    """Given each order's alert and claim state, return the totals per currency.

    ``removed`` maps the orders no longer in the config to their currency: their refunds,
    pending claims and rejections still count (their windows are not known any more).
    """
    result = Totals()
    for order in orders:
        state = states.get(order.id, OrderState())
        so_far = _add_balance(result, state.claims, order.currency)
        if state.last_alerted is None:
            continue
        left = (
            order.owed_at(state.last_alerted) - so_far.refunded - so_far.pending
        ).at_least_zero()
        if left.amount == 0 or so_far.rejected.amount:
            continue
        window = window_for(order, shops[order.shop])
        _add(result.to_claim if window.is_open(now) else result.missed, left)
    for order_id, currency in (removed or {}).items():
        _add_balance(result, states.get(order_id, OrderState()).claims, currency)
        result.removed += 1
    return result


def _add_balance(result: Totals, claims: Sequence[Claim], currency: str) -> Balance:
    so_far = balance(claims, currency)
    for form, money in so_far.by_form.items():
        _add(result.refunded if form is RefundForm.CASH else result.in_kind, money)
    _add(result.pending, so_far.pending)
    _add(result.rejected, so_far.rejected)
    return so_far


def _add(bucket: dict[str, Decimal], money: Money) -> None:
    if money.amount:
        bucket[money.currency] = bucket.get(money.currency, Decimal(0)) + money.amount
