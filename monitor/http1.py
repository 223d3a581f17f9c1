"""A lean HTTP/1.1 transport for httpx: the fetcher's requests without proxies.

httpx's own transport (httpcore, h11, anyio) cost about 0.9 ms of CPU per 150 KB page, four
times the socket work; this one speaks HTTP/1.1 over asyncio's transports itself and costs
about a fifth of that. httpx keeps everything above the transport: requests, headers,
cookies, event hooks, response streams, and the proxies (the ``proxy`` of a shop and the
environment's ``HTTP(S)_PROXY``), which keep httpx's own transport.

It reads what a page fetch needs and refuses the rest as a protocol error: one response per
request on a keep-alive connection (no pipelining), a body framed by ``Content-Length``,
chunked, or read until the server closes; no upgrades. Nothing is unbounded: the head of a
response is at most ``MAX_HEAD`` bytes, a chunk-size line ``MAX_LINE``, and a connection
buffers at most ``BUFFER`` bytes before it stops reading from the socket until the body is
consumed (the fetcher counts and caps the body itself). Every read waits at most the read
timeout, a connect the connect timeout. An idle connection the server closed is not reused,
and a request that finds its reused connection closed before any answer is sent again once
on a new one, as browsers do.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections.abc import AsyncIterator, Callable

import httpx

MAX_HEAD = 100 * 1024  # bytes of status line and headers: what httpcore lets h11 take
MAX_LINE = 4 * 1024  # a chunk-size line, with its extensions
MAX_TRAILERS = MAX_HEAD  # bytes of trailer lines after a chunked body, all of them
KEEPALIVE_EXPIRY = 5.0  # seconds an idle connection is kept (httpx's default)
BUFFER = 256 * 1024  # bytes a connection holds unread before it pauses the socket
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_LINE_END = re.compile(rb"\r?\n")
_STATUS = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: ([^\r\n]*))?")
_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(rb"[\x00\r\n]")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_DEFAULT_PORTS = {b"http": 80, b"https": 443}


class _Protocol(asyncio.Protocol):
    """A connection's receiving end: what arrived, unread, and whether the server is done."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._write_paused = False
        self._drained: asyncio.Future[None] | None = None

    # asyncio's side

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > BUFFER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self._wake()
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # ours

    def usable(self) -> bool:
        """True for an idle connection that may carry a request: open, nothing unread."""
        transport = self.transport
        return not (self.eof or self.buffer or transport is None or transport.is_closing())

    async def fill(self, timeout: float | None) -> bool:
        """Wait for more bytes; False once the server has closed (or reset) the connection."""
        if self.eof:
            return False
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(timeout):
                await waiter
        finally:
            self._waiter = None
        return True

    def take(self, size: int) -> bytes:
        """Return up to ``size`` bytes of what arrived, removing them from the buffer."""
        buffer = self.buffer
        if size >= len(buffer):
            data = bytes(buffer)
            buffer.clear()
        else:
            data = bytes(buffer[:size])
            del buffer[:size]
        if self._paused and len(buffer) <= BUFFER // 2 and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return data

    async def drain(self, timeout: float | None) -> None:
        if self._write_paused and not self.eof:
            drained = self._drained = asyncio.get_running_loop().create_future()
            async with asyncio.timeout(timeout):
                await drained

    def abort(self) -> None:
        """Close at once, on an error: no TLS close_notify to wait for."""
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class _Stale(Exception):
    """A reused connection was found closed before the response began."""


class Transport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over asyncio, keeping up to ``keepalive`` idle connections."""

    def __init__(
        self, *, keepalive: int = 8, expiry: float = KEEPALIVE_EXPIRY, trust_env: bool = True
    ) -> None:
        self.keepalive = keepalive
        self.expiry = expiry
        self._trust_env = trust_env
        # Idle connections by host, each with the moment it was given back.
        self._idle: dict[tuple[bytes, str, int], list[tuple[float, _Protocol]]] = {}
        self._ssl: ssl.SSLContext | None = None

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for _, connection in connections:
                connection.close()
        self._idle.clear()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.raw_scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(
                f"unsupported URL scheme {url.scheme!r}", request=request
            )
        host = url.raw_host.decode("ascii")
        if not host:
            raise httpx.UnsupportedProtocol("the URL has no host", request=request)
        key = (scheme, host, url.port or _DEFAULT_PORTS[scheme])
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        head = _request_head(request)
        body = await request.aread() if request.method not in ("GET", "HEAD") else b""
        retried = False
        while True:
            connection, reused = (None if retried else self._pooled(key)), True
            if connection is None:
                connection, reused = (
                    await self._connect(key, timeouts.get("connect"), request),
                    False,
                )
            try:
                response = await _exchange(connection, head + body, request, timeouts, reused)
                if isinstance(response.stream, _Body) and response.stream.keep:
                    response.stream.release = lambda c=connection: self._release(key, c)
            except _Stale:
                connection.abort()
                if request.method not in ("GET", "HEAD"):
                    raise httpx.RemoteProtocolError(
                        "the kept-alive connection was closed before the answer", request=request
                    ) from None
                retried = True  # once, on a new connection: a reused one may be stale too
                continue
            except BaseException:
                connection.abort()
                raise
            return response

    def _pooled(self, key: tuple[bytes, str, int]) -> _Protocol | None:
        """An idle connection to the host that may carry a request: open, nothing unread,
        idle for less than ``expiry`` seconds (a peer may drop a quiet one without a word)."""
        connections = self._idle.get(key)
        found = None
        now = time.monotonic()
        while connections and found is None:
            since, connection = connections.pop()
            if connection.usable() and now - since < self.expiry:
                found = connection
            else:
                connection.close()
        if not connections:
            self._idle.pop(key, None)
        return found

    def _release(self, key: tuple[bytes, str, int], connection: _Protocol) -> None:
        if not connection.usable():
            connection.close()
            return
        self._idle.setdefault(key, []).append((time.monotonic(), connection))
        if sum(len(c) for c in self._idle.values()) > self.keepalive:
            # Too many idle: close the longest idle of all hosts.
            oldest = min(self._idle, key=lambda k: self._idle[k][0][0])
            self._idle[oldest].pop(0)[1].close()
            if not self._idle[oldest]:
                del self._idle[oldest]

    async def _connect(
        self, key: tuple[bytes, str, int], timeout: float | None, request: httpx.Request
    ) -> _Protocol:
        scheme, host, port = key
        context = self._ssl_context() if scheme == b"https" else None
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, protocol = await loop.create_connection(
                    _Protocol,
                    host,
                    port,
                    ssl=context,
                    server_hostname=host if context is not None else None,
                )
        except TimeoutError:
            raise httpx.ConnectTimeout("timed out connecting", request=request) from None
        except (OSError, UnicodeError) as exc:  # ssl and DNS errors are OSErrors; a host
            # name no resolver can encode (a label over 63 characters) is a UnicodeError
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from None
        return protocol

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context(trust_env=self._trust_env)
            self._ssl.set_alpn_protocols(["http/1.1"])
        return self._ssl


def _request_head(request: httpx.Request) -> bytes:
    lines = [b"%s %s HTTP/1.1" % (request.method.encode("ascii"), request.url.raw_path)]
    for name, value in request.headers.raw:
        if not _TOKEN.fullmatch(name) or _BAD_VALUE.search(value):
            # The name only: a value may be a cookie or a token, and the reason is stored.
            shown = name[:40].decode("latin-1")
            raise httpx.LocalProtocolError(f"invalid header {shown!r}", request=request)
        lines.append(name + b": " + value)
    if request.method not in ("GET", "HEAD") and "content-length" not in request.headers:
        # httpx frames a streamed body with Transfer-Encoding; it is read whole here.
        raise httpx.LocalProtocolError("a request body needs a Content-Length", request=request)
    lines.append(b"\r\n")
    return b"\r\n".join(lines)


async def _exchange(
    connection: _Protocol,
    message: bytes,
    request: httpx.Request,
    timeouts: dict[str, float | None],
    reused: bool,
) -> httpx.Response:
    """Send the request, read the response's head, and return it with its body to stream."""
    transport = connection.transport
    if transport is None or transport.is_closing():
        if reused:
            raise _Stale
        raise httpx.WriteError("the connection closed", request=request)
    try:
        transport.write(message)
        await connection.drain(timeouts.get("write"))
    except TimeoutError:
        raise httpx.WriteTimeout("timed out sending the request", request=request) from None
    except (OSError, RuntimeError) as exc:
        raise httpx.WriteError(str(exc) or type(exc).__name__, request=request) from None
    read = timeouts.get("read")
    while True:
        version, status, reason, headers = await _read_head(connection, request, read, reused)
        if status >= 200:
            break
        if status == 101:
            raise httpx.RemoteProtocolError("the server switched protocols", request=request)
        reused = False  # a 1xx answer: the connection is live; the real answer follows
    keep = version == 1
    length: int | None = None
    chunked = False
    framed = True  # the body's end is known: the connection may carry the next request
    for name, value in headers:
        lower = name.lower()
        if lower == b"connection" and b"close" in value.lower():
            keep = False
        elif lower == b"transfer-encoding":
            if chunked or value.strip().lower() != b"chunked":  # as h11: chunked, only once
                shown = value[:40].decode("latin-1")
                raise httpx.RemoteProtocolError(
                    f"unsupported Transfer-Encoding: {shown!r}", request=request
                )
            chunked = True
        elif lower == b"content-length":
            value = value.strip()
            if not value.isdigit() or len(value) > 18:  # more than any body's 10^18 bytes
                raise httpx.RemoteProtocolError("invalid Content-Length", request=request)
            if length is not None and int(value) != length:
                raise httpx.RemoteProtocolError("invalid Content-Length", request=request)
            length = int(value)
    if chunked:
        if length is not None:
            keep = False  # both framings: a sign of smuggling (RFC 9112 6.3); no reuse
        length = None  # Transfer-Encoding wins over Content-Length
    if status in (204, 304) or request.method == "HEAD":
        length, chunked = 0, False
    elif length is None and not chunked:
        framed = False  # read until the server closes
    body = _Body(connection, request, read, length, chunked, keep and framed)
    return httpx.Response(
        status,
        headers=headers,
        stream=body,
        extensions={"http_version": b"HTTP/1.%d" % version, "reason_phrase": reason},
    )


async def _read_head(
    connection: _Protocol, request: httpx.Request, timeout: float | None, reused: bool
) -> tuple[int, int, bytes, list[tuple[bytes, bytes]]]:
    buffer = connection.buffer
    start = 0
    while True:
        end = _HEAD_END.search(buffer, start)
        if end is not None:
            break
        if len(buffer) > MAX_HEAD:
            raise httpx.RemoteProtocolError("the response head is too long", request=request)
        start = max(0, len(buffer) - 3)
        try:
            more = await connection.fill(timeout)
        except TimeoutError:
            raise httpx.ReadTimeout("timed out reading the response", request=request) from None
        if not more:
            if reused and not buffer:
                raise _Stale  # closed (or reset) while idle: the request never reached it
            if connection.error is not None and not buffer:
                error = connection.error
                raise httpx.ReadError(str(error) or type(error).__name__, request=request)
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
    if end.start() > MAX_HEAD:
        raise httpx.RemoteProtocolError("the response head is too long", request=request)
    head = connection.take(end.end())[: end.start()]
    first, *lines = _LINE_END.split(head)
    status_line = _STATUS.fullmatch(first)
    if status_line is None:
        shown = first[:60].decode("latin-1")
        raise httpx.RemoteProtocolError(f"not an HTTP/1 status line: {shown!r}", request=request)
    headers: list[tuple[bytes, bytes]] = []
    for line in lines:
        if line[:1] in (b" ", b"\t") and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, value + b" " + line.strip(b" \t"))
            continue
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            shown = line[:60].decode("latin-1")
            raise httpx.RemoteProtocolError(f"invalid header line {shown!r}", request=request)
        headers.append((name, value.strip(b" \t")))
    version, status, reason = status_line.groups()
    if int(status) < 100:
        shown = first[:60].decode("latin-1")
        raise httpx.RemoteProtocolError(f"not an HTTP status: {shown!r}", request=request)
    return int(version), int(status), reason or b"", headers


async def _fill(connection: _Protocol, request: httpx.Request, timeout: float | None) -> bool:
    try:
        more = await connection.fill(timeout)
    except TimeoutError:
        raise httpx.ReadTimeout("timed out reading the response", request=request) from None
    if not more and connection.error is not None and not connection.buffer:
        error = connection.error
        raise httpx.ReadError(str(error) or type(error).__name__, request=request)
    return more


class _Body(httpx.AsyncByteStream):
    """A response body as it arrives; its connection goes back to the pool once it is read
    to the end (and the server keeps it open), and is closed if the reading stops early."""

    def __init__(
        self,
        connection: _Protocol,
        request: httpx.Request,
        timeout: float | None,
        length: int | None,
        chunked: bool,
        keep: bool,
    ) -> None:
        self._connection: _Protocol | None = connection
        self._request = request
        self._timeout = timeout
        self._length = length
        self._chunked = chunked
        self.keep = keep
        self.release: Callable[[], None] | None = None  # set by the transport when keep

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        if connection is None:
            raise httpx.StreamClosed()
        try:
            if self._chunked:
                async for data in self._chunks(connection):
                    yield data
                self._finish()
            else:
                async for data in self._plain(connection, self._length, last=True):
                    yield data
                self._finish()  # an empty body, or one read until the server closed
        except BaseException:
            self._close()
            raise

    def _finish(self) -> None:
        """The body was read to its end: the connection carries the next request, or closes."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self.keep and self.release is not None:
            self.release()
        else:
            connection.close()

    async def _plain(
        self, connection: _Protocol, length: int | None, *, last: bool = False
    ) -> AsyncIterator[bytes]:
        """``length`` bytes, or (None) everything until the server closes. The ``last``
        part of a body hands the connection back before its final bytes are yielded: a
        reader that stops at the end of what it expects leaves a connection to reuse."""
        remaining = length
        while remaining is None or remaining > 0:
            if not connection.buffer and not await self._more(connection):
                if remaining is None or length is None:
                    return
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body: "
                    f"received {length - remaining} bytes, expected {length}",
                    request=self._request,
                )
            data = connection.take(len(connection.buffer) if remaining is None else remaining)
            if remaining is not None:
                remaining -= len(data)
                if last and remaining == 0:
                    self._finish()
            yield data

    async def _chunks(self, connection: _Protocol) -> AsyncIterator[bytes]:
        while True:
            line = await self._line(connection)
            size_text = line.split(b";", 1)[0].strip(b" \t")
            if not _CHUNK_SIZE.fullmatch(size_text):
                raise httpx.RemoteProtocolError("invalid chunk size", request=self._request)
            size = int(size_text, 16)
            if size == 0:
                trailers = 0
                while line := await self._line(connection):  # trailers, to the empty line
                    trailers += len(line) + 2
                    if trailers > MAX_TRAILERS:
                        raise httpx.RemoteProtocolError(
                            "the trailers are too long", request=self._request
                        )
                return
            async for data in self._plain(connection, size):
                yield data
            if await self._line(connection):
                raise httpx.RemoteProtocolError("a chunk overran its size", request=self._request)

    async def _line(self, connection: _Protocol) -> bytes:
        buffer = connection.buffer
        while True:
            end = _LINE_END.search(buffer, 0, MAX_LINE + 2)
            if end is not None:
                return connection.take(end.end())[: end.start()]
            if len(buffer) > MAX_LINE:
                raise httpx.RemoteProtocolError("a chunk line is too long", request=self._request)
            if not await self._more(connection):
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body: "
                    "incomplete chunked read",
                    request=self._request,
                )

    async def _more(self, connection: _Protocol) -> bool:
        return await _fill(connection, self._request, self._timeout)

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    async def aclose(self) -> None:
        self._close()  # unread (or half read): this connection carries nothing more
