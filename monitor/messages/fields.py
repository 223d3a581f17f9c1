"""What each message template may say: one typed definition per template.

A template's placeholders are the fields of its class, and the builders in ``compose.py``
construct these classes, so a field a builder forgets is a type error and a placeholder a
user's template misspells is a config problem. ``FIELDS`` is derived from the classes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceFields:
    """What every message about one order's price says: the order, the page, the window."""

    order_id: str
    title: str
    variant: str  # "（12GB+256GB 黑色），SKU …" or "" when the order names none
    quantity: str
    paid: str
    url: str
    seen_at: str
    deadline: str
    days_left: str
    shop_name: str
    claim: str  # how to claim: the shop's channel
    refund_path: str
    policy_note: str  # "check the shop's current policy" when the profile is uncertain


@dataclass(frozen=True, slots=True, kw_only=True)
class SupportFields(PriceFields):
    """``support``: the request the user pastes into the shop's chat."""

    current: str
    drop: str
    total: str
    ordered: str
    delivered: str
    payment: str
    payment_note: str  # where the difference should go back (installments: the plan)


@dataclass(frozen=True, slots=True, kw_only=True)
class DropFields(PriceFields):
    """``drop``: a drop or a further drop, with the support request inside."""

    current: str
    drop: str
    total: str
    further: str
    further_total: str
    last: str
    headline: str
    window_note: str
    support_request: str
    evidence: str
    rule: str  # the line around the support request: a rule in text, ``` in Markdown


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewFields(PriceFields):
    """``needs_review``: a price to check by hand, and why."""

    seen: str
    why: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowClosingFields:
    """``window_closing``: the window ends soon and a drop is unclaimed."""

    order_id: str
    title: str
    deadline: str
    hours_left: str
    owed_line: str
    claim: str
    shop_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowClosedFields:
    """``window_closed``: what the window brought: claimed, refunded, or missed."""

    order_id: str
    title: str
    deadline: str
    lowest: str
    owed: str
    claim_state: str
    claimed: str
    refunded: str
    missed: str
    shop_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FailureFields:
    """``checks_failing``, ``recovered``, ``product_gone``: a product, not one order."""

    order_ids: str
    failures: str
    since: str
    reason: str
    url: str


Fields = (
    SupportFields
    | DropFields
    | ReviewFields
    | WindowClosingFields
    | WindowClosedFields
    | FailureFields
)

# Each template, by name, with the definition of the fields it may use.
TEMPLATES: Mapping[str, type[Fields]] = {
    "support": SupportFields,
    "drop": DropFields,
    "needs_review": ReviewFields,
    "window_closing": WindowClosingFields,
    "window_closed": WindowClosedFields,
    "checks_failing": FailureFields,
    "recovered": FailureFields,
    "product_gone": FailureFields,
}

FIELDS: Mapping[str, frozenset[str]] = {
    name: frozenset(f.name for f in dataclasses.fields(kind)) for name, kind in TEMPLATES.items()
}


def as_mapping(fields: Fields) -> dict[str, str]:
    """Return the fields by name, to fill a template or a title."""
    return {f.name: getattr(fields, f.name) for f in dataclasses.fields(fields)}
