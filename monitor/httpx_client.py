"""httpx's client, for the requests that go through a proxy (a shop's ``proxy``, or the
environment's ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``), and for a test that gives the
fetcher a transport. Imported only then: a check without proxies never loads httpx.

The fetcher reads its errors beside ``monitor.http_errors``, which bear the same names. The
cookies shops set are kept as httpx keeps them, but looked for
only in responses that set one (``monitor.http_client``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from monitor.http1 import Transport
from monitor.http_client import HasTimeouts
from monitor.http_stream import Body


def client(
    *,
    proxy: str | None,
    transport: httpx.AsyncBaseTransport | None,
    concurrency: int,
    timeout: HasTimeouts,
    **options: Any,
) -> httpx.AsyncClient:
    """Return an httpx client with ``options``; ``transport`` (for tests) replaces httpx's."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return _Client(
        proxy=proxy,
        transport=transport,
        limits=limits,
        timeout=httpx.Timeout(**timeout.as_dict()),
        **options,
    )


class HttpxTransport(httpx.AsyncBaseTransport):
    """Our transport (``monitor.http1``) under httpx's client."""

    def __init__(self, transport: Transport | None = None) -> None:
        self.transport = transport or Transport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method not in ("GET", "HEAD") and "content-length" not in request.headers:
            # httpx frames a streamed body with Transfer-Encoding; it is read whole here.
            raise httpx.LocalProtocolError("a request body needs a Content-Length", request=request)
        body = await request.aread() if request.method not in ("GET", "HEAD") else b""
        method = request.method.encode("ascii")
        timeouts = request.extensions.get("timeout", {})
        reply = await self.transport.send(method, request.url, request.headers.raw, body, timeouts)
        return httpx.Response(
            reply.status,
            headers=reply.fields,
            stream=_Stream(reply.body),
            extensions={
                "http_version": b"HTTP/1.%d" % reply.version,
                "reason_phrase": reply.reason,
            },
        )

    async def aclose(self) -> None:
        await self.transport.aclose()


class _Stream(httpx.AsyncByteStream):
    def __init__(self, body: Body) -> None:
        self._body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._body:
            yield chunk

    async def aclose(self) -> None:
        await self._body.aclose()


class _Cookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


class _Client(httpx.AsyncClient):
    """httpx's client, with the cookies above."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lean_cookies = _Cookies(kwargs.get("cookies"))

    @property
    def cookies(self) -> httpx.Cookies:
        return self._lean_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        self._lean_cookies = _Cookies(cookies)
