"""The ledger: what each claim step records, and what price protection brought in."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from monitor import ledger
from monitor.models import Claim, ClaimState, Money, OrderState
from monitor.shops import catalogue
from monitor.testing import make_order

ORDER = make_order()  # two phones at 4999.00, a 7-day window from delivery on the 22nd
NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
ALERTED = OrderState(last_alerted=Money(Decimal("4599.00"), "CNY"))


def cny(amount: str) -> Money:
    return Money(Decimal(amount), "CNY")


def test_a_claim_defaults_to_what_the_last_alert_said() -> None:
    step = ledger.claimed(ORDER, ALERTED, at=NOW, note="ticket 42")
    assert step == Claim(
        "JD-1", ClaimState.CLAIMED, cny("4599.00"), cny("800.00"), NOW, "ticket 42"
    )


def test_a_claim_takes_the_price_or_amount_given_and_needs_one_of_them() -> None:
    at_price = ledger.claimed(ORDER, OrderState(), at=NOW, price=Decimal("4699.00"))
    assert at_price is not None and at_price.amount == cny("600.00")
    given = ledger.claimed(ORDER, ALERTED, at=NOW, amount=Decimal("500"))
    assert given is not None and (given.price, given.amount) == (cny("4599.00"), cny("500"))
    assert ledger.claimed(ORDER, OrderState(), at=NOW) is None  # nothing alerted, nothing given


def test_a_refund_and_a_rejection_keep_the_claimed_price() -> None:
    claim = ledger.claimed(ORDER, ALERTED, at=NOW)
    state = OrderState(last_alerted=ALERTED.last_alerted, claim=claim)
    refund = ledger.refunded(ORDER, state, at=NOW, amount=Decimal("400"))
    assert (refund.state, refund.price, refund.amount) == (
        ClaimState.REFUNDED,
        cny("4599.00"),
        cny("400"),
    )
    no = ledger.rejected(ORDER, state, at=NOW, reason="秒杀价格不参与价保")
    assert (no.state, no.price, no.amount, no.note) == (
        ClaimState.REJECTED,
        cny("4599.00"),
        cny("800.00"),
        "秒杀价格不参与价保",
    )


def test_totals_per_currency_by_where_each_order_stands() -> None:
    shops = catalogue()
    open_ = make_order(id="OPEN")
    missed = make_order(id="MISSED", ordered=date(2026, 11, 1), delivered=date(2026, 11, 2))
    usd = make_order(id="USD", currency="USD", paid=Decimal("349.00"))
    refunded = make_order(id="REFUNDED")
    states = {
        "OPEN": ALERTED,
        "MISSED": ALERTED,
        "USD": OrderState(last_alerted=Money(Decimal("299.00"), "USD")),
        "REFUNDED": OrderState(
            claim=Claim("REFUNDED", ClaimState.REFUNDED, cny("4599.00"), cny("400.00"), NOW)
        ),
    }
    result = ledger.totals([open_, missed, usd, refunded], shops, states, now=NOW)
    assert result.currencies() == ["CNY", "USD"]
    assert result.to_claim == {"CNY": Decimal("800.00"), "USD": Decimal("100.00")}
    assert result.missed == {"CNY": Decimal("800.00")}
    assert result.refunded == {"CNY": Decimal("400.00")}
    assert result.pending == {} and result.rejected == {}
