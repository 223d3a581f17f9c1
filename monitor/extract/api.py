"""Strategy ``api``: a price from the shop's JSON API response (a profile's ``api`` spec).

Xiaomi's product view API lists every variant ("goods") with its own id, name and price
(the PC API under ``data.goods_list[].goods_info``, the mobile one under ``data.goods_info``);
JD's price API answers a list with one entry per sku. Each entry is a ``Variant`` (what
``probe`` lists) and, with a price, a candidate with its id as the SKU, so the order's
``sku`` picks its variant.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from monitor.extract.api_url import api_ids, fill_template
from monitor.extract.decide import decide
from monitor.extract.document import Document
from monitor.extract.json_values import amount_of, json_each, json_path, loads
from monitor.extract.request import Request
from monitor.models import Candidate, Extraction, Status

if TYPE_CHECKING:  # config models reach the page readers as Views (monitor.models.view)
    from monitor.models import ApiSpec, Shop


NAME = "api"


@dataclass(frozen=True, slots=True)
class Variant:
    """One goods entry of a shop API's answer: the ``sku`` an order gives for it (in the
    order's terms: JD's ``J_100012043978`` is sku 100012043978), its name, and its price
    (None when the entry holds none that reads as a price) as the API wrote it (``raw``)."""

    sku: str | None
    name: str | None
    price: Decimal | None
    raw: str = ""


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
    """Candidates from a shop API response: one per priced goods entry, its id as the SKU."""
    return [
        Candidate(NAME, v.price, None, raw=v.raw, sku=v.sku)
        for v in variants(data, spec, request)
        if v.price is not None
    ]


def variants(data: Any, spec: ApiSpec, request: Request) -> list[Variant]:
    """Every goods entry of a shop API response, in its order: sku, name and price."""
    ids = api_ids(spec, product_url=request.product_url, sku=request.sku)
    out = []
    for entry in entries(data, spec):
        raw = json_path(entry, spec.price)
        sku = None
        if spec.item_id is not None:
            item = json_path(entry, spec.item_id)
            if item is not None and not isinstance(item, dict | list):
                sku = _sku_of(str(item), spec.match, ids)
        name = json_path(entry, spec.item_name) if spec.item_name else None
        out.append(
            Variant(
                sku=sku,
                name=(" ".join(name.split()) or None) if isinstance(name, str) else None,
                price=amount_of(raw, request.currency),
                raw="" if raw is None else str(raw)[:80],
            )
        )
    return out


def variants_in(page: Document, shop: Shop, request: Request) -> list[Variant]:
    """The variants of a JSON body read by the shop's API spec; none when it is not JSON or
    the shop has no API."""
    if shop.api is None or not page.is_json:
        return []
    try:
        data = loads(page.text.lstrip("\ufeff"))
    except (ValueError, RecursionError):
        return []
    return variants(data, shop.api, request)


def entries(data: Any, spec: ApiSpec) -> list[dict[str, Any]]:
    """The goods entries of a response: the objects the first of the spec's ``items`` paths
    that leads to any reaches (a list reached gives its objects)."""
    for path in spec.items:
        found = [
            entry
            for value in json_each(data, path)
            for entry in (value if isinstance(value, list) else [value])
            if isinstance(entry, dict)
        ]
        if found:
            return found
    return []


def _sku_of(item_id: str, match: str, ids: Mapping[str, str]) -> str:
    """Return a goods entry's id in the order's terms: the sku whose ``match`` it is
    ("J_100012043978" is sku 100012043978 for JD's "J_{sku}"), else the id as it is."""
    if "sku" in ids and (fill_template(match, ids) == item_id or ids["sku"] == item_id):
        return ids["sku"]  # an order may write the API's own id ("J_100012043978") as its sku
    pattern, named = "", False
    try:
        parts = list(string.Formatter().parse(match))
    except ValueError:
        return item_id
    for literal, field, format_spec, conversion in parts:
        pattern += re.escape(literal)
        if field is None:
            continue
        if format_spec or conversion:
            return item_id  # not a plain placeholder: no telling what it wrote
        if field == "sku":
            pattern += "(?P=sku)" if named else "(?P<sku>.+?)"
            named = True
        elif field in ids:
            pattern += re.escape(ids[field])
        else:
            pattern += ".*?"
    found = re.fullmatch(pattern, item_id) if named else None
    return found.group("sku") if found else item_id
