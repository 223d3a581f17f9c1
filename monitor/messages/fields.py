"""What each message template may say: one typed definition per template.

A template's placeholders are the fields of its class (those of a nested group, such as
``OrderFields``, by their own names), and the builders in ``compose.py`` construct these
classes, so a field a builder forgets is a type error and a placeholder a user's template
misspells is a config problem. ``FIELDS`` is derived from the classes.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFields:
    """What every message about one order's price says: the order, the page, the window."""

    order_id: str
    title: str
    variant: str  # "，12GB+256GB 黑色（SKU …）": the variant's name, the SKU in brackets; or ""
    quantity: str
    paid: str
    url: str
    seen_at: str
    deadline: str  # the shop's last minute, with the reader's clock when it differs
    time_left: str  # "22 小时", "5 days": hours under 48 hours, whole days from then on
    days_left: str  # whole days left (0 under a day); ``time_left`` says it better
    shop_name: str
    claim: str  # how to claim: the shop's channel
    refund_path: str
    policy_note: str  # "check the shop's current policy" when the profile is uncertain


@dataclass(frozen=True, slots=True, kw_only=True)
class AmountFields:
    """The drop: the current price, the difference per unit, and times the quantity."""

    current: str
    drop: str
    total: str
    asked: str  # what to ask for now: the total, less what was refunded or claimed before


@dataclass(frozen=True, slots=True, kw_only=True)
class SupportFields:
    """``support``: the request the user pastes into the shop's chat."""

    order: OrderFields
    amounts: AmountFields
    refunded_line: str  # "已退差价：¥5.00（12-03）", or "" when nothing was refunded
    pending_line: str  # what was claimed before and waits for an answer, or ""
    asked_line: str  # the amount asked now, when it is not the whole difference, or ""
    ordered: str
    delivered: str  # "" when the config does not record it
    payment: str  # "" when the config does not say
    payment_note: str  # where the difference should go back (installments: the plan)
    screenshot_line: str  # "截图见附件。" when the alert attaches a screenshot, else ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DropFields:
    """``drop``: a drop or a further drop, with the support request inside."""

    order: OrderFields
    amounts: AmountFields
    further: str
    further_total: str
    last: str
    ledger_note: str  # what was refunded or claimed before, or "" when nothing was
    headline: str
    window_note: str
    support_request: str
    evidence: str
    rule: str  # the line around the support request: a rule in text, ``` in Markdown


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewFields:
    """``needs_review``: a price to check by hand, and why."""

    order: OrderFields
    seen: str
    why: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowClosingFields:
    """``window_closing``: the window ends soon and a drop is unclaimed."""

    order_id: str
    title: str
    deadline: str
    time_left: str  # by the same rule as every other message's
    hours_left: str  # whole hours left
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
    """``checks_failing``, ``recovered``, ``product_gone``, ``cookies_expired``: a product,
    not one order."""

    order_ids: str
    failures: str
    since: str
    reason: str
    url: str
    shop_name: str


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
    "cookies_expired": FailureFields,
}


def placeholders(kind: type) -> frozenset[str]:
    """Return the placeholders a fields class offers: its own and its groups' fields."""
    hints = typing.get_type_hints(kind)
    names: set[str] = set()
    for f in dataclasses.fields(kind):
        group = hints[f.name]
        nested = isinstance(group, type) and dataclasses.is_dataclass(group)
        names |= placeholders(group) if nested else {f.name}
    return frozenset(names)


# Fields kept for the templates users wrote before ``time_left``; using one is a warning.
OUTDATED_FIELDS: Mapping[str, str] = {
    "days_left": "it counts whole days only (0 under a day); {time_left} says "
    '"22 小时" or "5 天" by the rule every packaged message follows',
    "hours_left": 'it counts hours even weeks ahead; {time_left} says "22 小时" or '
    '"5 天" by the rule every packaged message follows',
}

FIELDS: Mapping[str, frozenset[str]] = {
    name: placeholders(kind) for name, kind in TEMPLATES.items()
}


def as_mapping(fields: object) -> dict[str, str]:
    """Return the fields by name (a group's fields as its own), to fill a template or a title."""
    values: dict[str, str] = {}
    for f in dataclasses.fields(fields):  # type: ignore[arg-type]
        value = getattr(fields, f.name)
        values.update(as_mapping(value) if dataclasses.is_dataclass(value) else {f.name: value})
    return values
