"""The claims ledger end to end, as a user lives it: an alert, a claim, a partial refund, a
further drop that asks for exactly what is still owed, and savings that forget nothing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.testing import JsonReceiver, LoopbackShop, order_table, run_cli, write_config


def refund_time(path: Path) -> datetime:
    """When the refund was recorded, in the teststore's zone."""
    from monitor.config import load_config
    from monitor.history import History
    from monitor.models import ClaimState

    history = History.open(load_config(path).database)
    try:
        (refund,) = [c for c in history.claims() if c.state is ClaimState.REFUNDED]
    finally:
        history.close()
    return refund.at.astimezone(ZoneInfo("America/New_York"))


def savings_row(path: Path) -> list[str]:
    return run_cli(path, "savings").stdout.splitlines()[1].split()


def test_a_partial_refund_makes_the_next_request_ask_for_exactly_what_is_owed(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    url = shop.add("/grinder", "90.00", currency="USD", title="Grinder")
    order = order_table(url, "A-1", paid="100.00", shop="teststore", title="Grinder")
    path = write_config(tmp_path / "config.toml", orders=[order], urls=[receiver.url])
    run_cli(path, "check")
    (first,) = receiver.wait_for(1)
    assert first["title"] == "Price drop: claim $10.00 on Grinder (order A-1)"
    assert "claimed $10.00 at $90.00 each" in run_cli(path, "claim", "A-1").output
    assert "refunded $5.00." in run_cli(path, "refunded", "A-1", "--amount", "5").output

    shop.set_price("/grinder", "80.00")
    run_cli(path, "check")
    second = receiver.wait_for(2)[1]
    # $20 is the difference, $5 came back: $15 is what to ask for, in the title and the text.
    assert second["title"] == "Further drop: claim $15.00 on Grinder (order A-1)"
    text = second["message"]
    # The text to paste dates the refund in the shop's zone (New York), the note to you in
    # yours: on either side of midnight they are different days.
    from monitor.config import load_config

    refunded = refund_time(path)
    for_the_shop = f"{refunded:%m-%d}"
    for_you = f"{refunded.astimezone(load_config(path).timezone):%m-%d}"
    assert "Difference: $20.00 × 1 = $20.00" in text
    assert f"Already refunded: $5.00 on {for_the_shop}" in text
    assert "Asked for now: $15.00" in text
    assert (
        f"you can claim $15.00. (the difference is $20.00; already refunded $5.00 on {for_you})"
        in text
    )
    assert "awaiting an answer" not in text  # the refund answered the first claim

    assert "claimed $15.00 at $80.00 each" in run_cli(path, "claim", "A-1").output
    assert savings_row(path) == ["USD", "$5.00", "$15.00", "-", "-", "-"]  # refunded, pending

    coupon = run_cli(path, "refunded", "A-1", "--amount", "3", "--as", "coupon")
    assert "refunded $3.00 as coupon." in coupon.output
    header = run_cli(path, "savings").stdout.splitlines()[0].split("  ")
    assert [h.strip() for h in header if h.strip()] == [
        "currency", "refunded", "in coupons/credit", "pending", "to claim", "missed", "rejected",
    ]  # fmt: skip
    # The coupon answered the $15 claim with $3: $12 of the difference is still owed.
    assert savings_row(path) == ["USD", "$5.00", "$3.00", "-", "$12.00", "-", "-"]

    # The order leaves the config: what it brought in stays counted, marked as removed.
    write_config(path, orders=[], urls=[receiver.url])
    result = run_cli(path, "savings").stdout
    assert result.splitlines()[1].split() == ["USD", "$5.00", "$3.00", "-", "-", "-", "-"]
    assert "Including 1 order no longer in the config (removed)" in result


def test_a_refund_with_no_claim_records_the_claim_it_answers(
    tmp_path: Path, shop: LoopbackShop
) -> None:
    url = shop.add("/grinder", "90.00", currency="USD")
    order = order_table(url, "A-2", paid="100.00", shop="teststore")
    path = write_config(tmp_path / "config.toml", orders=[order], urls=[])
    result = run_cli(path, "refunded", "A-2", "--amount", "10")
    assert "no claim was recorded: one for the same amount is, with it" in result.output
    assert savings_row(path) == ["USD", "$10.00", "-", "-", "-", "-"]
    rejected = run_cli(path, "rejected", "A-2", code=2)  # the refund answered it
    assert "nothing to reject" in rejected.output
