"""What the reliability suite adds to ``monitor.testing``: raw TCP servers that misbehave on
purpose, a gzip bomb, and checks on the state database read the way an auditor would.

Everything listens on 127.0.0.1; every wait is bounded and ends on an event where there is one.
"""

from __future__ import annotations

import functools
import itertools
import socket
import socketserver
import sqlite3
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

TODAY = datetime.now(UTC).date()
PROJECT = Path(__file__).resolve().parents[2]


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
