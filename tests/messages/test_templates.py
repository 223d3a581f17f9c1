"""The message templates: the packaged ones use only their fields, and typos are caught."""

from __future__ import annotations

import string

import pytest

from monitor.messages.fields import FIELDS, TEMPLATES
from monitor.messages.templates import LANGUAGES, check_text, packaged


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(FIELDS))
def test_packaged_templates_use_only_known_fields(name: str, language: str) -> None:
    assert check_text(packaged(name, language), FIELDS[name]) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_support_request_names_everything_a_claim_needs(language: str) -> None:
    used = {
        field for _, field, _, _ in string.Formatter().parse(packaged("support", language)) if field
    }
    needed = {
        "order_id", "title", "variant", "quantity", "paid", "current", "seen_at", "url", "drop",
        "total", "ordered", "delivered", "deadline", "time_left", "payment", "payment_note",
    }  # fmt: skip
    assert needed <= used


def test_a_template_typo_is_reported_with_the_known_fields() -> None:
    (problem,) = check_text("订单 {ordr_id}", FIELDS["support"])
    assert problem.startswith("unknown field {ordr_id}; fields: ")
    assert check_text("{order_id", FIELDS["support"])[0].startswith("bad braces")


ORDER = {
    "order_id", "title", "variant", "quantity", "paid", "url", "seen_at", "deadline",
    "time_left", "days_left", "shop_name", "claim", "refund_path", "policy_note",
}  # fmt: skip
FAILURE = {"order_ids", "failures", "since", "reason", "url", "shop_name"}


def test_each_template_may_use_the_fields_of_its_typed_definition() -> None:
    assert {
        "support": ORDER
        | {"current", "drop", "total", "asked", "ordered", "delivered", "payment"}
        | {"payment_note", "refunded_line", "pending_line", "asked_line", "screenshot_line"},
        "drop": ORDER
        | {"current", "drop", "total", "asked", "further", "further_total", "last", "headline"}
        | {"window_note", "support_request", "evidence", "rule", "ledger_note"},
        "needs_review": ORDER | {"seen", "why"},
        "window_closing": {
            "order_id", "title", "deadline", "time_left", "hours_left", "owed_line", "claim",
            "shop_name",
        },
        "window_closed": {
            "order_id", "title", "deadline", "lowest", "owed", "claim_state", "claimed",
            "refunded", "missed", "shop_name",
        },
        "checks_failing": FAILURE,
        "recovered": FAILURE,
        "product_gone": FAILURE,
        "cookies_expired": FAILURE,
    } == FIELDS  # fmt: skip
    assert set(FIELDS) == set(TEMPLATES)


def test_a_line_whose_fields_are_all_empty_is_left_out_and_only_that_line() -> None:
    from monitor.messages.fields import WindowClosingFields
    from monitor.messages.templates import TemplateStore

    fields = WindowClosingFields(
        order_id="A-1",
        title="Kettle",
        deadline="2026-12-10 23:59",
        time_left="22 hours left",
        hours_left="22",
        owed_line="",
        claim="",  # a shop of the user's own names no claim channel
        shop_name="Corner Shop",
    )
    text = TemplateStore().render("window_closing", "en", fields)
    assert text.splitlines() == [
        '⏰ Price protection for "Kettle" (order A-1) ends 2026-12-10 23:59: 22 hours left.',
        "No claim is recorded yet.",  # its own line: it says something without the channel
        "Once you have claimed: price-monitor claim A-1",
    ]
