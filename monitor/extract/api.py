"""Strategy ``api``: a price from the shop's JSON API response (a profile's ``api`` spec).

Xiaomi's product view API lists every variant ("goods") with its own id and price; JD's
price API answers a list with one entry per sku. Each entry becomes a candidate with its id
as the SKU, so the order's ``sku`` picks its variant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from monitor.extract.decide import decide
from monitor.extract.document import Document, Request
from monitor.extract.json_values import amount_of, json_path, loads
from monitor.models import ApiSpec, Candidate, Extraction, Shop, Status

NAME = "api"


def api_ids(spec: ApiSpec, *, product_url: str, sku: str | None) -> dict[str, str]:
    """Return the ids an API URL template needs: from the product URL's regexes, or the SKU."""
    ids: dict[str, str] = {}
    for name, pattern in spec.ids.items():
        match = re.search(pattern, product_url)
        if match:
            ids[name] = match.group(1)
    if sku:
        ids.setdefault("sku", sku)
    return ids


def api_url(spec: ApiSpec, *, product_url: str, sku: str | None) -> str | None:
    """Return the API URL for a product, or None when an id it needs is unknown."""
    return _format(spec.url, api_ids(spec, product_url=product_url, sku=sku))


def read(page: Document, request: Request, shop: Shop) -> Extraction:
    """Given a JSON body, return the verdict on its price, read by the shop's API spec."""
    try:
        data = loads(page.text.lstrip("\ufeff"))
    except (ValueError, RecursionError):
        return Extraction(Status.UNKNOWN, reason="the response is not valid JSON")
    if shop.api is None:
        return Extraction(
            Status.UNKNOWN, reason=f"a JSON response, but {shop.name} has no API profile"
        )
    candidates = from_api(data, shop.api, request)
    if not candidates:
        return Extraction(Status.UNKNOWN, strategy=NAME, reason="no price in the API response")
    return replace(decide(NAME, candidates, request), candidates=tuple(candidates))


def from_api(data: Any, spec: ApiSpec, request: Request) -> list[Candidate]:
    """Candidates from a shop API response: one per goods entry, with its id as the SKU."""
    items = json_path(data, spec.items) if spec.items else data
    entries = items if isinstance(items, list) else [items] if isinstance(items, dict) else []
    ids = api_ids(spec, product_url=request.product_url, sku=request.sku)
    out = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        raw = json_path(entry, spec.price)
        amount = amount_of(raw)
        if amount is None:
            continue
        sku = None
        if spec.item_id is not None:
            item = json_path(entry, spec.item_id)
            sku = str(item) if item is not None else None
            # Compare in the order's terms: "J_100012043978" is the API's name for sku 100012043978.
            if sku is not None and request.sku and _format(spec.match, ids) == sku:
                sku = request.sku
        out.append(Candidate(NAME, amount, None, raw=str(raw)[:80], sku=sku))
    return out


def _format(template: str, ids: Mapping[str, str]) -> str | None:
    """Fill a template with the ids; None when it needs one we do not have, or is malformed."""
    try:
        return template.format(**ids)
    except (KeyError, IndexError, ValueError):
        return None
