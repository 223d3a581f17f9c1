"""What extraction reads: the body with its tree parsed once, and what the order says."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode


@dataclass(frozen=True, slots=True)
class Request:
    """What the order says about the product: its page, variant, selector and currency."""

    sku: str | None = None
    selector: str | None = None
    currency: str | None = None
    product_url: str = ""


_LD_JSON = 'script[type="application/ld+json"]'
_ITEMPROP_PRICE = '[itemprop="price"]'
_RDFA_PRICE = '[property="price"], [property="schema:price"], [property="schema:Price"]'
_STRUCTURED = ", ".join((_LD_JSON, _ITEMPROP_PRICE, _RDFA_PRICE))
_STRUCK = frozenset({"del", "s", "strike"})

# A strategy reads at most this many price nodes or matches. A product page has a handful;
# a page with thousands is a listing or an attack, and reading them all (each with its
# scope and its currency) would cost time with the square of the page.
MAX_PRICE_NODES = 100
# A strategy that leaves nodes out before they count (struck-through prices, the prices of
# related products) looks at up to this many: a carousel of accessories before the main
# price must not hide it.
MAX_EXAMINED = 1000


@dataclass(frozen=True, slots=True)
class StructuredNodes:
    """The nodes three strategies read, found in one pass over the tree."""

    json_ld: list[LexborNode]
    itemprop_price: list[LexborNode]
    rdfa_price: list[LexborNode]


class Document:
    """A body as extraction sees it: the text, where it came from, its content type.

    The HTML tree is parsed once, on first use, and shared by every strategy.
    """

    def __init__(self, text: str, url: str = "", content_type: str = "") -> None:
        self.text = text
        self.url = url
        self.content_type = content_type

    @functools.cached_property
    def tree(self) -> LexborHTMLParser:
        return LexborHTMLParser(self.text)

    @functools.cached_property
    def structured(self) -> StructuredNodes:
        """The JSON-LD scripts, ``itemprop=price`` and RDFa price nodes, in one pass."""
        scripts, itemprops, rdfa = [], [], []
        for node in self.tree.css(_STRUCTURED):
            attributes = node.attributes
            if node.tag == "script":
                scripts.append(node)
            elif attributes.get("itemprop") == "price":
                itemprops.append(node)
            if (attributes.get("property") or "").lower() in ("price", "schema:price"):
                rdfa.append(node)
        return StructuredNodes(scripts, itemprops, rdfa)

    @functools.cached_property
    def _raw(self) -> bytes:
        return self.text.encode("utf-8", "replace")

    def contains(self, phrase: str) -> bool:
        """Return True when the raw page contains ``phrase``, as fast as CPython allows.

        An ASCII page is searched as it is (a non-ASCII phrase is ruled out at once); any
        other page as UTF-8 bytes, since a search in a str holding a CJK character is
        several times slower than in bytes.
        """
        if self.text.isascii():
            return phrase in self.text
        return phrase.encode() in self._raw

    @functools.cached_property
    def title(self) -> str:
        node = self.tree.css_first("title")
        return node.text(strip=True) if node else ""

    @functools.cached_property
    def language(self) -> str:
        """The page's ``<html lang>``, e.g. ``zh-CN`` ("" when it states none)."""
        html = self.tree.css_first("html")
        return (html.attributes.get("lang") or "") if html is not None else ""

    @property
    def is_json(self) -> bool:
        if "json" in self.content_type.lower():
            return True
        return self.text.lstrip("\ufeff \t\r\n")[:1] in ("{", "[")


def struck(node: LexborNode) -> bool:
    """Return True for a node in ``<del>``, ``<s>`` or ``<strike>``: an old price."""
    current: LexborNode | None = node
    for _ in range(4):  # an old price is struck through at, or just above, the price node
        if current is None:
            return False
        if current.tag in _STRUCK:
            return True
        current = current.parent
    return False


def clip(text: str, width: int = 120) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
