"""A redirect the fetcher will not follow is one `unknown` that counts towards checks failing,
through the real `price-monitor check`; the other products of the config are still read."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from monitor.clock import utcnow
from monitor.history import History
from monitor.models import AlertKind, Status
from monitor.testing import Answer, JsonReceiver, LoopbackShop, order_table, run_cli, write_config

JAVASCRIPT = Answer(302, b"", {"Location": "javascript:alert(1)"})
REASON = "redirected to a javascript: URL; only http and https are followed"


def test_a_page_redirected_to_javascript_is_unknown_and_the_other_products_are_still_read(
    tmp_path: Path, shop: LoopbackShop, receiver: JsonReceiver
) -> None:
    hostile = shop.add("/hostile", "4599.00")  # a drop, were the page ever read
    shop.script("/hostile", JAVASCRIPT, JAVASCRIPT)
    healthy = shop.add("/healthy", "4999.00")
    shop.add("/new-home", "4899.00")
    moved = shop.url("/old-home")  # moved on the same site: followed
    shop.script("/old-home", *[Answer(301, b"", {"Location": "/new-home"})] * 2)
    path = write_config(
        tmp_path / "config.toml",
        orders=[
            order_table(hostile, "HOSTILE"),
            order_table(healthy, "HEALTHY"),
            order_table(moved, "MOVED"),
        ],
        urls=[receiver.url],
        monitor={"failing_after": 2},
    )

    first = run_cli(path, "check").output
    second = run_cli(path, "check").output

    for output in (first, second):
        assert f"HOSTILE: unknown: {REASON}" in output, output
        assert "HEALTHY: ¥4,999.00 (json-ld)" in output, output
        assert "MOVED: ¥4,899.00 (json-ld)" in output, output
    assert shop.requests("/hostile") == 2  # one request a check: a refusal is not retried
    assert shop.requests("/new-home") == 2

    history = History.open(tmp_path / "state.db")
    try:
        state = history.product_state(history.product_id(hostile, None, now=utcnow()))
        assert (state.last_status, state.last_reason, state.failures) == (
            Status.UNKNOWN,
            REASON,
            2,
        )
        assert history.price_runs(state.id) == []
        healthy_id = history.product_id(healthy, None, now=utcnow())
        assert [r.price.amount for r in history.price_runs(healthy_id)] == [Decimal("4999.00")]
        alerts = [(a.message.order_id, a.message.kind) for a in history.outbox.entries()]
    finally:
        history.close()
    # Two failures in a row: checks failing, naming the reason; and the moved page's drop.
    assert sorted(alerts) == [("HOSTILE", AlertKind.CHECKS_FAILING), ("MOVED", AlertKind.DROP)]
    messages = receiver.wait_for(2)
    (failing,) = [m for m in messages if "HOSTILE" in m["title"]]
    assert REASON in failing["message"]
    # The drop names the page the price was read at, not the address it was moved from.
    (drop,) = [m for m in messages if "MOVED" in m["title"]]
    assert f"页面：{shop.url('/new-home')}\n" in drop["message"]
    assert moved not in drop["message"]
