"""The schema.org vocabulary the structured-data strategies share: types, text, availability."""

from __future__ import annotations

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


def objects(value: Any) -> list[dict[str, Any]]:
    """Return the JSON objects in a value that may be one object or a list of them."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []
