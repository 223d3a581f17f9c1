"""A shop API's URL for a product: its template filled with the ids the order's URL and sku
give. The daemon asks it what to fetch (``source.py``); the page readers, which entry of the
answer is the order's (``api.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.models import ApiSpec


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
    """Return the API URL for a product, or None when an id it needs is unknown (or the
    spec has no URL: a browser shop's, which reads the responses its page loads)."""
    if spec.url is None:
        return None
    return fill_template(spec.url, api_ids(spec, product_url=product_url, sku=sku))


def fill_template(template: str, ids: Mapping[str, str]) -> str | None:
    """Fill a template with the ids; None when it needs one we do not have, or is malformed."""
    try:
        return template.format(**ids)
    except (KeyError, IndexError, ValueError):
        return None
