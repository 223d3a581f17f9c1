"""The ledger: what each claim step records, what an order still owes, what it brought in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from monitor import ledger
from monitor.models import Claim, ClaimState, Money, OrderState, RefundForm
from monitor.shops import catalogue
from monitor.testing import make_order

ORDER = make_order()  # two phones at 4999.00, a 7-day window from delivery on the 22nd
NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
ALERTED = OrderState(last_alerted=Money(Decimal("4599.00"), "CNY"), last_asked=None)


def cny(amount: str) -> Money:
    return Money(Decimal(amount), "CNY")


def step(state: ClaimState, amount: str, **more: object) -> Claim:
    return Claim("JD-1", state, cny("4599.00"), cny(amount), NOW, **more)  # type: ignore[arg-type]


def test_a_refund_answers_the_claims_before_it_and_a_rejection_counts_them_rejected() -> None:
    steps = [
        step(ClaimState.CLAIMED, "800"),
        step(ClaimState.REFUNDED, "300"),  # partly: the claim is answered
        step(ClaimState.CLAIMED, "100"),
        step(ClaimState.REFUNDED, "20", form=RefundForm.COUPON),
        step(ClaimState.CLAIMED, "50"),
        step(ClaimState.REJECTED, "50"),
        step(ClaimState.CLAIMED, "40"),
    ]
    so_far = ledger.balance(steps, "CNY")
    assert (so_far.refunded, so_far.pending, so_far.rejected) == (cny("320"), cny("40"), cny("50"))
    assert so_far.by_form == {RefundForm.CASH: cny("300"), RefundForm.COUPON: cny("20")}
    assert so_far.last_refund_at == NOW


def test_what_is_owed_is_the_difference_less_refunded_and_pending_never_below_zero() -> None:
    steps = [step(ClaimState.CLAIMED, "800"), step(ClaimState.REFUNDED, "500")]
    assert ledger.owed(ORDER, cny("4499.00"), steps) == cny("500.00")  # 2 x 500 - 500
    pending = [*steps, step(ClaimState.CLAIMED, "300")]
    assert ledger.owed(ORDER, cny("4499.00"), pending) == cny("200.00")
    assert ledger.owed(ORDER, cny("4899.00"), pending) == cny("0.00")  # never below zero


def test_a_claim_defaults_to_what_the_last_alert_asked_at_the_lowest_alerted_price() -> None:
    asked = OrderState(last_alerted=cny("4599.00"), last_asked=cny("600.00"))
    claim = ledger.claimed(ORDER, asked, at=NOW, note="ticket 42")
    assert claim == Claim(
        "JD-1", ClaimState.CLAIMED, cny("4599.00"), cny("600.00"), NOW, "ticket 42"
    )
    # Without an alert's ask, what the lowest price is worth now.
    assert ledger.claimed(ORDER, ALERTED, at=NOW) == Claim(
        "JD-1", ClaimState.CLAIMED, cny("4599.00"), cny("800.00"), NOW
    )


def test_a_claim_takes_the_price_or_amount_given_and_needs_one_of_them() -> None:
    at_price = ledger.claimed(ORDER, OrderState(), at=NOW, price=Decimal("4699.00"))
    assert at_price is not None and at_price.amount == cny("600.00")
    given = ledger.claimed(ORDER, ALERTED, at=NOW, amount=Decimal("500"))
    assert given is not None and (given.price, given.amount) == (cny("4599.00"), cny("500"))
    assert ledger.claimed(ORDER, OrderState(), at=NOW) is None  # nothing alerted, nothing given


def test_a_refund_without_a_claim_records_the_claim_it_answers() -> None:
    (implicit, refund) = ledger.refunded(ORDER, ALERTED, at=NOW, amount=Decimal("300"))
    assert (implicit.state, implicit.amount, implicit.note) == (
        ClaimState.CLAIMED,
        cny("300"),
        "implicit: refunded",
    )
    assert (refund.state, refund.amount, refund.form) == (
        ClaimState.REFUNDED,
        cny("300"),
        RefundForm.CASH,
    )
    claimed = OrderState(
        last_alerted=ALERTED.last_alerted, claims=(step(ClaimState.CLAIMED, "800"),)
    )
    (only,) = ledger.refunded(ORDER, claimed, at=NOW, amount=Decimal("5"), form=RefundForm.CREDIT)
    assert (only.state, only.form, only.price) == (
        ClaimState.REFUNDED,
        RefundForm.CREDIT,
        cny("4599.00"),
    )


def test_a_rejection_needs_a_claim_waiting_for_its_answer() -> None:
    assert ledger.rejected(ORDER, ALERTED, at=NOW, reason="秒杀") is None
    waiting = OrderState(claims=(step(ClaimState.CLAIMED, "800"),))
    no = ledger.rejected(ORDER, waiting, at=NOW, reason="秒杀价格不参与价保")
    assert no is not None
    assert (no.state, no.price, no.amount, no.note) == (
        ClaimState.REJECTED,
        cny("4599.00"),
        cny("800"),
        "秒杀价格不参与价保",
    )


def test_totals_per_currency_by_where_each_order_stands() -> None:
    shops = catalogue()
    open_ = make_order(id="OPEN")
    missed = make_order(id="MISSED", ordered=date(2026, 11, 1), delivered=date(2026, 11, 2))
    usd = make_order(id="USD", currency="USD", paid=Decimal("349.00"))
    refunded = make_order(id="REFUNDED")
    later = NOW - timedelta(hours=1)
    states = {
        "OPEN": ALERTED,
        "MISSED": ALERTED,
        "USD": OrderState(last_alerted=Money(Decimal("299.00"), "USD")),
        "REFUNDED": OrderState(
            claims=(
                Claim("REFUNDED", ClaimState.CLAIMED, cny("4599.00"), cny("800.00"), later),
                Claim("REFUNDED", ClaimState.REFUNDED, cny("4599.00"), cny("400.00"), NOW),
            )
        ),
        "GONE": OrderState(
            claims=(
                Claim("GONE", ClaimState.CLAIMED, None, cny("50.00"), later),
                Claim("GONE", ClaimState.REFUNDED, None, cny("50.00"), NOW, form=RefundForm.COUPON),
            )
        ),
    }
    result = ledger.totals(
        [open_, missed, usd, refunded], shops, states, now=NOW, removed={"GONE": "CNY"}
    )
    assert result.currencies() == ["CNY", "USD"]
    assert result.to_claim == {"CNY": Decimal("800.00"), "USD": Decimal("100.00")}
    assert result.missed == {"CNY": Decimal("800.00")}
    assert result.refunded == {"CNY": Decimal("400.00")}
    assert result.in_kind == {"CNY": Decimal("50.00")}  # the removed order's coupon counts
    assert result.removed == 1
    assert result.pending == {} and result.rejected == {}
