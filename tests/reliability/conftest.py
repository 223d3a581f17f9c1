"""Real components for the reliability suite: raw TCP shops, a notifier that can be down, the
daemon process, and checks on the state database.

Everything listens on 127.0.0.1; every wait is bounded and ends on an event where there is one.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import signal
import socket
import socketserver
import sqlite3
import struct
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from monitor.cli import cli
from monitor.demo import DemoProduct, product_page

TODAY = datetime.now(UTC).date()
PROJECT = Path(__file__).resolve().parents[2]


def order(
    url: str,
    order_id: str,
    *,
    paid: str = "4999.00",
    ordered: date | None = None,
    shop: str = "testmall",
    **changes: object,
) -> dict[str, object]:
    """An [[orders]] table for write_config: bought yesterday at a shop with a 15-day window."""
    return {
        "id": order_id,
        "shop": shop,
        "url": url,
        "title": f"Product {order_id}",
        "paid": paid,
        "ordered": ordered or TODAY - timedelta(days=1),
        **changes,
    }


def cli_run(config: Path, *args: str, code: int = 0) -> Result:
    """Run `price-monitor -c CONFIG ARGS...` in-process and check its exit code."""
    result = CliRunner().invoke(cli, ["-c", str(config), *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


# --- a raw TCP shop ------------------------------------------------------------------------


class Connection:
    """One accepted connection of a RawServer, for a behaviour to answer as it likes."""

    def __init__(self, server: RawServer, sock: socket.socket) -> None:
        self.server = server
        self.socket = sock

    def send(self, data: bytes) -> bool:
        """Send ``data``; return False once the client has gone away."""
        try:
            self.socket.sendall(data)
        except OSError:
            return False
        self.server.count(len(data))
        return True

    @staticmethod
    def head_bytes(status: str = "200 OK", **fields: str | int) -> bytes:
        """An HTTP/1.1 response head; ``Content_Length=3`` becomes ``Content-Length: 3``."""
        lines = [f"HTTP/1.1 {status}", "Content-Type: text/html; charset=utf-8"]
        lines += [f"{name.replace('_', '-')}: {value}" for name, value in fields.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def head(self, status: str = "200 OK", **fields: str | int) -> bool:
        return self.send(self.head_bytes(status, **fields))

    def pause(self, seconds: float) -> bool:
        """Wait ``seconds``; return False at once when the server is closing."""
        return not self.server.closing.wait(seconds)

    def reset(self) -> None:
        """Close with an RST instead of a FIN: a connection reset by peer."""
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.socket.close()


Behaviour = Callable[[Connection], None]


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False


class RawServer:
    """A TCP server on 127.0.0.1 that reads an HTTP request and lets ``behaviour`` answer it."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.closing = threading.Event()
        self.requests = 0
        self.sent = 0  # body and head bytes the clients accepted, over all connections
        self._lock = threading.Lock()
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                received = b""
                while b"\r\n\r\n" not in received and len(received) < 65536:
                    chunk = self.request.recv(4096)
                    if not chunk:
                        return
                    received += chunk
                with server._lock:
                    server.requests += 1
                behaviour(Connection(server, self.request))

        self._server = _TCPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def count(self, size: int) -> None:
        with self._lock:
            self.sent += size

    def url(self, path: str = "/product") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def close(self) -> None:
        self.closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def raw_server() -> Iterator[Callable[[Behaviour], RawServer]]:
    started: list[RawServer] = []

    def start(behaviour: Behaviour) -> RawServer:
        server = RawServer(behaviour)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def closed_port() -> int:
    """Return a port on 127.0.0.1 that nothing listens on (bound briefly, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@functools.cache
def gzip_bomb(size: int = 1 << 30) -> bytes:
    """Return a valid gzip member of ``size`` zero bytes, about a thousandth of that long.

    Each MiB of zeros is deflated once and ended with a full flush, which byte-aligns the
    block and resets the history, so the same block can stand for every MiB; the trailer
    carries the real CRC-32 and length. Built in a fraction of a second instead of the five
    seconds zlib takes to compress a gigabyte.
    """
    mib = bytes(1 << 20)
    assert size % len(mib) == 0
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(mib) + deflate.flush(zlib.Z_FULL_FLUSH)
    end = deflate.flush()
    crc = 0
    for _ in range(size // len(mib)):
        crc = zlib.crc32(mib, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    body = block * (size // len(mib))
    return header + body + end + struct.pack("<II", crc, size & 0xFFFFFFFF)


# --- a notification receiver that can be down, slow, failing or hanging --------------------


class FlakyReceiver:
    """A receiver for Apprise's json:// on a fixed 127.0.0.1 port, down until ``up()``.

    While down, its port is bound but not listening, so connections are refused, and the
    URL stays the same when it comes up. Once up it can answer every request with
    ``fail_with``, answer only after ``delay`` seconds (the payload then goes to ``late``,
    not ``messages``: the sender had given up by then), or ``hang``: hold each request
    unanswered until ``release()`` and then drop it (counted in ``held``).
    """

    def __init__(self, *, read_timeout: float | None = None) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.read_timeout = read_timeout
        self.messages: list[dict[str, Any]] = []
        self.late: list[dict[str, Any]] = []
        self.requests = 0
        self.held = 0
        self.fail_with: int | None = None
        self.delay = 0.0
        self.hang = False
        self._release = threading.Event()
        self._changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        query = f"?rto={self.read_timeout}" if self.read_timeout else ""
        return f"json://127.0.0.1:{self.port}/alerts{query}"

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length) or b"{}")
                with receiver._changed:
                    receiver.requests += 1
                    hang, delay, status = receiver.hang, receiver.delay, receiver.fail_with or 200
                    if hang:
                        receiver.held += 1
                    receiver._changed.notify_all()
                if hang:
                    receiver._release.wait(60)
                    self.close_connection = True
                    return  # never answered
                if delay:
                    receiver._release.wait(delay)
                with receiver._changed:
                    if status == 200:
                        (receiver.late if delay else receiver.messages).append(payload)
                    receiver._changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler, bind_and_activate=False)
        server.socket.close()
        server.socket = self._socket
        server.server_activate()
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Block until ``count`` messages were received and answered in time."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.messages) >= count, timeout):
                pytest.fail(f"expected {count} notifications, got {len(self.messages)}")
            return list(self.messages)

    def wait_until_held(self, count: int, timeout: float = 20.0) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: self.held >= count, timeout):
                pytest.fail(f"expected {count} held requests, got {self.held}")

    def release(self) -> None:
        self._release.set()

    def close(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        else:
            self._socket.close()


@pytest.fixture
def flaky_receiver() -> Iterator[Callable[..., FlakyReceiver]]:
    made: list[FlakyReceiver] = []

    def make(**kwargs: Any) -> FlakyReceiver:
        receiver = FlakyReceiver(**kwargs)
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def fast_receiver(flaky_receiver: Callable[..., FlakyReceiver]) -> FlakyReceiver:
    """A FlakyReceiver that is up and answers at once (and closes without a half-second poll)."""
    receiver = flaky_receiver()
    receiver.up()
    return receiver


# --- the daemon process ----------------------------------------------------------------------


class DaemonProcess:
    """The real `price-monitor run` (``python -m monitor``), its output kept in a file."""

    def __init__(self, config: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.log_path = log
        self._log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "-c", str(config), "run"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT,
            env={**os.environ, **(env or {})},
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture
def daemon_process(tmp_path: Path) -> Iterator[Callable[..., DaemonProcess]]:
    started: list[DaemonProcess] = []

    def start(config: Path, env: dict[str, str] | None = None) -> DaemonProcess:
        daemon = DaemonProcess(config, tmp_path / f"daemon{len(started)}.log", env)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.close()


# --- the state database, read the way an auditor would ------------------------------------


def integrity(database: Path) -> str:
    with sqlite3.connect(database) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def price_rows(database: Path) -> dict[str, list[tuple[str, str, str, int]]]:
    """Return each product URL's price history rows (amount, currency, availability, checks)."""
    with sqlite3.connect(database) as conn:
        rows = conn.execute(
            "SELECT p.url, r.amount, r.currency, r.availability, r.checks FROM prices r "
            "JOIN products p ON p.id = r.product_id ORDER BY r.id"
        ).fetchall()
    out: dict[str, list[tuple[str, str, str, int]]] = {}
    for url, *row in rows:
        out.setdefault(url, []).append((row[0], row[1], row[2], row[3]))
    return out


def assert_run_length(database: Path) -> None:
    """No price-history row repeats the one before it: an unchanged price adds no row."""
    for url, rows in price_rows(database).items():
        for before, after in itertools.pairwise(rows):
            assert before[:3] != after[:3], f"{url}: duplicated price row {after[:3]}"


def outbox(database: Path) -> list[tuple[str, str, str, int]]:
    """Return every alert as (dedupe key, kind, status, attempts), oldest first."""
    with sqlite3.connect(database) as conn:
        rows = conn.execute(
            "SELECT dedupe_key, kind, status, attempts FROM alerts ORDER BY id"
        ).fetchall()
    return [(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]


def quiet_hours_now() -> str:
    """A quiet-hours span (UTC) that holds the current time, as tests/test_alerts.py does."""
    now = datetime.now(UTC)
    return f"{(now - timedelta(hours=1)):%H:00}-{(now + timedelta(hours=2)):%H:00}"


# --- a threaded shop whose next request can be held, and sd_notify with check counting ------


class LocalShop:
    """Product pages on 127.0.0.1 (a threaded server of our own), whose prices a test sets.

    ``hold()`` makes the next product request wait, unanswered, until ``release()``: a shop
    that is slow to answer, caught in the act (``fetching`` is set once it is waiting).
    """

    def __init__(self) -> None:
        self.prices: dict[str, Decimal] = {}
        self.requests: dict[str, int] = {}
        self.fetching = threading.Event()
        self._hold = False
        self._released = threading.Event()
        self._lock = threading.Condition()
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with shop._lock:
                    price = shop.prices.get(self.path)
                    shop.requests[self.path] = shop.requests.get(self.path, 0) + 1
                    held, shop._hold = shop._hold, False
                    shop._lock.notify_all()
                if price is None:
                    self.send_error(404)
                    return
                if held:
                    shop.fetching.set()
                    shop._released.wait(30)
                product = DemoProduct(self.path, f"Product {self.path}", price, "CNY", "SKU-1", ())
                body = product_page(product).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def add(self, path: str, price: str) -> str:
        self.prices[path] = Decimal(price)
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def set_price(self, path: str, price: Decimal | str) -> None:
        with self._lock:
            self.prices[path] = Decimal(price)

    def count(self, path: str) -> int:
        with self._lock:
            return self.requests.get(path, 0)

    def wait_for_requests(self, path: str, count: int, timeout: float = 20) -> None:
        """Block until ``path`` was requested ``count`` times in all.

        A daemon checks one product at a time, so once its request number n + 1 arrived,
        the check that made request n has been recorded.
        """
        with self._lock:
            if not self._lock.wait_for(lambda: self.requests.get(path, 0) >= count, timeout):
                pytest.fail(f"expected {count} requests for {path}, got {self.requests}")

    def hold(self) -> None:
        with self._lock:
            self._hold = True
        self.fetching.clear()
        self._released.clear()

    def release(self) -> None:
        with self._lock:
            self._hold = False
        self._released.set()

    def close(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def local_shop() -> Iterator[LocalShop]:
    shop = LocalShop()
    yield shop
    shop.close()
