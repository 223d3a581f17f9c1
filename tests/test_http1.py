"""The fetcher's own HTTP/1.1 transport against a raw loopback server: framing, keep-alive,
stale connections, malformed answers, and the proxies it leaves to httpx."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from monitor.config import MonitorSettings
from monitor.errors import FetchError
from monitor.fetch import Fetcher, Page

NO_RETRY = MonitorSettings(host_delay=timedelta(0), retries=0)
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


def ok(body: bytes, *extra: str) -> bytes:
    head = ["HTTP/1.1 200 OK", "Content-Type: text/html; charset=utf-8", *extra]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in extra):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def read_request(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


def serve(handler: Handler, *paths: str, settings: MonitorSettings = NO_RETRY) -> list[object]:
    """Fetch each of ``paths`` in turn from a server that runs ``handler`` for every
    connection (with the connection's number); return the Pages, or the FetchErrors."""

    async def go() -> list[object]:
        count = 0

        async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal count
            count += 1
            try:
                await handler(reader, writer, count)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        results: list[object] = []
        async with server, Fetcher(settings) as fetcher:
            for path in paths:
                try:
                    results.append(await fetcher.fetch(f"http://127.0.0.1:{port}{path}"))
                except FetchError as exc:
                    results.append(exc)
        results.append(count)
        return results

    return asyncio.run(go())


def test_a_keep_alive_connection_carries_the_next_request() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while True:
            request = await read_request(reader)
            writer.write(ok(b"<p>" + request.split(b" ")[1] + b"</p>"))
            await writer.drain()

    first, second, connections = serve(handler, "/a", "/b")
    assert isinstance(first, Page) and first.text == "<p>/a</p>"
    assert isinstance(second, Page) and second.text == "<p>/b</p>"
    assert connections == 1


def test_a_chunked_body_is_read_with_its_extensions_and_trailers() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while True:
            await read_request(reader)
            writer.write(ok(b"", "Transfer-Encoding: chunked"))
            writer.write(b"5;name=value\r\n<p>12\r\n3\r\n34<\r\n")
            await writer.drain()
            writer.write(b"3\r\n/p>\r\n0\r\nX-Trailer: yes\r\n\r\n")
            await writer.drain()

    first, second, connections = serve(handler, "/a", "/b")
    assert isinstance(first, Page) and first.text == "<p>1234</p>"
    assert isinstance(second, Page) and second.text == "<p>1234</p>"
    assert connections == 1


def test_a_body_without_length_is_read_until_the_server_closes() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n<p>one</p>")
        await writer.drain()
        writer.write(b"<p>two</p>")

    first, second, connections = serve(handler, "/a", "/b")
    assert isinstance(first, Page) and first.text == "<p>one</p><p>two</p>"
    assert isinstance(second, Page)
    assert connections == 2


def test_an_idle_connection_the_server_closed_is_replaced_without_an_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        writer.write(ok(b"<p>ok</p>"))  # keep-alive by default, then closed all the same
        await writer.drain()

    first, second, connections = serve(handler, "/a", "/b")
    assert isinstance(first, Page) and isinstance(second, Page)
    assert connections == 2


def test_a_connection_closed_while_the_request_was_sent_is_tried_again_once() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        writer.write(ok(b"<p>first</p>"))
        await writer.drain()
        await read_request(reader)  # the second request: hang up without an answer
        writer.transport.abort()

    first, second, connections = serve(handler, "/a", "/b")
    assert isinstance(first, Page) and isinstance(second, Page)
    assert second.text == "<p>first</p>"  # from the new connection
    assert connections == 2


def test_an_answer_framed_both_ways_is_read_but_its_connection_not_reused() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while True:
            await read_request(reader)
            body = b"<p>ok</p>"
            chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
            writer.write(
                ok(chunked, "Transfer-Encoding: chunked", f"Content-Length: {len(chunked)}")
            )
            await writer.drain()

    first, second, connections = serve(handler, "/a", "/b")
    assert isinstance(first, Page) and first.text == "<p>ok</p>"
    assert isinstance(second, Page)
    assert connections == 2  # Transfer-Encoding beside Content-Length: a smuggling sign


def test_a_100_continue_before_the_answer_is_skipped() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"<p>ok</p>"))
        await writer.drain()

    (page, _) = serve(handler, "/a")
    assert isinstance(page, Page) and page.text == "<p>ok</p>"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (b"HTTP/2 200 OK\r\n\r\n", "not an HTTP/1 status line"),
        (b"ICY 200 OK\r\n\r\n", "not an HTTP/1 status line"),
        (b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n", "invalid header line"),
        (b"HTTP/1.1 200 OK\r\nX-Long: " + b"x" * 110_000 + b"\r\n\r\n", "head is too long"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n<p>", "without sending complete"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "invalid Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "invalid chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1" * 5000, "chunk line"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", "overran"),
        (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", "switched protocols"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "Transfer-Encoding"),
        (b"", "disconnected without sending a response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n", "Content-Length"),
        (b"HTTP/1.1 099 Odd\r\n\r\n", "not an HTTP status"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
            + b"X-Trailer: "
            + b"t" * 4000
            + b"\r\n" * 1
            + (b"X-T: " + b"t" * 4000 + b"\r\n") * 40,
            "trailers are too long",
        ),
    ],
)
def test_a_malformed_answer_is_a_protocol_error(answer: bytes, reason: str) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        writer.write(answer)
        await writer.drain()

    (error, _) = serve(handler, "/a")
    assert isinstance(error, FetchError)
    assert error.reason.startswith("RemoteProtocolError") and reason in error.reason


def test_a_header_that_would_split_the_request_is_refused_before_sending() -> None:
    async def go() -> FetchError:
        async with Fetcher(NO_RETRY) as fetcher:
            with pytest.raises(FetchError) as caught:
                await fetcher.fetch("http://127.0.0.1:9/", headers={"X-A": "t0ken\r\nX-B: 2"})
            return caught.value

    error = asyncio.run(go())
    assert not error.retryable and "LocalProtocolError" in error.reason
    assert "X-A" in error.reason and "t0ken" not in error.reason  # the value may be a secret


def test_a_proxy_in_the_environment_is_used_through_httpx(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        seen.append((await read_request(reader)).split(b"\r\n")[0])
        writer.write(ok(b"<p>via the proxy</p>"))
        await writer.drain()

    async def go() -> Page:
        async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await proxy(reader, writer, 1)
            writer.close()

        server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with server, Fetcher(NO_RETRY) as fetcher:
            return await fetcher.fetch("http://shop.example/item")

    page = asyncio.run(go())
    assert page.text == "<p>via the proxy</p>"
    assert seen == [b"GET http://shop.example/item HTTP/1.1"]  # the proxy's absolute form


def test_an_idle_connection_past_its_expiry_is_not_reused() -> None:
    import httpx

    from monitor.http1 import Transport
    from monitor.httpx_client import HttpxTransport

    async def go(expiry: float) -> int:
        connections = 0

        async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal connections
            connections += 1
            try:
                while True:
                    await read_request(reader)
                    writer.write(ok(b"<p>ok</p>"))
                    await writer.drain()
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with (
            server,
            httpx.AsyncClient(transport=HttpxTransport(Transport(expiry=expiry))) as client,
        ):
            for path in ("/a", "/b"):
                response = await client.get(f"http://127.0.0.1:{port}{path}")
                assert response.text == "<p>ok</p>"
        return connections

    assert asyncio.run(go(expiry=60.0)) == 1
    assert asyncio.run(go(expiry=0.0)) == 2


def test_a_cookie_the_shop_sets_goes_back_with_the_next_request() -> None:
    requests: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while True:
            requests.append(await read_request(reader))
            writer.write(ok(b"<p>ok</p>", "Set-Cookie: session=s3ss10n; Path=/"))
            await writer.drain()

    first, second, _ = serve(handler, "/a", "/b")
    assert isinstance(first, Page) and isinstance(second, Page)
    assert b"cookie:" not in requests[0].lower()
    assert b"\r\nCookie: session=s3ss10n\r\n" in requests[1]


def test_a_direct_request_is_the_one_httpx_s_client_sent() -> None:
    """Without a proxy the fetcher sends its GETs itself; with a transport given, through
    httpx's client (as it did before): the same bytes either way, headers in httpx's order,
    a shop's header replacing a default of its name in any case, the URL's credentials."""
    from monitor.httpx_client import HttpxTransport

    requests: list[bytes] = []

    async def go(**fetcher_args: object) -> None:
        async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            requests.append(await read_request(reader))
            writer.write(ok(b"<p>ok</p>"))
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        headers = {"user-agent": "Shop/1", "X-A": "1", "x-a": "2"}
        async with server, Fetcher(NO_RETRY, **fetcher_args) as fetcher:  # type: ignore[arg-type]
            await fetcher.fetch(f"http://u:p%40ss@127.0.0.1:{port}/a?q=1", headers=headers)

    asyncio.run(go())
    asyncio.run(go(transport=HttpxTransport()))
    direct, through_httpx = (r.replace(r.split(b"\r\n")[1], b"Host") for r in requests)
    assert direct == through_httpx
    lines = direct.split(b"\r\n")
    assert lines[0] == b"GET /a?q=1 HTTP/1.1"
    names = [line.split(b":")[0] for line in lines[1:] if line]
    assert names == [
        b"Host",
        b"Connection",
        b"Accept",
        b"Accept-Language",
        b"Accept-Encoding",
        b"user-agent",
        b"X-A",
        b"x-a",
        b"Authorization",
    ]
    assert b"Authorization: Basic dTpwQHNz" in lines  # u:p@ss


def test_a_body_in_thousands_of_tiny_chunks_is_read_whole() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for i in range(5000):
            writer.write(b"3\r\n%03d\r\n" % (i % 1000))
            if i % 500 == 0:
                await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    page, _ = serve(handler, "/a")
    assert isinstance(page, Page)
    assert page.text == "".join(f"{i % 1000:03d}" for i in range(5000))
