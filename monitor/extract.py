"""Read the price of one product from a page: strategies find candidates, a verdict picks one.

Strategies, in order of trust: the order's CSS selector (when it has one, it alone decides),
JSON-LD ``Offer``, microdata ``itemprop=price``, OpenGraph ``product:price:amount``. The
first strategy that finds anything decides; if it finds more than one distinct price and no
SKU picks one, the verdict is ``unknown`` with the candidates listed: never the lowest, never
the first. Everything here is pure: a string in, an Extraction out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitor import prices
from monitor.models import Availability, Candidate, Extraction, Money, Status

STRATEGY_ORDER = ("selector", "json-ld", "microdata", "opengraph")


@dataclass(frozen=True, slots=True)
class Request:
    """What the caller knows about the product: its variant, selector and currency."""

    sku: str | None = None
    selector: str | None = None
    currency: str | None = None


def extract(html: str, request: Request = Request(), *, url: str = "") -> Extraction:
    """Given a page's HTML, return the verdict on its price for ``request``."""
    tree = LexborHTMLParser(html)
    blocked = blocked_reason(tree, url)
    if blocked:
        return Extraction(Status.UNKNOWN, reason=blocked)

    found: dict[str, list[Candidate]] = {}
    if request.selector:
        found["selector"] = from_selector(tree, request.selector)
    else:
        for name, strategy in STRATEGIES.items():
            found[name] = strategy(tree)
    candidates = tuple(c for name in found for c in found[name])

    for name in found:
        if found[name]:
            return replace(decide(name, found[name], request), candidates=candidates)
    if _needs_javascript(tree):
        return Extraction(Status.UNKNOWN, reason="the page needs JavaScript and holds no price")
    hint = (
        f'the selector "{request.selector}" matched no price'
        if request.selector
        else "no price in structured data; add a CSS selector (see `price-monitor probe`)"
    )
    return Extraction(Status.UNKNOWN, reason=hint, candidates=candidates)


def decide(strategy: str, candidates: list[Candidate], request: Request) -> Extraction:
    """Given one strategy's candidates, return a price, or unknown saying why not."""
    usable = [c for c in candidates if c.amount > 0]
    if not usable:
        return Extraction(Status.UNKNOWN, strategy=strategy, reason="the only price found is 0")
    if request.sku:
        with_sku = [c for c in usable if c.sku is not None]
        if with_sku:
            usable = [c for c in with_sku if c.sku == request.sku]
            if not usable:
                skus = ", ".join(sorted({c.sku for c in with_sku if c.sku}))
                return Extraction(
                    Status.UNKNOWN,
                    strategy=strategy,
                    reason=f"no offer for sku {request.sku} (the page offers {skus})",
                )
    amounts = sorted({c.amount for c in usable})
    if len(amounts) > 1:
        listed = ", ".join(_plain(a) for a in amounts)
        why = "and none has the order's sku" if request.sku else "and no sku to choose one"
        return Extraction(
            Status.UNKNOWN, strategy=strategy, reason=f"several prices ({listed}) {why}"
        )
    chosen = usable[0]
    currency = _currency(usable, request.currency)
    if currency is None:
        stated = ", ".join(sorted({c.currency or "?" for c in usable}))
        expected = request.currency or "a single currency"
        return Extraction(
            Status.UNKNOWN,
            strategy=strategy,
            reason=f"the price is in {stated}, not {expected}",
        )
    return Extraction(
        Status.PRICE,
        price=Money(chosen.amount, currency),
        strategy=strategy,
        availability=chosen.availability,
    )


def _currency(candidates: list[Candidate], expected: str | None) -> str | None:
    stated = {c.currency for c in candidates if c.currency}
    if expected is not None:
        return expected if all(prices.currency_agrees(s, expected) for s in stated) else None
    codes = {code for s in stated for code in prices.currencies_for(s)}
    return codes.pop() if len(codes) == 1 and len(stated) >= 1 else None


def _plain(amount: Decimal) -> str:
    return f"{amount:f}"


# --- strategies: each returns every candidate it finds ------------------------------------


def from_selector(tree: LexborHTMLParser, selector: str) -> list[Candidate]:
    """Candidates from the user's CSS selector: a ``content``/``value`` attribute, or the text."""
    out = []
    for node in tree.css(selector):
        raw = (
            node.attributes.get("content") or node.attributes.get("value") or node.text(strip=True)
        )
        parsed = prices.parse_price(raw or "")
        if parsed:
            out.append(Candidate("selector", parsed.amount, parsed.currency, raw=(raw or "")[:80]))
    return out


def from_json_ld(tree: LexborHTMLParser) -> list[Candidate]:
    """Candidates from the offers of every JSON-LD Product (and bare Offers) on the page."""
    out: list[Candidate] = []
    for script in tree.css('script[type="application/ld+json"]'):
        data = _loads_lenient(script.text(deep=True))
        if data is None:
            continue
        for node in _ld_nodes(data):
            kinds = _types(node)
            if kinds & {"Product", "ProductModel", "IndividualProduct"}:
                for offer in _ld_list(node.get("offers")):
                    out.extend(_ld_offer(offer, product_sku=_text(node.get("sku"))))
            elif kinds & {"Offer", "AggregateOffer"} and "itemOffered" in node:
                out.extend(_ld_offer(node, product_sku=None))
    return out


def from_microdata(tree: LexborHTMLParser) -> list[Candidate]:
    """Candidates from ``itemprop=price`` inside the page's main Product item.

    Prices inside a Product nested in another Product (related items, accessories) are left
    out: they belong to other products.
    """
    out = []
    for node in tree.css('[itemprop="price"]'):
        if _product_depth(node) > 1:
            continue
        raw = node.attributes.get("content") or node.text(strip=True) or ""
        parsed = prices.parse_price(raw)
        if parsed is None:
            continue
        scope = _closest_scope(node)
        currency = parsed.currency
        availability = Availability.UNSTATED
        if scope is not None:
            currency_node = scope.css_first('[itemprop="priceCurrency"]')
            if currency_node is not None:
                currency = (
                    currency_node.attributes.get("content") or currency_node.text(strip=True)
                ) or currency
            availability_node = scope.css_first('[itemprop="availability"]')
            if availability_node is not None:
                availability = _availability(
                    availability_node.attributes.get("href")
                    or availability_node.attributes.get("content")
                    or availability_node.text(strip=True)
                )
        out.append(
            Candidate("microdata", parsed.amount, currency, raw=raw[:80], availability=availability)
        )
    return out


def from_opengraph(tree: LexborHTMLParser) -> list[Candidate]:
    """Candidates from ``product:price:amount`` / ``og:price:amount`` meta tags."""
    out = []
    for prefix in ("product:price", "og:price"):
        for node in tree.css(f'meta[property="{prefix}:amount"]'):
            raw = node.attributes.get("content") or ""
            amount = prices.parse_amount(raw)
            if amount is None:
                continue
            currency_node = tree.css_first(f'meta[property="{prefix}:currency"]')
            currency = currency_node.attributes.get("content") if currency_node else None
            out.append(Candidate("opengraph", amount, currency, raw=raw[:80]))
    return out


STRATEGIES: dict[str, Callable[[LexborHTMLParser], list[Candidate]]] = {
    "json-ld": from_json_ld,
    "microdata": from_microdata,
    "opengraph": from_opengraph,
}


# --- pages that are not the product --------------------------------------------------------

_BLOCKED_TITLES = re.compile(
    r"captcha|robot check|are you a robot|access denied|attention required|just a moment"
    r"|verify you are human|安全验证|验证码|人机验证|访问受限|请登录|登录页",
    re.IGNORECASE,
)
_CHALLENGE_SELECTORS = (
    "#challenge-form",
    "#px-captcha",
    ".g-recaptcha",
    ".h-captcha",
    'iframe[src*="captcha"]',
    'form[action*="captcha"]',
    'form[action*="validateCaptcha"]',
)
_LOGIN_URL = re.compile(r"(^|[/.?&=])(login|signin|sign-in|passport)([/.?&=]|$)", re.IGNORECASE)


def blocked_reason(tree: LexborHTMLParser, url: str = "") -> str | None:
    """Return why a page is a captcha, challenge or login wall instead of the product, or None."""
    title_node = tree.css_first("title")
    title = title_node.text(strip=True) if title_node else ""
    if title and _BLOCKED_TITLES.search(title):
        return f'blocked: the page is a robot check or login wall (title "{title[:60]}")'
    for selector in _CHALLENGE_SELECTORS:
        if tree.css_first(selector) is not None:
            return "blocked: the page is a captcha or bot challenge"
    if url and _LOGIN_URL.search(url.split("://", 1)[-1].split("/", 1)[-1]):
        return "blocked: the shop redirected to a login page"
    return None


def _needs_javascript(tree: LexborHTMLParser) -> bool:
    body = tree.body
    text = body.text(separator=" ", strip=True) if body else ""
    noscript = " ".join(n.text(strip=True) for n in tree.css("noscript")).lower()
    return len(text) < 400 or "enable javascript" in noscript or "启用javascript" in noscript


# --- helpers for structured data -----------------------------------------------------------


def _loads_lenient(text: str) -> Any:
    """Parse a JSON-LD block, forgiving the usual slips: trailing commas, raw newlines."""
    text = text.strip().removeprefix("<!--").removesuffix("-->").strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    repaired = re.sub(r",\s*([}\]])", r"\1", text).replace("\n", " ").replace("\t", " ")
    try:
        return json.loads(repaired)
    except ValueError:
        return None


def _ld_nodes(data: Any) -> Iterator[dict[str, Any]]:
    """Yield the top-level JSON-LD objects: the document, array items and ``@graph`` members."""
    if isinstance(data, list):
        for item in data:
            yield from _ld_nodes(item)
    elif isinstance(data, dict):
        yield data
        for item in _ld_list(data.get("@graph")):
            yield from _ld_nodes(item)


def _ld_list(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def _types(node: dict[str, Any]) -> set[str]:
    kinds = node.get("@type")
    names = kinds if isinstance(kinds, list) else [kinds]
    return {str(k).rsplit("/", 1)[-1] for k in names if k}


def _ld_offer(offer: dict[str, Any], *, product_sku: str | None) -> list[Candidate]:
    kinds = _types(offer)
    sku = _text(offer.get("sku")) or product_sku
    availability = _availability(_text(offer.get("availability")))
    currency = _text(offer.get("priceCurrency"))
    raw_prices: list[Any] = []
    if "AggregateOffer" in kinds:
        nested = _ld_list(offer.get("offers"))
        if nested:
            return [c for o in nested for c in _ld_offer(o, product_sku=product_sku)]
        raw_prices = [offer.get("lowPrice", offer.get("price"))]
        if offer.get("highPrice") not in (None, offer.get("lowPrice")):
            raw_prices.append(offer.get("highPrice"))
    else:
        raw_prices = [offer.get("price")]
        spec = offer.get("priceSpecification")
        if raw_prices[0] is None and spec is not None:
            specs = _ld_list(spec)
            raw_prices = [s.get("price") for s in specs]
            currency = currency or next((_text(s.get("priceCurrency")) for s in specs), None)
    out = []
    for raw in raw_prices:
        amount = prices.parse_amount(str(raw)) if isinstance(raw, str | int | float) else None
        if amount is not None:
            out.append(
                Candidate(
                    "json-ld",
                    amount,
                    currency,
                    raw=str(raw)[:80],
                    sku=sku,
                    availability=availability,
                )
            )
    return out


def _text(value: Any) -> str | None:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value).strip() or None
    return None


def _availability(value: str | None) -> Availability:
    if not value:
        return Availability.UNSTATED
    name = value.rsplit("/", 1)[-1].lower()
    if name in {"outofstock", "soldout", "discontinued"}:
        return Availability.OUT_OF_STOCK
    if name in {"instock", "limitedavailability", "onlineonly", "instoreonly", "preorder"}:
        return Availability.IN_STOCK
    return Availability.UNSTATED


def _product_depth(node: LexborNode) -> int:
    depth = 0
    current: LexborNode | None = node
    while current is not None:
        itemtype = current.attributes.get("itemtype") or ""
        if "Product" in itemtype:
            depth += 1
        current = current.parent
    return depth


def _closest_scope(node: LexborNode) -> LexborNode | None:
    current: LexborNode | None = node.parent
    while current is not None:
        if "itemscope" in current.attributes:
            return current
        current = current.parent
    return None
