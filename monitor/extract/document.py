"""What extraction reads: the body with its tree parsed once, and what the order says."""

from __future__ import annotations

import functools
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

_LD_JSON = 'script[type="application/ld+json"]'
_ITEMPROP_PRICE = '[itemprop="price"]'
_RDFA_PRICE = ("price", "schema:price")  # ``property`` values, in lower case
_STRUCK = frozenset({"del", "s", "strike"})

# A strategy reads at most this many price nodes or matches. A product page has a handful;
# a page with thousands is a listing or an attack, and reading them all (each with its
# scope and its currency) would cost time with the square of the page.
MAX_PRICE_NODES = 100
# A strategy that leaves nodes out before they count (struck-through prices, the prices of
# related products) looks at up to this many: a carousel of accessories before the main
# price must not hide it.
MAX_EXAMINED = 1000


class Document:
    """A body as extraction sees it: the text, where it came from, its content type.

    The HTML tree is parsed once, on first use, and shared by every strategy.
    """

    def __init__(self, text: str, url: str = "", content_type: str = "") -> None:
        self.text = text
        self.url = url
        self.content_type = content_type
        self.cache: dict[str, Any] = {}  # what a strategy parsed, for the next to reuse

    @functools.cached_property
    def tree(self) -> LexborHTMLParser:
        return LexborHTMLParser(self.text)

    # Each strategy's nodes are found with one simple selector, when the strategy first runs:
    # lexbor walks the whole tree once per selector in a list, and a check stops at the
    # first strategy that finds a price.
    @functools.cached_property
    def json_ld(self) -> list[LexborNode]:
        """The page's ``<script type="application/ld+json">`` blocks."""
        return self.tree.css(_LD_JSON)

    @functools.cached_property
    def itemprop_price(self) -> list[LexborNode]:
        """The page's microdata ``itemprop="price"`` nodes."""
        return self.tree.css(_ITEMPROP_PRICE)

    @functools.cached_property
    def rdfa_price(self) -> list[LexborNode]:
        """The page's RDFa ``property="price"`` (or ``schema:price``) nodes."""
        return [
            node
            for node in self.tree.css("[property]")
            if (node.attributes.get("property") or "").lower() in _RDFA_PRICE
        ]

    @functools.cached_property
    def _raw(self) -> bytes:
        return self.text.encode("utf-8", "replace")

    @functools.cached_property
    def _body_at(self) -> tuple[int, int]:
        """Where ``<body`` starts in the text and in its UTF-8 bytes (0 when it has none)."""
        at = max(self.text.find("<body"), 0)
        if self.text.isascii():
            return at, at
        return at, max(self._raw.find(b"<body"), 0)

    def contains(self, phrase: str, *, in_body: bool = False) -> bool:
        """Return True when the raw page (or, with ``in_body``, the part from ``<body`` on)
        contains ``phrase``, as fast as CPython allows.

        An ASCII page is searched as it is (a non-ASCII phrase is ruled out at once); any
        other page as UTF-8 bytes, since a search in a str holding a CJK character is
        several times slower than in bytes.
        """
        text_at, raw_at = self._body_at if in_body else (0, 0)
        if self.text.isascii():
            return self.text.find(phrase, text_at) >= 0
        return self._raw.find(phrase.encode(), raw_at) >= 0

    @functools.cached_property
    def title(self) -> str:
        # In the head, where it belongs: a search of the whole tree costs a walk of it.
        head = self.tree.head
        node = (head.css_first("title") if head is not None else None) or self.tree.css_first(
            "title"
        )
        return node.text(strip=True) if node else ""

    @functools.cached_property
    def first_heading(self) -> LexborNode | None:
        """The page's first ``<h1>`` (found once: each search walks the tree)."""
        return self.tree.css_first("h1")

    @functools.cached_property
    def heading(self) -> str:
        """The text of the page's first ``<h1>`` ("" when it has none)."""
        node = self.first_heading
        return node.text(strip=True, separator=" ") if node else ""

    @functools.cached_property
    def canonical_url(self) -> str:
        """The page's ``<link rel=canonical>``, or its ``og:url`` ("" when it states neither)."""
        head = self.tree.head
        if head is None:
            return ""
        node = head.css_first('link[rel="canonical"]') or head.css_first('meta[property="og:url"]')
        if node is None:
            return ""
        return (node.attributes.get("href") or node.attributes.get("content") or "").strip()

    @functools.cached_property
    def language(self) -> str:
        """The page's ``<html lang>``, e.g. ``zh-CN`` ("" when it states none)."""
        html = self.tree.root  # the <html> element, without a search of the tree
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
