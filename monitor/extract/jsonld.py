"""Strategy ``json-ld``: the offers of the page's schema.org Product (or ProductGroup
variants) in ``<script type="application/ld+json">``.

JSON-LD is read as leniently as the search engines read it: capitalised properties
(``"Offers"``), ``@type`` lists, several documents in one script, trailing commas and
comments (``json_values.loads_lenient``).

Products listed inside other nodes (ItemList carousels, ``isRelatedTo``, ``isSimilarTo``)
are not read. Of several top-level Products, the one whose ``url`` is this page (or its
canonical URL) wins, else the one named like the page's heading. List and strikethrough
price specifications are left out; so are used, refurbished or damaged offers and offers
whose ``priceValidUntil`` has passed, unless they are all the product has (a marketplace
listing of a used item, a page whose dates were never updated).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from monitor.extract import schema_org
from monitor.extract.document import Document
from monitor.extract.json_values import amount_of, loads_lenient
from monitor.extract.request import Request, variant_in
from monitor.models import Candidate, RangeEnd

if TYPE_CHECKING:  # config models reach the page readers as Views (monitor.models.view)
    from monitor.models import Shop


NAME = "json-ld"
_PRODUCTS = {"Product", "ProductModel", "IndividualProduct", "ProductGroup", "Vehicle", "Book"}
_OFFERS = {"Offer", "AggregateOffer"}
_NOT_NEW = {"usedcondition", "refurbishedcondition", "damagedcondition"}
_LIST_PRICES = {
    "listprice",
    "strikethroughprice",
    "msrp",
    "srp",
    "invoiceprice",
    "minimumadvertisedprice",
}


@dataclass(frozen=True, slots=True)
class _Offer:
    """A price an offer states, and what may leave it out."""

    candidate: Candidate
    new: bool  # not used, refurbished or damaged
    current: bool  # its priceValidUntil has not passed


def find(page: Document, request: Request, shop: Shop) -> list[Candidate]:
    """Candidates from the offers of the page's JSON-LD Product."""
    products, bare_offers = _nodes(page)
    products = _main(products, page, request)
    variant = variant_in(request.product_url) or variant_in(page.url)
    out: list[Candidate] = []
    for product in products:
        out.extend(_product(product, request.today, variant))
    for offer in bare_offers:
        out.extend(_chosen(_offer(offer, product_sku=None, today=request.today)))
    return out


def has_product(page: Document) -> bool:
    """Return True when the page's JSON-LD describes a Product (priced or not)."""
    return bool(_nodes(page)[0])


def _nodes(page: Document) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The page's top-level Products and its Offers of an item, parsed once per page."""
    cached = page.cache.get(NAME)
    if cached is not None:
        found: tuple[list[dict[str, Any]], list[dict[str, Any]]] = cached
        return found
    products: list[dict[str, Any]] = []
    bare_offers: list[dict[str, Any]] = []
    for script in page.json_ld:
        data = loads_lenient(script.text(deep=True))
        if data is None:
            continue
        try:
            data = schema_org.canonical(data)
        except RecursionError:
            continue
        for node in _top_nodes(data):
            kinds = schema_org.types(node)
            if kinds & _PRODUCTS:
                products.append(node)
            elif kinds & _OFFERS and "itemOffered" in node:
                bare_offers.append(node)
    page.cache[NAME] = (products, bare_offers)
    return products, bare_offers


def _main(products: list[dict[str, Any]], page: Document, request: Request) -> list[dict[str, Any]]:
    """Of several top-level Products, the page's own: by its URL, else by its heading."""
    if len(products) < 2:
        return products
    for url in (page.url or request.product_url, page.canonical_url):
        if url:
            mine = [p for p in products if _same_page(p.get("url") or p.get("@id"), url)]
            if mine:
                return mine
    named = [
        p for p in products if schema_org.same_name(schema_org.text(p.get("name")), page.heading)
    ]
    if named:
        return named
    return products


def _top_nodes(data: Any) -> Iterator[dict[str, Any]]:
    """Yield the top-level JSON-LD objects: the document, array items, ``@graph`` members and
    a page's ``mainEntity``."""
    if isinstance(data, list):
        for item in data:
            yield from _top_nodes(item)
    elif isinstance(data, dict):
        yield data
        for item in schema_org.objects(data.get("@graph")):
            yield from _top_nodes(item)
        for main in schema_org.objects(data.get("mainEntity")):
            yield from _top_nodes(main)


def _product(
    product: dict[str, Any], today: dt.date | None, variant: str | None = None
) -> list[Candidate]:
    """The candidates of a Product's own offers, then of each of its variants, each variant's
    offers chosen among themselves (one variant's sale ending says nothing of another's).

    When the order's URL names a ``variant`` (Shopify's ``?variant=123``), only the offers
    and variants whose URL names the same one count, if any does.
    """
    text = schema_org.text
    sku = text(product.get("sku")) or text(product.get("productID")) or text(product.get("mpn"))
    nodes = _naming(schema_org.objects(product.get("offers")), variant)
    offers = [o for offer in nodes for o in _offer(offer, product_sku=sku, today=today)]
    out = _chosen(offers)
    for each in _naming(schema_org.objects(product.get("hasVariant")), variant):
        out.extend(_product(each, today))
    return out


def _naming(nodes: list[dict[str, Any]], variant: str | None) -> list[dict[str, Any]]:
    """The nodes whose URL (or their offers' URL) names ``variant``; all of them when none
    does, or when no variant is wanted."""
    if variant is None:
        return nodes
    named = [
        node
        for node in nodes
        if any(
            variant_in(link) == variant
            for n in (node, *schema_org.objects(node.get("offers")))
            for link in (n.get("url"), n.get("@id"))
        )
    ]
    return named or nodes


def _chosen(offers: list[_Offer]) -> list[Candidate]:
    """The offers that count: new ones over used ones, current ones over expired ones, each
    when some remain. Beside a new offer a used, open-box or refurbished price is another
    item's; a product with only used offers is a used item's listing, and they are its own
    (several of them, in grades, are "several prices" unless the order's sku picks one)."""
    offers = [o for o in offers if o.new] or offers
    offers = [o for o in offers if o.current] or offers
    return [o.candidate for o in offers]


def _offer(
    offer: dict[str, Any], *, product_sku: str | None, today: dt.date | None
) -> list[_Offer]:
    text = schema_org.text
    new = not _not_new(offer)
    current = not _expired(offer, today)
    if "AggregateOffer" in schema_org.types(offer):
        nested = schema_org.objects(offer.get("offers"))
        if nested:
            return [o for n in nested for o in _offer(n, product_sku=product_sku, today=today)]
        currency = text(offer.get("priceCurrency"))
        low = amount_of(offer.get("lowPrice", offer.get("price")), currency)
        high = amount_of(offer.get("highPrice"), currency)
        bounds: dict[Decimal, RangeEnd] = {}
        for amount, bound in ((low, RangeEnd.LOW), (high, RangeEnd.HIGH)):
            if amount is not None:
                bounds.setdefault(amount, bound)  # low, when both are the same amount
        return [
            _Offer(
                Candidate(NAME, amount, currency, raw=str(amount), sku=product_sku, bound=bound),
                new,
                current,
            )
            for amount, bound in bounds.items()
        ]
    sku = text(offer.get("sku")) or product_sku
    availability = schema_org.availability(text(offer.get("availability")))
    currency = text(offer.get("priceCurrency"))
    raw = offer.get("price")
    if raw is None:
        specs = [
            s for s in schema_org.objects(offer.get("priceSpecification")) if not _list_price(s)
        ]
        raw = specs[0].get("price") if len(specs) == 1 else None
        if specs and currency is None:
            currency = text(specs[0].get("priceCurrency"))
    amount = amount_of(raw, currency)
    if amount is None:
        return []
    candidate = Candidate(
        NAME, amount, currency, raw=str(raw)[:80], sku=sku, availability=availability
    )
    return [_Offer(candidate, new, current)]


def _not_new(offer: dict[str, Any]) -> bool:
    condition = (schema_org.text(offer.get("itemCondition")) or "").rsplit("/", 1)[-1].lower()
    return condition in _NOT_NEW


def _expired(offer: dict[str, Any], today: dt.date | None) -> bool:
    """Return True when the offer's ``priceValidUntil`` is a date before ``today``."""
    until = schema_org.date(schema_org.text(offer.get("priceValidUntil")))
    return today is not None and until is not None and until < today


def _list_price(spec: dict[str, Any]) -> bool:
    kind = (schema_org.text(spec.get("priceType")) or "").rsplit("/", 1)[-1].lower()
    return kind in _LIST_PRICES


def _same_page(value: Any, page_url: str) -> bool:
    if not isinstance(value, str) or not value:
        return False
    a, b = urlsplit(value), urlsplit(page_url)
    return (a.netloc.lower(), a.path.rstrip("/")) == (b.netloc.lower(), b.path.rstrip("/"))
