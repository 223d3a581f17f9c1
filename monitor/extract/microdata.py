"""Strategy ``microdata``: ``itemprop="price"`` inside the page's main schema.org Product.

A Product nested in another (related items, accessories) belongs to another product; so
does a second top-level Product when the first holds the page's heading (or is named like
it). Old prices are left out: in ``<del>`` or ``<s>``, or in an offer whose
``priceValidUntil`` has passed while another offer's has not.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from selectolax.lexbor import LexborNode

from monitor.extract import prices, schema_org
from monitor.extract.document import MAX_EXAMINED, Document, struck
from monitor.extract.request import Request
from monitor.models import Availability, Candidate

if TYPE_CHECKING:  # config models reach the page readers as Views (monitor.models.view)
    from monitor.models import Shop


NAME = "microdata"


@dataclass(frozen=True, slots=True)
class _Scopes:
    """The item scopes around a price node, found in one walk up the tree."""

    closest: LexborNode | None  # the nearest itemscope: its currency and availability
    product: LexborNode | None  # the nearest Product
    nested: bool  # that Product sits inside another: a related item or an accessory


def find(page: Document, request: Request, shop: Shop) -> list[Candidate]:
    """Candidates from ``itemprop=price`` inside the page's main Product item."""
    nodes = page.itemprop_price[:MAX_EXAMINED]
    if not nodes:
        return []
    by_scope: dict[int, list[tuple[Candidate, bool]]] = {}  # each with: is it an old price?
    tops: dict[int, LexborNode | None] = {}
    stated: dict[int, _Stated] = {}  # by scope, read once each
    for node in nodes:
        if struck(node):
            continue
        scopes = _scopes_of(node)
        if scopes.nested:
            continue
        raw = node.attributes.get("content") or node.text(strip=True) or ""
        parsed = prices.parse_price(raw, request.currency)
        if parsed is None:
            continue
        currency, availability, until = parsed.currency, Availability.UNSTATED, None
        if scopes.closest is not None:
            key = scopes.closest.mem_id
            if key not in stated:
                stated[key] = _stated(scopes.closest)
            currency = stated[key].currency or currency
            availability = stated[key].availability
            until = stated[key].valid_until
        top = scopes.product
        key = top.mem_id if top is not None else 0
        tops[key] = top
        candidate = Candidate(
            NAME,
            parsed.amount,
            currency,
            raw=raw[:80],
            availability=availability,
            refused=parsed.refused,
        )
        expired = request.today is not None and until is not None and until < request.today
        by_scope.setdefault(key, []).append((candidate, expired))
    main = _main(page, tops) if len(by_scope) > 1 else None
    found = by_scope[main] if main is not None else [c for g in by_scope.values() for c in g]
    current = [c for c, expired in found if not expired]
    return current or [c for c, _ in found]


def _main(page: Document, tops: dict[int, LexborNode | None]) -> int | None:
    """Of several top-level Products, the key of the page's own: the one holding the page's
    heading, else the one named like it; None when none can be told apart."""
    heading = page.first_heading
    if heading is None:
        return None
    for key, top in tops.items():
        if top is not None and _contains(top, heading):
            return key
    for key, top in tops.items():
        name = top.css_first('[itemprop="name"]') if top is not None else None
        if name is not None:
            named = name.attributes.get("content") or name.text(strip=True, separator=" ")
            if schema_org.same_name(named, page.heading):
                return key
    return None


def _scopes_of(node: LexborNode) -> _Scopes:
    closest = product = None
    current: LexborNode | None = node.parent
    while current is not None:
        attributes = current.attributes if current.tag != "-undef" else {}
        if closest is None and "itemscope" in attributes:
            closest = current
        itemtype = attributes.get("itemtype")
        if itemtype and "Product" in itemtype:
            if product is not None:
                return _Scopes(closest, product, nested=True)
            product = current
        current = current.parent
    return _Scopes(closest, product, nested=False)


@dataclass(frozen=True, slots=True)
class _Stated:
    """What an item scope states beside its price."""

    currency: str | None
    availability: Availability
    valid_until: dt.date | None


def _stated(scope: LexborNode) -> _Stated:
    """The currency, availability and ``priceValidUntil`` an item scope states."""
    currency = None
    currency_node = scope.css_first('[itemprop="priceCurrency"]')
    if currency_node is not None:
        currency = currency_node.attributes.get("content") or currency_node.text(strip=True)
    availability = Availability.UNSTATED
    availability_node = scope.css_first('[itemprop="availability"]')
    if availability_node is not None:
        availability = schema_org.availability(
            availability_node.attributes.get("href")
            or availability_node.attributes.get("content")
            or availability_node.text(strip=True)
        )
    valid_until = None
    until_node = scope.css_first('[itemprop="priceValidUntil"]')
    if until_node is not None:
        attributes = until_node.attributes
        until = attributes.get("content") or attributes.get("datetime")
        valid_until = schema_org.date(until or until_node.text(strip=True))
    return _Stated(currency or None, availability, valid_until)


def _contains(ancestor: LexborNode, node: LexborNode) -> bool:
    current: LexborNode | None = node
    while current is not None:
        if current.mem_id == ancestor.mem_id:
            return True
        current = current.parent
    return False
