"""A loopback shop for the benchmarks: N product pages of about 150 KB, served fast.

It runs in a process of its own (so it does not share the monitor's interpreter), serves
``/p/<index>`` over HTTP/1.1 keep-alive, and takes new prices on ``POST /_prices`` (a JSON
object, index -> price). Each page is the same realistic template (bench/pages.py) with the
product's index, SKU and price filled in, so serving is a join of bytes, not a render.

    python bench/shop.py --products 10000 --seconds 5     # measure the shop alone
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import socket
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pages import product_page

INDEX_MARK = "999999"
PRICE_MARK = "123456.78"


def base_price(index: int) -> Decimal:
    """The price product ``index`` starts at (what its order paid)."""
    return Decimal(1000 + (index * 37) % 4000) + Decimal("0.99")


def template() -> list[bytes]:
    """Return a page split around the index and price marks, to be joined per request."""
    page = product_page(int(INDEX_MARK), Decimal(PRICE_MARK))
    # The list price is twice the price: give it a mark of its own so it follows the price.
    page = page.replace(f"{Decimal(PRICE_MARK) * 2:.2f}", "@@LIST@@")
    parts: list[bytes] = []
    for chunk in page.split(INDEX_MARK):
        parts.append(chunk.encode())
    return parts


def render(parts: list[bytes], index: int, price: Decimal) -> bytes:
    text = f"{index:06d}".encode().join(parts)
    return text.replace(PRICE_MARK.encode(), f"{price:.2f}".encode()).replace(
        b"@@LIST@@", f"{price * 2:.2f}".encode()
    )


class Server:
    def __init__(self, products: int) -> None:
        self.products = products
        self.parts = template()
        self.prices: dict[int, Decimal] = {}

    def price(self, index: int) -> Decimal:
        return self.prices.get(index, base_price(index))

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                method, path, _ = request_line.split(" ", 2)
                length = 0
                for line in header_lines:
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                status, payload = self.route(method, path, body)
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n".encode()
                )
                writer.write(payload)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    def route(self, method: str, path: str, body: bytes) -> tuple[str, bytes]:
        if method == "POST" and path == "/_prices":
            for index, price in json.loads(body).items():
                self.prices[int(index)] = Decimal(price)
            return "200 OK", b"ok"
        if path.startswith("/p/"):
            index = int(path[3:])
            if 0 <= index < self.products:
                return "200 OK", render(self.parts, index, self.price(index))
        return "404 Not Found", b"not found"


def _serve(products: int, sock: socket.socket, ready: multiprocessing.synchronize.Event) -> None:
    async def main() -> None:
        server = Server(products)
        srv = await asyncio.start_server(server.handle, sock=sock, limit=1 << 16)
        ready.set()
        async with srv:
            await srv.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


class ShopProcess:
    """The bench shop in a child process; ``with ShopProcess(n) as shop: shop.url(i)``."""

    def __init__(self, products: int) -> None:
        self.products = products
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(1024)
        self.port = self._socket.getsockname()[1]
        ready = multiprocessing.get_context("fork").Event()
        self._process = multiprocessing.get_context("fork").Process(
            target=_serve, args=(products, self._socket, ready), daemon=True
        )
        self._process.start()
        if not ready.wait(30):
            raise RuntimeError("the bench shop did not start")

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.port}/p/{index}"

    def set_prices(self, prices: dict[int, Decimal]) -> None:
        body = json.dumps({str(i): f"{p:.2f}" for i, p in prices.items()}).encode()
        with socket.create_connection(("127.0.0.1", self.port)) as conn:
            conn.sendall(
                f"POST /_prices HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            assert conn.recv(1024).startswith(b"HTTP/1.1 200")

    def close(self) -> None:
        self._process.terminate()
        self._process.join(10)
        self._socket.close()

    def __enter__(self) -> ShopProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _load(port: int, products: int, seconds: float, connections: int) -> tuple[int, int]:
    """Fetch pages over keep-alive connections for ``seconds``; return (pages, bytes)."""
    deadline = time.monotonic() + seconds
    pages = size = 0

    async def client(offset: int) -> None:
        nonlocal pages, size
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        index = offset
        while time.monotonic() < deadline:
            writer.write(f"GET /p/{index % products} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            pages += 1
            size += length
            index += connections
        writer.close()

    await asyncio.gather(*(client(i) for i in range(connections)))
    return pages, size


def main() -> None:
    parser = argparse.ArgumentParser(description="Measure the bench shop alone.")
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    with ShopProcess(args.products) as shop:
        pages, size = asyncio.run(_load(shop.port, args.products, args.seconds, args.connections))
    print(
        f"bench shop alone: {pages / args.seconds:,.0f} pages/s, "
        f"{size / args.seconds / 1e6:,.0f} MB/s, {size / max(pages, 1) / 1024:.0f} KB/page "
        f"({args.connections} keep-alive connections, {os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
