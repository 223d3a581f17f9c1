"""A lean HTTP/1.1 transport: the fetcher's requests without proxies.

httpx's own transport (httpcore, h11, anyio) cost about 0.9 ms of CPU per 150 KB page, four
times the socket work; this one speaks HTTP/1.1 over asyncio's transports itself and costs
about a fifth of that. It imports nothing of httpx: ``monitor.http_client.Direct`` sends a
GET on it as httpx's client sent it, and ``monitor.httpx_client`` lends it to httpx's
client where one is wanted (a test's transport). Requests through a proxy (the ``proxy`` of
a shop and the environment's ``HTTP(S)_PROXY``) keep httpx's own transports. Its errors are
``monitor.http_errors``, named as httpx's are.

It reads what a page fetch needs and refuses the rest as a protocol error: one response per
request on a keep-alive connection (no pipelining), a body framed by ``Content-Length``,
chunked, or read until the server closes; no upgrades. Nothing is unbounded: the head of a
response is at most ``MAX_HEAD`` bytes, a chunk-size line ``MAX_LINE``, and a connection
buffers at most ``BUFFER`` bytes before it stops reading from the socket until the body is
consumed (the fetcher counts and caps the body itself). Every read waits at most the read
timeout, a connect the connect timeout. An idle connection is kept ``KEEPALIVE_EXPIRY``
seconds, one the server closed is not reused, and a GET that finds its reused connection
closed before any answer is sent again once on a new one, as browsers do. The connection's
bytes and the response body are ``monitor.http_stream``'s.
"""

from __future__ import annotations

import asyncio
import os
import re
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from monitor import http_errors
from monitor.http_stream import LINE_END, MAX_HEAD, Body, Connection

KEEPALIVE_EXPIRY = 5.0  # seconds an idle connection is kept (httpx's default)
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_STATUS = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: ([^\r\n]*))?")
_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(rb"[\x00\r\n]")
_DEFAULT_PORTS = {b"http": 80, b"https": 443}


class _Stale(Exception):
    """A reused connection was found closed before the response began."""


@dataclass(slots=True)
class Reply:
    """A response as ``Transport.get`` returns it: the status, the header fields as they
    came, and the body, to be read (``async for chunk in reply.body``) or closed."""

    status: int
    fields: list[tuple[bytes, bytes]]
    body: Body
    version: int = 1  # HTTP/1.x
    reason: bytes = b""
    _encoding: str = ""

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value of the header ``name``, as httpx's ``Headers.get`` gives it: its fields
        joined by ", ", decoded as ASCII, else UTF-8, else Latin-1, as all the fields allow."""
        wanted = name.lower().encode("ascii")
        values = [value for field, value in self.fields if field.lower() == wanted]
        if not values:
            return default
        encoding = self._fields_encoding()
        return ", ".join(value.decode(encoding) for value in values)

    def decoded(self) -> list[tuple[str, str]]:
        """Every header field, name and value decoded as ``get`` decodes them."""
        encoding = self._fields_encoding()
        return [(name.decode(encoding), value.decode(encoding)) for name, value in self.fields]

    def _fields_encoding(self) -> str:
        if not self._encoding:  # worked out once, from all the fields
            self._encoding = _encoding_of(self.fields)
        return self._encoding

    def has(self, *names: str) -> bool:
        """True when any of the headers ``names`` (lower case) came."""
        wanted = {name.encode("ascii") for name in names}
        return any(field.lower() in wanted for field, _ in self.fields)


def _encoding_of(fields: list[tuple[bytes, bytes]]) -> str:
    for encoding in ("ascii", "utf-8"):
        try:
            for _, value in fields:
                value.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return "iso-8859-1"


class Target(Protocol):
    """Where a request goes, as an httpx URL tells it (``monitor.url`` makes them too)."""

    @property
    def scheme(self) -> str: ...
    @property
    def raw_scheme(self) -> bytes: ...
    @property
    def raw_host(self) -> bytes: ...
    @property
    def port(self) -> int | None: ...
    @property
    def raw_path(self) -> bytes: ...
    @property
    def netloc(self) -> bytes: ...


class Transport:
    """HTTP/1.1 over asyncio, keeping up to ``keepalive`` idle connections."""

    def __init__(
        self, *, keepalive: int = 8, expiry: float = KEEPALIVE_EXPIRY, trust_env: bool = True
    ) -> None:
        self.keepalive = keepalive
        self.expiry = expiry
        self._trust_env = trust_env
        # Idle connections by host, each with the moment it was given back.
        self._idle: dict[tuple[bytes, str, int], list[tuple[float, Connection]]] = {}
        self._ssl: ssl.SSLContext | None = None

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for _, connection in connections:
                connection.close()
        self._idle.clear()

    async def get(
        self,
        url: Target,
        fields: Sequence[tuple[bytes, bytes]],
        timeouts: Mapping[str, float | None],
    ) -> Reply:
        """GET ``url`` with the header ``fields`` (a Host field goes first, unless they have
        one); return the reply, its body unread. Raise ``monitor.http_errors``."""
        if not any(name.lower() == b"host" for name, _ in fields):
            fields = [(b"Host", url.netloc), *fields]
        return await self.send(b"GET", url, fields, b"", timeouts)

    async def send(
        self,
        method: bytes,
        url: Target,
        fields: Sequence[tuple[bytes, bytes]],
        body: bytes,
        timeouts: Mapping[str, float | None],
    ) -> Reply:
        """Send a request with exactly these header ``fields`` (a body needs its
        Content-Length among them); return the reply, its body unread."""
        key = _key(url)
        head = _request_head(method, url.raw_path, fields)
        return await self._send(key, head, body, method, timeouts)

    async def _send(
        self,
        key: tuple[bytes, str, int],
        head: bytes,
        body: bytes,
        method: bytes,
        timeouts: Mapping[str, float | None],
    ) -> Reply:
        retried = False
        while True:
            connection, reused = (None if retried else self._pooled(key)), True
            if connection is None:
                connection, reused = (
                    await self._connect(key, timeouts.get("connect")),
                    False,
                )
            try:
                reply = await _exchange(connection, head + body, method, timeouts, reused)
                if reply.body.keep:
                    reply.body.release = lambda c=connection: self._release(key, c)
            except _Stale:
                connection.abort()
                if method not in (b"GET", b"HEAD"):
                    raise http_errors.RemoteProtocolError(
                        "the kept-alive connection was closed before the answer"
                    ) from None
                retried = True  # once, on a new connection: a reused one may be stale too
                continue
            except BaseException:
                connection.abort()
                raise
            return reply

    def _pooled(self, key: tuple[bytes, str, int]) -> Connection | None:
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

    def _release(self, key: tuple[bytes, str, int], connection: Connection) -> None:
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

    async def _connect(self, key: tuple[bytes, str, int], timeout: float | None) -> Connection:
        scheme, host, port = key
        context = self._ssl_context() if scheme == b"https" else None
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, protocol = await loop.create_connection(
                    Connection,
                    host,
                    port,
                    ssl=context,
                    server_hostname=host if context is not None else None,
                )
        except TimeoutError:
            raise http_errors.ConnectTimeout("timed out connecting") from None
        except (OSError, UnicodeError) as exc:  # ssl and DNS errors are OSErrors; a host
            # name no resolver can encode (a label over 63 characters) is a UnicodeError
            raise http_errors.ConnectError(str(exc) or type(exc).__name__) from None
        return protocol

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = _ssl_context(trust_env=self._trust_env)
            self._ssl.set_alpn_protocols(["http/1.1"])
        return self._ssl


def _ssl_context(*, trust_env: bool) -> ssl.SSLContext:
    """A TLS client context as httpx makes one: certifi's CAs, or the environment's
    ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` when it names them."""
    if trust_env and os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if trust_env and os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _key(url: Target) -> tuple[bytes, str, int]:
    """Where a request goes: its scheme, host and port. Raise for a URL no request can
    be sent to."""
    scheme = url.raw_scheme
    if scheme not in _DEFAULT_PORTS:
        raise http_errors.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
    host = url.raw_host.decode("ascii")
    if not host:
        raise http_errors.UnsupportedProtocol("the URL has no host")
    return (scheme, host, url.port or _DEFAULT_PORTS[scheme])


def _request_head(method: bytes, target: bytes, fields: Sequence[tuple[bytes, bytes]]) -> bytes:
    lines = [b"%s %s HTTP/1.1" % (method, target)]
    for name, value in fields:
        if not _TOKEN.fullmatch(name) or _BAD_VALUE.search(value):
            # The name only: a value may be a cookie or a token, and the reason is stored.
            shown = name[:40].decode("latin-1")
            raise http_errors.LocalProtocolError(f"invalid header {shown!r}")
        lines.append(name + b": " + value)
    lines.append(b"\r\n")
    return b"\r\n".join(lines)


async def _exchange(
    connection: Connection,
    message: bytes,
    method: bytes,
    timeouts: Mapping[str, float | None],
    reused: bool,
) -> Reply:
    """Send the request, read the response's head, and return it with its body to stream."""
    transport = connection.transport
    if transport is None or transport.is_closing():
        if reused:
            raise _Stale
        raise http_errors.WriteError("the connection closed")
    try:
        transport.write(message)
        await connection.drain(timeouts.get("write"))
    except TimeoutError:
        raise http_errors.WriteTimeout("timed out sending the request") from None
    except (OSError, RuntimeError) as exc:
        raise http_errors.WriteError(str(exc) or type(exc).__name__) from None
    read = timeouts.get("read")
    while True:
        version, status, reason, headers = await _read_head(connection, read, reused)
        if status >= 200:
            break
        if status == 101:
            raise http_errors.RemoteProtocolError("the server switched protocols")
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
                raise http_errors.RemoteProtocolError(f"unsupported Transfer-Encoding: {shown!r}")
            chunked = True
        elif lower == b"content-length":
            value = value.strip()
            if not value.isdigit() or len(value) > 18:  # more than any body's 10^18 bytes
                raise http_errors.RemoteProtocolError("invalid Content-Length")
            if length is not None and int(value) != length:
                raise http_errors.RemoteProtocolError("invalid Content-Length")
            length = int(value)
    if chunked:
        if length is not None:
            keep = False  # both framings: a sign of smuggling (RFC 9112 6.3); no reuse
        length = None  # Transfer-Encoding wins over Content-Length
    if status in (204, 304) or method == b"HEAD":
        length, chunked = 0, False
    elif length is None and not chunked:
        framed = False  # read until the server closes
    body = Body(connection, read, length, chunked, keep and framed)
    return Reply(status, headers, body, version, reason)


async def _read_head(
    connection: Connection, timeout: float | None, reused: bool
) -> tuple[int, int, bytes, list[tuple[bytes, bytes]]]:
    buffer = connection.buffer
    start = 0
    while True:
        end = _HEAD_END.search(buffer, start)
        if end is not None:
            break
        if len(buffer) > MAX_HEAD:
            raise http_errors.RemoteProtocolError("the response head is too long")
        start = max(0, len(buffer) - 3)
        try:
            more = await connection.fill(timeout)
        except TimeoutError:
            raise http_errors.ReadTimeout("timed out reading the response") from None
        if not more:
            if reused and not buffer:
                raise _Stale  # closed (or reset) while idle: the request never reached it
            if connection.error is not None and not buffer:
                error = connection.error
                raise http_errors.ReadError(str(error) or type(error).__name__)
            raise http_errors.RemoteProtocolError("Server disconnected without sending a response.")
    if end.start() > MAX_HEAD:
        raise http_errors.RemoteProtocolError("the response head is too long")
    head = connection.take(end.end())[: end.start()]
    first, *lines = LINE_END.split(head)
    status_line = _STATUS.fullmatch(first)
    if status_line is None:
        shown = first[:60].decode("latin-1")
        raise http_errors.RemoteProtocolError(f"not an HTTP/1 status line: {shown!r}")
    headers: list[tuple[bytes, bytes]] = []
    for line in lines:
        if line[:1] in (b" ", b"\t") and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, value + b" " + line.strip(b" \t"))
            continue
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            shown = line[:60].decode("latin-1")
            raise http_errors.RemoteProtocolError(f"invalid header line {shown!r}")
        headers.append((name, value.strip(b" \t")))
    version, status, reason = status_line.groups()
    if int(status) < 100:
        shown = first[:60].decode("latin-1")
        raise http_errors.RemoteProtocolError(f"not an HTTP status: {shown!r}")
    return int(version), int(status), reason or b"", headers
