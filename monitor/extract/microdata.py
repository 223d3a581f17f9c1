"""Strategy ``microdata``: ``itemprop="price"`` inside the page's main schema.org Product.

A Product nested in another (related items, accessories) belongs to another product; so
does a second top-level Product when the first holds the page's heading. Old prices in
``<del>`` are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from selectolax.lexbor import LexborNode

from monitor.extract import prices, schema_org
from monitor.extract.document import MAX_EXAMINED, Document, Request, struck
from monitor.models import Availability, Candidate, Shop

NAME = "microdata"


@dataclass(frozen=True, slots=True)
class _Scopes:
    """The item scopes around a price node, found in one walk up the tree."""

    closest: LexborNode | None  # the nearest itemscope: its currency and availability
    product: LexborNode | None  # the nearest Product
    nested: bool  # that Product sits inside another: a related item or an accessory


def find(page: Document, request: Request, shop: Shop) -> list[Candidate]:
    """Candidates from ``itemprop=price`` inside the page's main Product item."""
    nodes = page.structured.itemprop_price[:MAX_EXAMINED]
    if not nodes:
        return []
    by_scope: dict[int, list[Candidate]] = {}
    tops: dict[int, LexborNode | None] = {}
    stated: dict[int, tuple[str | None, Availability]] = {}  # by scope, read once each
    for node in nodes:
        if struck(node):
            continue
        scopes = _scopes_of(node)
        if scopes.nested:
            continue
        raw = node.attributes.get("content") or node.text(strip=True) or ""
        parsed = prices.parse_price(raw)
        if parsed is None:
            continue
        currency, availability = parsed.currency, Availability.UNSTATED
        if scopes.closest is not None:
            key = scopes.closest.mem_id
            if key not in stated:
                stated[key] = _stated(scopes.closest)
            currency = stated[key][0] or currency
            availability = stated[key][1]
        top = scopes.product
        key = top.mem_id if top is not None else 0
        tops[key] = top
        by_scope.setdefault(key, []).append(
            Candidate(NAME, parsed.amount, currency, raw=raw[:80], availability=availability)
        )
    if len(by_scope) > 1:
        heading = page.tree.css_first("h1")
        for key, top in tops.items():
            if top is not None and heading is not None and _contains(top, heading):
                return by_scope[key]
    return [c for group in by_scope.values() for c in group]


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


def _stated(scope: LexborNode) -> tuple[str | None, Availability]:
    """The currency and availability an item scope states."""
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
    return currency or None, availability


def _contains(ancestor: LexborNode, node: LexborNode) -> bool:
    current: LexborNode | None = node
    while current is not None:
        if current.mem_id == ancestor.mem_id:
            return True
        current = current.parent
    return False
