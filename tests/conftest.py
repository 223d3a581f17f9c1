"""Real components for the tests: a loopback shop, a loopback notification receiver, configs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from monitor.demo import DemoProduct, product_page


@dataclass
class Shop:
    """A shop on 127.0.0.1 (pytest-httpserver) whose product prices a test can change."""

    server: HTTPServer
    products: dict[str, DemoProduct] = field(default_factory=dict)
    status: dict[str, int] = field(default_factory=dict)

    def add(
        self, path: str, price: str, *, currency: str = "CNY", title: str = "Test phone"
    ) -> str:
        self.products[path] = DemoProduct(
            path=path,
            title=title,
            price=Decimal(price),
            currency=currency,
            sku="SKU-1",
            related=(("Case", Decimal("79.00")), ("Charger", Decimal("99.00"))),
        )
        self.server.expect_request(path).respond_with_handler(self._handler(path))
        return self.server.url_for(path)

    def set_price(self, path: str, price: str) -> None:
        self.products[path].price = Decimal(price)

    def _handler(self, path: str) -> Any:
        def handle(request: Request) -> Response:
            status = self.status.get(path, 200)
            if status != 200:
                return Response("error", status=status)
            return Response(
                product_page(self.products[path]), content_type="text/html; charset=utf-8"
            )

        return handle


@pytest.fixture
def shop(httpserver: HTTPServer) -> Shop:
    return Shop(httpserver)


class Receiver:
    """A real HTTP receiver for Apprise's json:// notifications on 127.0.0.1."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.fail_with: int | None = None  # answer every request with this status while set
        self.requests = 0
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length) or b"{}")
                with receiver._changed:
                    receiver.requests += 1
                    status = receiver.fail_with or 200
                    if status == 200:
                        receiver.messages.append(payload)
                    receiver._changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self._server.server_address[1]}/alerts"

    def wait_for(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Block until ``count`` messages arrived (or fail the test after ``timeout`` s)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.messages) >= count, timeout):
                pytest.fail(f"expected {count} notifications, got {len(self.messages)}")
            return list(self.messages)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, date | int | Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(value)


def write_config(
    path: Path,
    *,
    orders: list[dict[str, object]],
    urls: list[str],
    monitor: dict[str, object] | None = None,
    extra: str = "",
) -> Path:
    """Write a config.toml with a [monitor] section, [notify] urls and [[orders]]."""
    monitor = {
        "database": str(path.parent / "state.db"),
        "interval": "1s",
        "host_delay": "0s",
        **(monitor or {}),
    }
    lines = ["[monitor]", *(f"{k} = {toml_value(v)}" for k, v in monitor.items()), ""]
    lines += ["[notify]", f"urls = {toml_value(urls)}", ""]
    lines += [extra, ""]
    for order in orders:
        lines.append("[[orders]]")
        lines += [f"{k} = {toml_value(v)}" for k, v in order.items()]
        lines.append("")
    path.write_text("\n".join(lines), "utf-8")
    return path


# A shop with a 15-day window from the order date and no minimum interval worth waiting for.
TEST_SHOPS = """
[shops.testmall]
name = "测试商城"
currency = "CNY"
language = "zh"
timezone = "Asia/Shanghai"
window_days = 15
window_starts = "order"
min_interval = "1s"
claim = "联系在线客服"
refund_path = "原路退回"

[shops.teststore]
name = "Test Store"
currency = "USD"
language = "en"
timezone = "America/New_York"
window_days = 14
min_interval = "1s"
claim = "Chat with support"
refund_path = "Original payment method"
"""
