"""``price-monitor probe``: what would we read from this page, and why?

A probe runs the same extraction as a check on a URL or a saved file, and reports every
strategy's candidates, the verdict, the variants a shop's API lists (with the sku of each),
the shop's price-protection label when the page shows one, and, when nothing was found,
elements that look like prices with a CSS selector for each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from monitor.charset import decode
from monitor.errors import FetchError
from monitor.extract import Request, source_for
from monitor.extract.api import Variant
from monitor.extract.explain import (
    Suggestion,
    explain,
    page_title,
    selector_for,
    suggest_selectors,
    variant_title,
)
from monitor.fetch import Fetcher
from monitor.messages import format_money
from monitor.models import Availability, Extraction, FetchMode, Money, Shop, Status
from monitor.reader import PageReader
from monitor.shops import shop_for_host


@dataclass(frozen=True, slots=True)
class ProbeResult:
    target: str
    shop: Shop
    extraction: Extraction
    fetched: str = ""  # what was actually read: the URL fetched, or the file
    window_days: int | None = None  # from the page's "N天价保" label, when the shop has one
    suggestions: tuple[Suggestion, ...] = field(default_factory=tuple)
    variants: tuple[Variant, ...] = ()  # every goods entry of a shop API's answer
    sku: str | None = None  # the order's variant the probe was asked about (``--sku``)
    title: str | None = None  # the product's name as the page gives it (``page_title``)
    read: bool = True  # False: the target could not be fetched, opened or parsed at all

    def as_json(self) -> dict[str, Any]:
        """Return the result as the one-line JSON object ``probe --json`` prints."""
        price = self.extraction.price
        return {
            "target": self.target,
            "shop": self.shop.key,
            "status": self.extraction.status.value,
            "amount": f"{price.amount:f}" if price else None,
            "currency": price.currency if price else None,
            "strategy": self.extraction.strategy,
            "reason": self.extraction.reason or None,
            "availability": self.extraction.availability.value,
            "window_days": self.window_days,
            "read": self.read,
            "title": self.title,
            "candidates": [
                {
                    "strategy": c.strategy,
                    "amount": f"{c.amount:f}",
                    "currency": c.currency,
                    "sku": c.sku,
                    "raw": c.raw,
                }
                for c in self.extraction.candidates
            ],
            "suggestions": [{"selector": s.selector, "text": s.text} for s in self.suggestions],
            "variants": [
                {
                    "sku": v.sku,
                    "name": v.name,
                    "amount": f"{v.price:f}" if v.price is not None else None,
                    "raw": v.raw,
                }
                for v in self.variants
            ],
        }


def is_url(target: str) -> bool:
    return urlsplit(target).scheme in ("http", "https")


def pick_shop(target: str, shops: Mapping[str, Shop], name: str | None) -> Shop:
    """Return the named shop, else the one whose domains cover the URL, else ``generic``."""
    if name is not None:
        return shops[name]
    if is_url(target):
        found = shop_for_host(urlsplit(target).hostname or "", shops)
        if found is not None:
            return found
    return shops["generic"]


async def probe(
    target: str,
    *,
    shop: Shop,
    request: Request,
    fetcher: Fetcher,
    reader: PageReader,
    fetch: FetchMode | None = None,
) -> ProbeResult:
    """Read ``target`` (a URL or a local file) the way a check would, and explain the verdict.

    The page is read in the reader's worker, within its time limit, as in a check: a page
    that would take minutes to parse is an ``unknown`` that says so.
    """
    if request.today is None:  # the day in the shop's zone, as a check reads it
        request = replace(request, today=datetime.now(ZoneInfo(shop.timezone)).date())
    if is_url(target):
        request = replace(request, product_url=request.product_url or target)
        source = source_for(shop, request, fetch)
        request = replace(request, rendered=source.fetch is FetchMode.BROWSER)
        try:
            page = await fetcher.fetch_source(source)
        except FetchError as exc:
            unread = Extraction(Status.UNKNOWN, reason=exc.reason)
            return ProbeResult(target, shop, unread, target, read=False)
        if page.gone:
            gone = Extraction(Status.NOT_FOUND, reason=f"HTTP {page.status}: the page is gone")
            return ProbeResult(target, shop, gone, page.url, read=False)
        text, where, content_type = page.text, page.url, page.content_type
    else:
        path = Path(target)
        try:
            body = path.read_bytes()
        except OSError as exc:
            reason = f"cannot read {target}: {exc.strerror or exc}"
            unread = Extraction(Status.UNKNOWN, reason=reason)
            return ProbeResult(target, shop, unread, target, read=False)
        content_type = "application/json" if path.suffix.lower() == ".json" else "text/html"
        text, where = decode(body, content_type), request.product_url
    found = await reader.run(
        explain, text, request, shop=shop, url=where, content_type=content_type
    )
    if isinstance(found, Extraction):  # the page could not be read in time, or at all
        return ProbeResult(target, shop, found, where or target, read=False)
    extraction, suggestions, variants, title = found
    return ProbeResult(
        target,
        shop,
        extraction,
        where or target,
        extraction.window_days,
        suggestions,
        variants,
        request.sku,
        title,
    )


def render_probe(result: ProbeResult) -> str:
    """Return a probe result as the human-readable report."""
    extraction = result.extraction
    lines = [f"{result.target}  (shop: {result.shop.key})"]
    if result.fetched and result.fetched != result.target:
        lines.append(f"  read      {result.fetched}")
    by_strategy: dict[str, list[str]] = {}
    for c in extraction.candidates:
        sku = f" [sku {c.sku}]" if c.sku else ""
        stated = f" {c.currency}" if c.currency else ""
        by_strategy.setdefault(c.strategy, []).append(f"{c.amount:f}{stated}{sku}")
    for strategy, found in by_strategy.items():
        lines.append(f"  {strategy:<12}{', '.join(found[:6])}{' …' if len(found) > 6 else ''}")
    if extraction.status is Status.PRICE and extraction.price is not None:
        verdict = f"price {format_money(extraction.price)} (from {extraction.strategy})"
        if extraction.availability is not Availability.UNSTATED:
            verdict += f", {extraction.availability.value.replace('_', ' ')}"
    else:
        verdict = f"{extraction.status.value}: {extraction.reason}"
    lines.append(f"  verdict   {verdict}")
    if result.variants:
        lines.append(
            render_variants(result.variants, currency=result.shop.currency, sku=result.sku)
        )
    if result.window_days is not None:
        lines.append(
            f"  window    the page advertises {result.window_days} days of price protection"
        )
    if result.suggestions:
        lines.append("  looks like a price (try one as the order's selector):")
        lines += [f"    {s.selector:<40} {s.text}" for s in result.suggestions]
    return "\n".join(lines)


def render_variants(
    variants: Sequence[Variant], *, currency: str | None, sku: str | None = None
) -> str:
    """Return the variants a shop's API lists, one a line: sku, price (in ``currency``, the
    shop's), name; the one whose sku is ``sku`` (the order's) is marked with a star. The sku
    shown is what an order's ``sku`` is for that variant."""
    wanted = sku.strip().lower() if sku else None
    lines = [f"  variants  {len(variants)} in the API's answer (an order's `sku` picks one):"]
    skus = [v.sku or "-" for v in variants]
    prices = [_variant_price(v, currency) for v in variants]
    sku_width, price_width = max(map(len, skus)), max(map(len, prices))
    for variant, shown, price in zip(variants, skus, prices, strict=True):
        mark = "*" if wanted is not None and shown.lower() == wanted else " "
        line = f"  {mark} {shown:<{sku_width}}  {price:>{price_width}}  {variant.name or ''}"
        lines.append(line.rstrip())
    return "\n".join(lines)


def _variant_price(variant: Variant, currency: str | None) -> str:
    if variant.price is None:
        return f"no price ({variant.raw})" if variant.raw else "no price"
    if currency is None:
        return f"{variant.price:f}"
    return format_money(Money(variant.price, currency))


__all__ = [
    "ProbeResult",
    "Suggestion",
    "explain",
    "page_title",
    "pick_shop",
    "probe",
    "render_probe",
    "selector_for",
    "suggest_selectors",
    "variant_title",
]
