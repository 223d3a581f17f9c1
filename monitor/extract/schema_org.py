"""The schema.org vocabulary the structured-data strategies share: types, text, availability."""

from __future__ import annotations

import datetime as dt
from typing import Any

from monitor.models import Availability

_OUT_OF_STOCK = {"outofstock", "soldout", "discontinued"}
_IN_STOCK = {"instock", "limitedavailability", "onlineonly", "instoreonly", "preorder", "presale"}


def availability(value: str | None) -> Availability:
    """Read ``https://schema.org/InStock`` (or ``InStock``, any case) as an Availability."""
    if not value:
        return Availability.UNSTATED
    name = value.rsplit("/", 1)[-1].lower()
    if name in _OUT_OF_STOCK:
        return Availability.OUT_OF_STOCK
    if name in _IN_STOCK:
        return Availability.IN_STOCK
    return Availability.UNSTATED


def types(node: dict[str, Any]) -> set[str]:
    """Return a JSON-LD node's ``@type`` names, without their vocabulary prefix."""
    kinds = node.get("@type")
    names = kinds if isinstance(kinds, list) else [kinds]
    return {str(k).rsplit("/", 1)[-1].rsplit(":", 1)[-1] for k in names if k}


def text(value: Any) -> str | None:
    """Return a scalar JSON value as text (None for anything else, or blank)."""
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value).strip() or None
    return None


def date(value: str | None) -> dt.date | None:
    """Read a schema.org Date or DateTime (``2026-12-31``, ``2026-12-31T23:59:59Z``) as its
    day; None for anything else."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def same_name(a: str | None, b: str | None) -> bool:
    """True when two names are the same words, whatever their case and spacing (a Product's
    ``name`` and the page's heading)."""
    if not a or not b:
        return False
    return a.lower().split() == b.lower().split()


def objects(value: Any) -> list[dict[str, Any]]:
    """Return the JSON objects in a value that may be one object or a list of them."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


# The properties the strategies read, by their lower-case spelling: shops write "Offers",
# "Price" or "PriceCurrency", and schema.org's own consumers accept them.
_PROPERTIES = {
    name.lower(): name
    for name in (
        "@type",
        "@graph",
        "@id",
        "offers",
        "price",
        "priceCurrency",
        "lowPrice",
        "highPrice",
        "priceSpecification",
        "priceType",
        "priceValidUntil",
        "validThrough",
        "sku",
        "productID",
        "mpn",
        "availability",
        "itemCondition",
        "itemOffered",
        "url",
        "name",
        "hasVariant",
        "mainEntity",
        "mainEntityOfPage",
    )
}


def canonical(value: Any) -> Any:
    """Return JSON-LD with the properties the strategies read spelt as schema.org spells them.

    Raises RecursionError for data nested deeper than the interpreter allows.
    """
    if isinstance(value, dict):
        return {_PROPERTIES.get(key.lower(), key): canonical(v) for key, v in value.items()}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value
