"""A shop on 127.0.0.1: product pages as shops write them, whose prices the caller changes.

Used by the demo, the test suite and the benchmarks. Each path serves a product page (JSON-LD,
microdata, and a related-products carousel with prices of its own); a path can also be made
to answer with an HTTP status, to play a script of answers first (a flapping price, a 500
then a 429), or to hold its next request unanswered until released.
"""

from __future__ import annotations

import html
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RELATED = (("Case", Decimal("79.00")), ("Charger", Decimal("99.00")))


@dataclass
class ShopProduct:
    """One product page: its path, title, price and SKU, and the related products beside it."""

    path: str
    title: str
    price: Decimal
    currency: str = "CNY"
    sku: str = "SKU-1"
    related: tuple[tuple[str, Decimal], ...] = RELATED


def product_page(product: ShopProduct) -> str:
    """Return a product page as shops write them: JSON-LD, microdata, and a related carousel.

    The related products carry prices of their own: the extractor must not take them.
    """
    ld = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.title,
        "sku": product.sku,
        "offers": {
            "@type": "Offer",
            "price": f"{product.price:.2f}",
            "priceCurrency": product.currency,
            "availability": "https://schema.org/InStock",
        },
    }
    related = "\n".join(
        f'<li itemscope itemtype="https://schema.org/Product"><span itemprop="name">'
        f'{html.escape(name)}</span><span itemprop="offers" itemscope '
        f'itemtype="https://schema.org/Offer"><meta itemprop="priceCurrency" '
        f'content="{product.currency}"><span itemprop="price" content="{price:.2f}">'
        f"{price:.2f}</span></span></li>"
        for name, price in product.related
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(product.title)} - demo shop</title>
<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>
</head><body>
<nav><a href="/">Home</a> <a href="/phones">Phones</a> <a href="/audio">Audio</a></nav>
<main itemscope itemtype="https://schema.org/Product">
  <h1 itemprop="name">{html.escape(product.title)}</h1>
  <div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
    <meta itemprop="priceCurrency" content="{product.currency}">
    <span class="price" itemprop="price" content="{product.price:.2f}">{product.price:.2f}</span>
  </div>
  <p>Free shipping on orders over 99. Pay in 12 monthly installments.</p>
  <section class="related"><h2>You may also like</h2><ul>{related}</ul></section>
</main></body></html>"""


@dataclass(frozen=True)
class Answer:
    """A scripted answer: an HTTP status with a body and headers, instead of the page."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


class LoopbackShop:
    """Product pages on 127.0.0.1 (a threaded HTTP server); use as a context manager.

    ``add`` puts a product at a path and returns its URL; ``set_price`` changes it. A path
    answers a status of its own after ``set_status``, and plays ``script``'s answers (an
    ``Answer`` or a price) to its next requests before the page. ``hold()`` makes the next
    product request wait, unanswered, until ``release()``: a slow shop caught in the act
    (``fetching`` is set while it waits). Requests are counted per path. A path is the whole
    request target, query included: ``/prices?ids=J_42`` is not ``/prices``.
    """

    def __init__(self) -> None:
        self.products: dict[str, ShopProduct] = {}
        self.fetching = threading.Event()
        self._statuses: dict[str, int] = {}
        self._pages: dict[str, Answer] = {}  # raw pages, answered as they are
        self._scripts: dict[str, list[Answer | Decimal]] = {}
        self._requests: dict[str, list[float]] = {}
        self._hold = False
        self._released = threading.Event()
        self._changed = threading.Condition()
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body, headers = shop._answer(self.path)
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # the caller tells its own story

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def add(
        self,
        path: str,
        price: str | Decimal,
        *,
        currency: str = "CNY",
        title: str = "Test phone",
        sku: str = "SKU-1",
        related: tuple[tuple[str, Decimal], ...] = RELATED,
    ) -> str:
        """Put a product page at ``path``; return its URL."""
        with self._changed:
            self.products[path] = ShopProduct(path, title, Decimal(price), currency, sku, related)
        return self.url(path)

    def set_price(self, path: str, price: str | Decimal) -> None:
        with self._changed:
            self.products[path].price = Decimal(price)

    def put(self, path: str, body: bytes, content_type: str = "text/html; charset=utf-8") -> str:
        """Answer every request for ``path`` with this body, as it is (a hostile page, say);
        return its URL."""
        with self._changed:
            self._pages[path] = Answer(200, body, {"Content-Type": content_type})
        return self.url(path)

    def set_status(self, path: str, status: int | None) -> None:
        """Answer every request for ``path`` with ``status`` (None: serve the page again)."""
        with self._changed:
            if status is None:
                self._statuses.pop(path, None)
            else:
                self._statuses[path] = status

    def script(self, path: str, *answers: Answer | str | Decimal) -> None:
        """Answer the next requests for ``path`` with these, in turn; a price shows the page
        at that price. Afterwards the page shows its own price again."""
        with self._changed:
            self._scripts.setdefault(path, []).extend(
                a if isinstance(a, Answer) else Decimal(a) for a in answers
            )

    def requests(self, path: str) -> int:
        """How many requests for ``path`` arrived."""
        with self._changed:
            return len(self._requests.get(path, []))

    def request_times(self, path: str) -> list[float]:
        """When each request for ``path`` arrived (``time.monotonic()``)."""
        with self._changed:
            return list(self._requests.get(path, []))

    def wait_for_requests(self, path: str, count: int, timeout: float = 20) -> None:
        """Block until ``path`` was requested ``count`` times in all.

        A daemon checks one product at a time, so once its request number n + 1 arrived,
        the check that made request n has been recorded.
        """
        with self._changed:
            arrived = self._changed.wait_for(
                lambda: len(self._requests.get(path, [])) >= count, timeout
            )
            if not arrived:
                raise AssertionError(f"expected {count} requests for {path}, got {self._requests}")

    def hold(self) -> None:
        with self._changed:
            self._hold = True
        self.fetching.clear()
        self._released.clear()

    def release(self) -> None:
        with self._changed:
            self._hold = False
        self._released.set()

    def close(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LoopbackShop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _answer(self, path: str) -> tuple[int, bytes, dict[str, str]]:
        """What to answer a request for ``path`` with: status, body, headers."""
        with self._changed:
            self._requests.setdefault(path, []).append(time.monotonic())
            product = self.products.get(path)
            status = self._statuses.get(path)
            script = self._scripts.get(path)
            scripted: Answer | Decimal | None = script.pop(0) if script else None
            if scripted is None and path in self._pages:
                scripted = self._pages[path]
            held, self._hold = self._hold, False
            self._changed.notify_all()
        if isinstance(scripted, Answer):
            return scripted.status, scripted.body, dict(scripted.headers)
        if status is not None:
            return status, b"error", {}
        if product is None:
            return 404, b"not found", {}
        if held:
            self.fetching.set()
            self._released.wait(30)
        if isinstance(scripted, Decimal):
            product = ShopProduct(
                product.path,
                product.title,
                scripted,
                product.currency,
                product.sku,
                product.related,
            )
        page = product_page(product).encode("utf-8")
        return 200, page, {"Content-Type": "text/html; charset=utf-8"}
