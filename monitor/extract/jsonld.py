"""Strategy ``json-ld``: the offers of the page's schema.org Product (or ProductGroup
variants) in ``<script type="application/ld+json">``.

Products listed inside other nodes (ItemList carousels, ``isRelatedTo``) are not read. When
several top-level Products are present, the one whose ``url`` is this page wins. List and
strikethrough price specifications and used, refurbished or damaged offers are left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from monitor.extract import schema_org
from monitor.extract.document import Document, Request
from monitor.extract.json_values import amount_of, loads_lenient
from monitor.models import Candidate, Shop

NAME = "json-ld"
_PRODUCTS = {"Product", "ProductModel", "IndividualProduct", "ProductGroup", "Vehicle"}
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


def find(page: Document, request: Request, shop: Shop) -> list[Candidate]:
    """Candidates from the offers of the page's JSON-LD Product."""
    products: list[dict[str, Any]] = []
    bare_offers: list[dict[str, Any]] = []
    for script in page.structured.json_ld:
        data = loads_lenient(script.text(deep=True))
        if data is None:
            continue
        for node in _top_nodes(data):
            kinds = schema_org.types(node)
            if kinds & _PRODUCTS:
                products.append(node)
            elif kinds & _OFFERS and "itemOffered" in node:
                bare_offers.append(node)
    page_url = page.url or request.product_url
    if len(products) > 1 and page_url:
        mine = [p for p in products if _same_page(p.get("url") or p.get("@id"), page_url)]
        products = mine or products
    out: list[Candidate] = []
    for product in products:
        out.extend(_product(product))
    for offer in bare_offers:
        out.extend(_offer(offer, product_sku=None))
    return out


def _top_nodes(data: Any) -> Iterator[dict[str, Any]]:
    """Yield the top-level JSON-LD objects: the document, array items and ``@graph`` members."""
    if isinstance(data, list):
        for item in data:
            yield from _top_nodes(item)
    elif isinstance(data, dict):
        yield data
        for item in schema_org.objects(data.get("@graph")):
            yield from _top_nodes(item)
        main = data.get("mainEntity")
        if isinstance(main, dict):
            yield from _top_nodes(main)


def _product(product: dict[str, Any]) -> list[Candidate]:
    text = schema_org.text
    sku = text(product.get("sku")) or text(product.get("productID")) or text(product.get("mpn"))
    out: list[Candidate] = []
    for offer in schema_org.objects(product.get("offers")):
        out.extend(_offer(offer, product_sku=sku))
    for variant in schema_org.objects(product.get("hasVariant")):
        out.extend(_product(variant))
    return out


def _offer(offer: dict[str, Any], *, product_sku: str | None) -> list[Candidate]:
    text = schema_org.text
    if "AggregateOffer" in schema_org.types(offer):
        nested = schema_org.objects(offer.get("offers"))
        if nested:
            return [c for o in nested for c in _offer(o, product_sku=product_sku)]
        currency = text(offer.get("priceCurrency"))
        low = amount_of(offer.get("lowPrice", offer.get("price")))
        high = amount_of(offer.get("highPrice"))
        return [
            Candidate(NAME, amount, currency, raw=str(amount), sku=product_sku)
            for amount in {low, high}
            if amount is not None
        ]
    if _not_new(offer):
        return []  # open-box, refurbished or used: not the item the order bought
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
    amount = amount_of(raw)
    if amount is None:
        return []
    return [
        Candidate(NAME, amount, currency, raw=str(raw)[:80], sku=sku, availability=availability)
    ]


def _not_new(offer: dict[str, Any]) -> bool:
    condition = (schema_org.text(offer.get("itemCondition")) or "").rsplit("/", 1)[-1].lower()
    return condition in _NOT_NEW


def _list_price(spec: dict[str, Any]) -> bool:
    kind = (schema_org.text(spec.get("priceType")) or "").rsplit("/", 1)[-1].lower()
    return kind in _LIST_PRICES


def _same_page(value: Any, page_url: str) -> bool:
    if not isinstance(value, str) or not value:
        return False
    a, b = urlsplit(value), urlsplit(page_url)
    return (a.netloc.lower(), a.path.rstrip("/")) == (b.netloc.lower(), b.path.rstrip("/"))
