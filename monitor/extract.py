"""Read the price of one product from a page: strategies find candidates, a verdict picks one.

Strategies, in order of trust:

    api          the shop's JSON API response (a profile's ``api``), for JSON bodies
    selector     the order's CSS selector: when an order has one, it alone decides
    script-json  JSON inside a script tag, e.g. ``__NEXT_DATA__`` (a profile's ``script_json``)
    selector     a shop profile's CSS selector
    json-ld      schema.org Product / ProductGroup / Offer / AggregateOffer in JSON-LD
    microdata    ``itemprop=price`` inside the page's main Product
    rdfa         ``property=price`` / ``schema:price``
    opengraph    ``product:price:amount`` / ``og:price:amount``
    regex        a profile's regular expression over the raw page, the last resort

Every strategy reports what it found; the first that found anything decides. More than one
distinct price with no SKU to choose between them is ``unknown`` with the candidates
listed: never the lowest, never the first. List and strikethrough prices, used or open-box
offers and related products are left out before deciding. Everything here is pure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from monitor import prices
from monitor.models import Availability, Candidate, Extraction, Money, Status
from monitor.shops.base import ApiSpec, ScriptJson, Shop

GENERIC = Shop(key="generic", name="generic shop")


@dataclass(frozen=True, slots=True)
class Request:
    """What the order says about the product: its page, variant, selector and currency."""

    sku: str | None = None
    selector: str | None = None
    currency: str | None = None
    product_url: str = ""


class Document:
    """A body as extraction sees it: the text, where it came from, its content type.

    The HTML tree is parsed once, on first use, and shared by every strategy.
    """

    __slots__ = ("_raw", "_title", "_tree", "content_type", "text", "url")

    def __init__(self, text: str, url: str = "", content_type: str = "") -> None:
        self.text = text
        self.url = url
        self.content_type = content_type
        self._tree: LexborHTMLParser | None = None
        self._title: str | None = None
        self._raw: bytes | None = None

    def structured(self) -> tuple[list[LexborNode], list[LexborNode], list[LexborNode]]:
        """Return the JSON-LD scripts, ``itemprop=price`` and RDFa price nodes, in one pass."""
        scripts, itemprops, rdfa = [], [], []
        for node in self.tree.css(_STRUCTURED):
            attributes = node.attributes
            if node.tag == "script":
                scripts.append(node)
            elif attributes.get("itemprop") == "price":
                itemprops.append(node)
            if (attributes.get("property") or "").lower() in ("price", "schema:price"):
                rdfa.append(node)
        return scripts, itemprops, rdfa

    def contains(self, phrase: str) -> bool:
        """Return True when the raw page contains ``phrase``, as fast as CPython allows.

        An ASCII page is searched as it is (a non-ASCII phrase is ruled out at once); any
        other page as UTF-8 bytes, since a search in a str holding a CJK character is
        several times slower than in bytes.
        """
        if self.text.isascii():
            return phrase in self.text
        if self._raw is None:
            self._raw = self.text.encode("utf-8", "replace")
        return phrase.encode() in self._raw

    @property
    def title(self) -> str:
        if self._title is None:
            node = self.tree.css_first("title")
            self._title = node.text(strip=True) if node else ""
        return self._title

    @property
    def tree(self) -> LexborHTMLParser:
        if self._tree is None:
            self._tree = LexborHTMLParser(self.text)
        return self._tree

    @property
    def is_json(self) -> bool:
        if "json" in self.content_type.lower():
            return True
        return self.text.lstrip("\ufeff \t\r\n")[:1] in ("{", "[")


def extract(
    text: str,
    request: Request = Request(),
    *,
    shop: Shop = GENERIC,
    url: str = "",
    content_type: str = "",
) -> Extraction:
    """Given a fetched body and what the order says, return the verdict on its price."""
    return extract_document(Document(text, url, content_type), request, shop=shop)


def extract_document(page: Document, request: Request, *, shop: Shop = GENERIC) -> Extraction:
    """Like ``extract``, for a caller that keeps the Document (and its parsed tree)."""
    if request.currency is None and shop.currency is not None:
        request = replace(request, currency=shop.currency)
    if page.is_json:
        return _from_json_body(page, request, shop)
    blocked = blocked_reason(page)
    if blocked:
        return Extraction(Status.UNKNOWN, reason=blocked)
    gone = gone_reason(page)
    if gone:
        return Extraction(Status.NOT_FOUND, reason=gone)

    found = run_strategies(page, request, shop)
    candidates = tuple(c for name in found for c in found[name])
    for name, strategy_candidates in found.items():
        if strategy_candidates:
            verdict = decide(name, strategy_candidates, request, lang=_language(page.tree))
            return replace(verdict, candidates=candidates)
    return Extraction(
        Status.UNKNOWN, reason=_why_nothing(page, request, shop), candidates=candidates
    )


def run_strategies(page: Document, request: Request, shop: Shop) -> dict[str, list[Candidate]]:
    """Return every HTML strategy's candidates, in order of trust (see the module docstring)."""
    if request.selector:
        return {"selector": from_selector(page.tree, request.selector)}
    found: dict[str, list[Candidate]] = {}
    if shop.script_json:
        found["script-json"] = [
            c for spec in shop.script_json for c in from_script_json(page.tree, spec)
        ]
    if shop.selector:
        found["selector"] = from_selector(page.tree, shop.selector)
    # One pass over the tree finds the nodes of three strategies at once.
    scripts, itemprops, rdfa = page.structured()
    found["json-ld"] = from_json_ld(
        page.tree, page_url=page.url or request.product_url, scripts=scripts
    )
    found["microdata"] = from_microdata(page.tree, nodes=itemprops)
    found["rdfa"] = from_rdfa(page.tree, nodes=rdfa)
    found["opengraph"] = from_opengraph(page)
    if shop.regex:
        found["regex"] = from_regex(page.text, shop.regex)
    return found


def decide(
    strategy: str, candidates: list[Candidate], request: Request, *, lang: str = ""
) -> Extraction:
    """Given one strategy's candidates, return a price, or unknown saying why not."""
    usable = [c for c in candidates if c.amount > 0]
    if not usable:
        return Extraction(
            Status.UNKNOWN,
            strategy=strategy,
            reason="no valid price: the price found is 0 or below",
        )
    variant_confirmed = True
    if request.sku:
        with_sku = [c for c in usable if c.sku is not None]
        # Nothing on the page names a SKU: the price is the variant's only if the URL is.
        variant_confirmed = bool(with_sku) or request.sku.lower() in request.product_url.lower()
        if with_sku:
            usable = [c for c in with_sku if _same_sku(c.sku, request.sku)]
            if not usable:
                skus = ", ".join(sorted({c.sku for c in with_sku if c.sku}))
                return Extraction(
                    Status.UNKNOWN,
                    strategy=strategy,
                    reason=f"no offer for sku {request.sku} (the page offers {_clip(skus)})",
                )
    amounts = sorted({c.amount for c in usable})
    if len(amounts) > 1:
        listed = ", ".join(f"{a:f}" for a in amounts[:8])
        why = "and none has the order's sku" if request.sku else "and no sku to choose one"
        return Extraction(
            Status.UNKNOWN, strategy=strategy, reason=f"several prices ({listed}) {why}"
        )
    chosen = usable[0]
    currency = _currency(usable, request.currency, lang)
    if currency is None:
        stated = ", ".join(sorted({c.currency or "?" for c in usable}))
        expected = request.currency or "one currency (give the order's currency)"
        foreign = _currency(usable, None, lang)
        return Extraction(
            Status.UNKNOWN,
            strategy=strategy,
            reason=f"the price is in {stated}, not {expected}",
            foreign=Money(chosen.amount, foreign) if foreign and request.currency else None,
        )
    availability = next(
        (c.availability for c in usable if c.availability is not Availability.UNSTATED),
        Availability.UNSTATED,
    )
    return Extraction(
        Status.PRICE,
        price=Money(chosen.amount, currency),
        strategy=strategy,
        availability=availability,
        variant_confirmed=variant_confirmed,
    )


def _same_sku(found: str | None, wanted: str) -> bool:
    return found is not None and found.strip().lower() == wanted.strip().lower()


def _currency(candidates: list[Candidate], expected: str | None, lang: str = "") -> str | None:
    """Return the currency of the price: the order's, when the page agrees with it.

    Without an order (a probe of a page from no known shop) an ambiguous sign is read the
    way the page's language suggests: ``¥`` is yuan on a Chinese page and yen on a Japanese
    one; ``$`` is US dollars unless the page says another dollar country.
    """
    stated = {c.currency for c in candidates if c.currency}
    if expected is not None:
        return expected if all(prices.currency_agrees(s, expected) for s in stated) else None
    if len(stated) != 1:
        return None
    (sign,) = stated
    codes = prices.currencies_for(sign)
    if len(codes) == 1:
        return next(iter(codes))
    return prices.likely_currency(sign, lang)


def _language(tree: LexborHTMLParser) -> str:
    html = tree.css_first("html")
    return (html.attributes.get("lang") or "") if html is not None else ""


def _clip(text: str, width: int = 120) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _why_nothing(page: Document, request: Request, shop: Shop) -> str:
    if request.selector:
        return f'the selector "{request.selector}" matched no price'
    if _needs_javascript(page.tree):
        return "the page needs JavaScript and holds no price in its HTML"
    if shop.api is not None:
        return (
            f"no price in the page's HTML; {shop.name} loads it with JavaScript from its price API"
        )
    return "no price in the page's structured data; add a CSS selector (see `price-monitor probe`)"


# --- the shop's JSON API ---------------------------------------------------------------------


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
    try:
        return spec.url.format(**api_ids(spec, product_url=product_url, sku=sku))
    except (KeyError, IndexError):
        return None


def _from_json_body(page: Document, request: Request, shop: Shop) -> Extraction:
    try:
        data = json.loads(page.text.lstrip("\ufeff"))
    except ValueError:
        return Extraction(Status.UNKNOWN, reason="the response is not valid JSON")
    if shop.api is None:
        return Extraction(
            Status.UNKNOWN, reason=f"a JSON response, but {shop.name} has no API profile"
        )
    candidates = from_api(data, shop.api, request)
    if not candidates:
        return Extraction(Status.UNKNOWN, strategy="api", reason="no price in the API response")
    return replace(decide("api", candidates, request), candidates=tuple(candidates))


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
        amount = _amount(raw)
        if amount is None:
            continue
        sku = None
        if spec.item_id is not None:
            item = json_path(entry, spec.item_id)
            sku = str(item) if item is not None else None
            # Compare in the order's terms: "J_100012043978" is the API's name for sku 100012043978.
            if sku is not None and request.sku and _format(spec.match, ids) == sku:
                sku = request.sku
        out.append(Candidate("api", amount, None, raw=str(raw)[:80], sku=sku))
    return out


def _format(template: str, ids: Mapping[str, str]) -> str | None:
    try:
        return template.format(**ids)
    except (KeyError, IndexError):
        return None


def json_path(data: Any, path: str) -> Any:
    """Follow a dotted path with optional indexes (``a.b[0].c``) into JSON; None if absent."""
    current = data
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            index = int(part[1:-1])
            current = current[index] if isinstance(current, list) and index < len(current) else None
        else:
            current = current.get(part) if isinstance(current, dict) else None
        if current is None:
            return None
    return current


def _amount(raw: Any) -> Decimal | None:
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int | float):
        return Decimal(str(raw))
    if isinstance(raw, str):
        text = raw.strip()
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            return Decimal(text)
        return prices.parse_amount(text)
    return None


# --- HTML strategies ---------------------------------------------------------------------------

_STRUCK = frozenset({"del", "s", "strike"})


def from_selector(tree: LexborHTMLParser, selector: str) -> list[Candidate]:
    """Candidates from a CSS selector; ``sel@attr`` reads an attribute instead of the text.

    Without ``@attr`` a ``content``, ``value`` or ``data-price`` attribute wins over the
    text. Matches inside ``<del>``, ``<s>`` or ``<strike>`` (old prices) are left out.
    """
    css, attribute = split_attribute(selector)
    try:
        nodes = tree.css(css)
    except SelectolaxError:
        return []
    out = []
    for node in nodes:
        if _struck(node):
            continue
        if attribute:
            raw = node.attributes.get(attribute) or ""
        else:
            raw = (
                node.attributes.get("content")
                or node.attributes.get("value")
                or node.attributes.get("data-price")
                or node.text(strip=True, separator=" ")
            ) or ""
        for parsed in prices.parse_prices(raw):
            out.append(Candidate("selector", parsed.amount, parsed.currency, raw=raw[:80]))
    return out


def split_attribute(selector: str) -> tuple[str, str]:
    """Split ``"span.price@data-value"`` into the CSS part and the attribute to read."""
    match = re.fullmatch(r"(.+?)@([A-Za-z_][\w:-]*)", selector.strip())
    return (match.group(1), match.group(2)) if match else (selector, "")


def from_script_json(tree: LexborHTMLParser, spec: ScriptJson) -> list[Candidate]:
    """Candidates from JSON embedded in a script tag, read at a JSON path."""
    out = []
    try:
        scripts = tree.css(spec.selector)
    except SelectolaxError:
        return []
    for script in scripts:
        data = _loads_lenient(script.text(deep=True))
        if data is None:
            continue
        raw = json_path(data, spec.path)
        amount = _amount(raw)
        if amount is None:
            continue
        currency = json_path(data, spec.currency_path) if spec.currency_path else None
        out.append(
            Candidate(
                "script-json",
                amount,
                currency if isinstance(currency, str) else None,
                raw=str(raw)[:80],
            )
        )
    return out


def from_json_ld(
    tree: LexborHTMLParser, *, page_url: str = "", scripts: list[LexborNode] | None = None
) -> list[Candidate]:
    """Candidates from the offers of the page's JSON-LD Product (or ProductGroup variants).

    Products listed inside other nodes (ItemList carousels, isRelatedTo) are not read. When
    several top-level Products are present, the one whose ``url`` is this page wins.
    """
    products: list[dict[str, Any]] = []
    bare_offers: list[dict[str, Any]] = []
    for script in tree.css(_LD_JSON) if scripts is None else scripts:
        data = _loads_lenient(script.text(deep=True))
        if data is None:
            continue
        for node in _ld_nodes(data):
            kinds = _types(node)
            if kinds & {"Product", "ProductModel", "IndividualProduct", "ProductGroup", "Vehicle"}:
                products.append(node)
            elif kinds & {"Offer", "AggregateOffer"} and "itemOffered" in node:
                bare_offers.append(node)
    if len(products) > 1 and page_url:
        mine = [p for p in products if _same_page(p.get("url") or p.get("@id"), page_url)]
        products = mine or products
    out: list[Candidate] = []
    for product in products:
        out.extend(_ld_product(product))
    for offer in bare_offers:
        out.extend(_ld_offer(offer, product_sku=None))
    return out


def _ld_product(product: dict[str, Any]) -> list[Candidate]:
    sku = _text(product.get("sku")) or _text(product.get("productID")) or _text(product.get("mpn"))
    out: list[Candidate] = []
    for offer in _ld_list(product.get("offers")):
        out.extend(_ld_offer(offer, product_sku=sku))
    for variant in _ld_list(product.get("hasVariant")):
        out.extend(_ld_product(variant))
    return out


def _ld_offer(offer: dict[str, Any], *, product_sku: str | None) -> list[Candidate]:
    kinds = _types(offer)
    if "AggregateOffer" in kinds:
        nested = _ld_list(offer.get("offers"))
        if nested:
            return [c for o in nested for c in _ld_offer(o, product_sku=product_sku)]
        currency = _text(offer.get("priceCurrency"))
        low, high = (
            _amount(offer.get("lowPrice", offer.get("price"))),
            _amount(offer.get("highPrice")),
        )
        return [
            Candidate("json-ld", amount, currency, raw=str(amount), sku=product_sku)
            for amount in {low, high}
            if amount is not None
        ]
    if _used(offer):
        return []  # open-box, refurbished or used: not the item the order bought
    sku = _text(offer.get("sku")) or product_sku
    availability = _availability(_text(offer.get("availability")))
    currency = _text(offer.get("priceCurrency"))
    raw = offer.get("price")
    if raw is None:
        specs = [s for s in _ld_list(offer.get("priceSpecification")) if not _list_price(s)]
        raw = specs[0].get("price") if len(specs) == 1 else None
        if specs and currency is None:
            currency = _text(specs[0].get("priceCurrency"))
    amount = _amount(raw)
    if amount is None:
        return []
    return [
        Candidate(
            "json-ld", amount, currency, raw=str(raw)[:80], sku=sku, availability=availability
        )
    ]


def _used(offer: dict[str, Any]) -> bool:
    condition = (_text(offer.get("itemCondition")) or "").rsplit("/", 1)[-1].lower()
    return condition in {"usedcondition", "refurbishedcondition", "damagedcondition"}


def _list_price(spec: dict[str, Any]) -> bool:
    kind = (_text(spec.get("priceType")) or "").rsplit("/", 1)[-1].lower()
    return kind in {
        "listprice",
        "strikethroughprice",
        "msrp",
        "srp",
        "invoiceprice",
        "minimumadvertisedprice",
    }


def _same_page(value: Any, page_url: str) -> bool:
    if not isinstance(value, str) or not value:
        return False
    a, b = urlsplit(value), urlsplit(page_url)
    return (a.netloc.lower(), a.path.rstrip("/")) == (b.netloc.lower(), b.path.rstrip("/"))


def from_microdata(
    tree: LexborHTMLParser, *, nodes: list[LexborNode] | None = None
) -> list[Candidate]:
    """Candidates from ``itemprop=price`` inside the page's main Product item.

    A Product nested in another (related items, accessories) belongs to another product; so
    does a second top-level Product when the first holds the page's heading.
    """
    by_scope: dict[int, list[Candidate]] = {}
    tops: dict[int, LexborNode | None] = {}
    if nodes is None:
        nodes = tree.css(_ITEMPROP_PRICE)
    if not nodes:
        return []
    nested = {n.mem_id for n in tree.css(_NESTED_PRICE)}
    for node in nodes:
        if node.mem_id in nested or _struck(node):
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
                availability = _availability(
                    availability_node.attributes.get("href")
                    or availability_node.attributes.get("content")
                    or availability_node.text(strip=True)
                )
        top = _product_scope(node)
        key = top.mem_id if top is not None else 0
        tops[key] = top
        by_scope.setdefault(key, []).append(
            Candidate("microdata", parsed.amount, currency, raw=raw[:80], availability=availability)
        )
    if len(by_scope) > 1:
        heading = tree.css_first("h1")
        for key, top in tops.items():
            if top is not None and heading is not None and _contains(top, heading):
                return by_scope[key]
    return [c for group in by_scope.values() for c in group]


_NESTED_PRICE = '[itemtype*="Product"] [itemtype*="Product"] [itemprop="price"]'
_LD_JSON = 'script[type="application/ld+json"]'
_ITEMPROP_PRICE = '[itemprop="price"]'
_RDFA_PRICE = '[property="price"], [property="schema:price"], [property="schema:Price"]'
_STRUCTURED = ", ".join((_LD_JSON, _ITEMPROP_PRICE, _RDFA_PRICE))


def from_rdfa(tree: LexborHTMLParser, *, nodes: list[LexborNode] | None = None) -> list[Candidate]:
    """Candidates from RDFa ``property="price"`` (or ``schema:price``) with its currency."""
    out = []
    for node in tree.css(_RDFA_PRICE) if nodes is None else nodes:
        if node.tag == "meta" and (node.attributes.get("property") or "").startswith("og:"):
            continue
        if _struck(node):
            continue
        raw = node.attributes.get("content") or node.text(strip=True) or ""
        parsed = prices.parse_price(raw)
        if parsed is None:
            continue
        currency = parsed.currency
        parent = node.parent
        if parent is not None:
            currency_node = parent.css_first(
                '[property="priceCurrency"], [property="schema:priceCurrency"]'
            )
            if currency_node is not None:
                currency = (
                    currency_node.attributes.get("content")
                    or currency_node.text(strip=True)
                    or currency
                )
        out.append(Candidate("rdfa", parsed.amount, currency, raw=raw[:80]))
    return out


def from_opengraph(page: Document) -> list[Candidate]:
    """Candidates from ``product:price:amount`` / ``og:price:amount`` meta tags.

    They belong in the head, which is quick to search (a tag in the body is not read).
    """
    tree = page.tree
    scope = tree.head or tree.root
    if scope is None:
        return []
    out = []
    for prefix in ("product:price", "og:price"):
        for node in scope.css(f'meta[property="{prefix}:amount"]'):
            raw = node.attributes.get("content") or ""
            amount = prices.parse_amount(raw)
            if amount is None:
                continue
            currency_node = tree.css_first(f'meta[property="{prefix}:currency"]')
            currency = currency_node.attributes.get("content") if currency_node else None
            out.append(Candidate("opengraph", amount, currency, raw=raw[:80]))
    return out


def from_regex(text: str, pattern: str) -> list[Candidate]:
    """Candidates from a regular expression's first group (or whole match) over the raw page."""
    out = []
    for match in re.finditer(pattern, text):
        raw = match.group(1) if match.groups() else match.group(0)
        parsed = prices.parse_price(raw)
        if parsed is not None:
            out.append(Candidate("regex", parsed.amount, parsed.currency, raw=raw[:80]))
    return out


# --- pages that are not the product ------------------------------------------------------------

_BLOCKED_TITLES = re.compile(
    r"captcha|robot check|are you a robot|access denied|attention required|just a moment"
    r"|verify you are (a )?human|security check|access to this page has been denied|pardon our interruption"
    r"|安全验证|验证码|人机验证|访问受限|请登录|用户登录|登录页|京东验证|滑动验证",
    re.IGNORECASE,
)
_CHALLENGE = (
    "#challenge-form, #challenge-running, #cf-challenge-running, #px-captcha, .g-recaptcha, "
    '.h-captcha, iframe[src*="captcha"], form[action*="captcha"], form[action*="Captcha"], '
    'form[action*="validateCaptcha"], #nc_1_wrapper, #captcha-container, [id^="captcha"]'
)
_LOGIN_URL = re.compile(
    r"(^|[/.?&=])(login|signin|sign-in|serviceLogin|passport|ap/signin)([/.?&=]|$)", re.IGNORECASE
)
# "404" alone is not enough: product names carry numbers ("Air Max 404").
_GONE_TITLES = re.compile(
    r"page not found|product not found|item not found|^\s*not found\s*$"
    r"|\b404\b\s*[-:|]?\s*(?:not found|error|page)|(?:error|page)\s*[-:|]?\s*404\b"
    r"|商品不存在|页面不存在|该商品已下柜|商品已下架|no longer available",
    re.IGNORECASE,
)
# Phrases are first looked for with plain `in` on the raw page, which is a hundred times
# faster than a case-insensitive regex over 150 KB; only a hit costs a closer look.
_GONE_TEXT = (
    "该商品已下柜",
    "商品已下架",
    "商品不存在",
    "已停售",
    "no longer available",
    "product not found",
    "item not found",
    "has been discontinued",
)
_CHALLENGE_HINTS = ("aptcha", "hallenge", "nc_1_wrapper")
CHALLENGE_SCAN = 64 * 1024  # characters of a page searched for signs of a bot challenge


def blocked_reason(page: Document) -> str | None:
    """Return why a page is a captcha, challenge or login wall instead of the product, or None."""
    title = page.title
    if title and _BLOCKED_TITLES.search(title):
        return f'blocked: the page is a robot check or login wall (title "{_clip(title, 60)}")'
    if page.url:
        parts = urlsplit(page.url)
        if _LOGIN_URL.search(parts.netloc.split(".")[0] + "/" + parts.path + "?" + parts.query):
            return "blocked: the shop redirected to a login page"
    # Challenge pages are small and say so early; a product page that embeds a captcha
    # widget further down (for reviews, a login box) is still the product page. The
    # selectors are slow on a big tree, so they run only when the page's start hints at one.
    head = page.text[:CHALLENGE_SCAN]
    if not any(hint in head for hint in _CHALLENGE_HINTS):
        return None
    if page.tree.css_first(_CHALLENGE) is not None:
        return "blocked: the page is a captcha or bot challenge"
    if page.contains("Enter the characters you see below"):
        return "blocked: the page is a robot check"
    return None


def gone_reason(page: Document) -> str | None:
    """Return why a 200 page says the product is gone (off the shelf, not found), or None."""
    heading = page.tree.css_first("h1")
    headline = f"{page.title} {heading.text(strip=True) if heading else ''}"
    if _GONE_TITLES.search(headline):
        return f'gone: the shop says the product is not available ("{_clip(headline.strip(), 60)}")'
    # Cheap test on the raw page first; only then read the visible text, because shops also
    # ship these phrases inside their JavaScript.
    if any(page.contains(phrase) for phrase in _GONE_TEXT):
        visible = _visible_text(page.tree)
        for phrase in _GONE_TEXT:
            if phrase in visible:
                return f'gone: the page says "{phrase}"'
    return None


def _visible_text(tree: LexborHTMLParser) -> str:
    body = tree.body
    if body is None:
        return ""
    clone = LexborHTMLParser(body.html or "")
    clone.strip_tags(["script", "style", "noscript", "template"])
    return clone.body.text(separator=" ", strip=True) if clone.body else ""


def _needs_javascript(tree: LexborHTMLParser) -> bool:
    noscript = " ".join(n.text(strip=True) for n in tree.css("noscript")).lower()
    if "javascript" in noscript or "启用" in noscript:
        return True
    return len(_visible_text(tree)) < 400


# --- helpers for structured data --------------------------------------------------------------


def _loads_lenient(text: str) -> Any:
    """Parse embedded JSON, forgiving the usual slips: trailing commas, raw control characters."""
    text = text.strip().removeprefix("<!--").removesuffix("-->").strip().rstrip(";")
    try:
        return json.loads(text, strict=False)
    except ValueError:
        pass
    repaired = re.sub(r",\s*([}\]])", r"\1", text)
    try:
        return json.loads(repaired, strict=False)
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
        main = data.get("mainEntity")
        if isinstance(main, dict):
            yield from _ld_nodes(main)


def _ld_list(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def _types(node: dict[str, Any]) -> set[str]:
    kinds = node.get("@type")
    names = kinds if isinstance(kinds, list) else [kinds]
    return {str(k).rsplit("/", 1)[-1].rsplit(":", 1)[-1] for k in names if k}


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
    if name in {
        "instock",
        "limitedavailability",
        "onlineonly",
        "instoreonly",
        "preorder",
        "presale",
    }:
        return Availability.IN_STOCK
    return Availability.UNSTATED


def _struck(node: LexborNode) -> bool:
    current: LexborNode | None = node
    for _ in range(4):  # an old price is struck through at, or just above, the price node
        if current is None:
            return False
        if current.tag in _STRUCK:
            return True
        current = current.parent
    return False


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
