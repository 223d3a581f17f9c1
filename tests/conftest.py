"""Real components for the tests: a loopback shop, a loopback notification receiver, configs."""

from __future__ import annotations

import email
import email.message
import json
import socket
import tempfile
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
        "confirm": "0s",
        "retries": 0,
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


class MailServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[email.message.Message] = []
        self._changed = threading.Condition()
        server = self

        class Handler:
            async def handle_DATA(self, smtp: object, session: object, envelope: Any) -> str:
                message = email.message_from_bytes(envelope.content)
                with server._changed:
                    server.messages.append(message)
                    server._changed.notify_all()
                return "250 OK"

        with socket.socket() as probe:  # aiosmtpd needs a concrete port to check itself
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def url(self, to: str = "me@example.com") -> str:
        return f"mailto://127.0.0.1:{self.port}?from=monitor@example.com&to={to}&mode=insecure"

    def wait_for(self, count: int, timeout: float = 20.0) -> list[email.message.Message]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.messages) >= count, timeout):
                pytest.fail(f"expected {count} emails, got {len(self.messages)}")
            return list(self.messages)

    def close(self) -> None:
        self._controller.stop()


@pytest.fixture
def mail() -> Iterator[MailServer]:
    server = MailServer()
    yield server
    server.close()


class NotifySocket:
    """A real unix datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="pm-notify-")  # unix socket paths must be short
        self.path = str(Path(self._dir) / "notify")
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(self.path)
        self.messages: list[dict[str, str]] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._receive, daemon=True).start()

    def _receive(self) -> None:
        while True:
            try:
                data = self._socket.recv(4096)
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            with self._changed:
                self.messages.append(fields)
                self._changed.notify_all()

    def wait_for(self, key: str, value: str = "1", *, after: int = 0, timeout: float = 20) -> int:
        """Block until a datagram at index >= ``after`` has key=value; return its index."""

        def found() -> int | None:
            for index, message in enumerate(self.messages[after:], start=after):
                if message.get(key) == value:
                    return index
            return None

        with self._changed:
            if not self._changed.wait_for(lambda: found() is not None, timeout):
                pytest.fail(f"no {key}={value} datagram; got {self.messages}")
            index = found()
            assert index is not None
            return index

    def wait_for_status(self, text: str, timeout: float = 20) -> None:
        """Block until a STATUS= datagram contains ``text``."""
        with self._changed:
            if not self._changed.wait_for(
                lambda: any(text in m.get("STATUS", "") for m in self.messages), timeout
            ):
                pytest.fail(f"no STATUS with {text!r}; got {self.messages}")

    def close(self) -> None:
        self._socket.close()
        Path(self.path).unlink(missing_ok=True)
        Path(self._dir).rmdir()
