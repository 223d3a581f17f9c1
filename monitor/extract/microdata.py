"""Strategy ``microdata``: ``itemprop="price"`` inside the page's main schema.org Product.

A Product nested in another (related items, accessories) belongs to another product; so
does a second top-level Product when the first holds the page's heading. Old prices in
``<del>`` are left out.
"""

from __future__ import annotations

from selectolax.lexbor import LexborNode

from monitor.extract import prices, schema_org
from monitor.extract.document import Document, Request, struck
from monitor.models import Availability, Candidate, Shop

NAME = "microdata"
_NESTED_PRICE = '[itemtype*="Product"] [itemtype*="Product"] [itemprop="price"]'


def find(page: Document, request: Request, shop: Shop) -> list[Candidate]:
    """Candidates from ``itemprop=price`` inside the page's main Product item."""
    nodes = page.structured.itemprop_price
    if not nodes:
        return []
    tree = page.tree
    by_scope: dict[int, list[Candidate]] = {}
    tops: dict[int, LexborNode | None] = {}
    nested = {n.mem_id for n in tree.css(_NESTED_PRICE)}
    for node in nodes:
        if node.mem_id in nested or struck(node):
            continue
        raw = node.attributes.get("content") or node.text(strip=True) or ""
        parsed = prices.parse_price(raw)
        if parsed is None:
            continue
        scope = _closest_scope(node)
        currency, availability = parsed.currency, Availability.UNSTATED
        if scope is not None:
            currency_node = scope.css_first('[itemprop="priceCurrency"]')
            if currency_node is not None:
                currency = (
                    currency_node.attributes.get("content") or currency_node.text(strip=True)
                ) or currency
            availability_node = scope.css_first('[itemprop="availability"]')
            if availability_node is not None:
                availability = schema_org.availability(
                    availability_node.attributes.get("href")
                    or availability_node.attributes.get("content")
                    or availability_node.text(strip=True)
                )
        top = _product_scope(node)
        key = top.mem_id if top is not None else 0
        tops[key] = top
        by_scope.setdefault(key, []).append(
            Candidate(NAME, parsed.amount, currency, raw=raw[:80], availability=availability)
        )
    if len(by_scope) > 1:
        heading = tree.css_first("h1")
        for key, top in tops.items():
            if top is not None and heading is not None and _contains(top, heading):
                return by_scope[key]
    return [c for group in by_scope.values() for c in group]


def _product_scope(node: LexborNode) -> LexborNode | None:
    """Return the Product item scope around a node (the nearest; nested ones are left out)."""
    current: LexborNode | None = node.parent
    while current is not None:
        itemtype = current.attributes.get("itemtype") if current.tag != "-undef" else None
        if itemtype and "Product" in itemtype:
            return current
        current = current.parent
    return None


def _closest_scope(node: LexborNode) -> LexborNode | None:
    current: LexborNode | None = node.parent
    while current is not None:
        if "itemscope" in current.attributes:
            return current
        current = current.parent
    return None


def _contains(ancestor: LexborNode, node: LexborNode) -> bool:
    current: LexborNode | None = node
    while current is not None:
        if current.mem_id == ancestor.mem_id:
            return True
        current = current.parent
    return False
