"""The clients the fetcher sends its requests with: which transport carries a request, and
the cookies shops set.

A request that goes through no proxy is carried by ``monitor.http1``, our HTTP/1.1
transport (a fifth of what httpx's own costs a page), and sent by ``Direct``: what httpx's
client does for such a GET (its headers, the session's cookies, the timeouts) without its
layers of auth, redirect and event-hook handling, which cost as much CPU as the transport
(the fetcher follows redirects itself). One through a proxy, the shop's ``proxy`` or the
environment's ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` (as httpx reads them), is sent by
httpx's client and its own transports, which speak to proxies.

Both keep the cookies shops set (a session cookie goes back with the next request) as httpx
does, but look for them only in responses that set one: httpx builds a urllib Request and
an email.message.Message of every response's headers to ask its jar, about a third of what
a check's fetch cost once the transport was ours.
"""

from __future__ import annotations

import email.message
import http.cookiejar
import urllib.request
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

from monitor.http1 import Reply, Transport

# What httpx's client sends unless told otherwise, in its order; the fetcher's headers
# replace most of them.
_CLIENT_HEADERS = {
    "Accept": "*/*",
    "Accept-Encoding": "gzip, deflate",
    "Connection": "keep-alive",
    "User-Agent": f"python-httpx/{httpx.__version__}",
}


def client(
    *,
    proxy: str | None,
    transport: httpx.AsyncBaseTransport | None,
    concurrency: int,
    **options: Any,
) -> httpx.AsyncClient:
    """Return an httpx client with ``options``; ``transport`` (for tests) replaces ours."""
    if transport is None and proxy is None and not environment_proxies():
        transport = Transport(keepalive=concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return _Client(proxy=proxy, transport=transport, limits=limits, **options)


class Direct:
    """GETs without a proxy, on our transport: ``async with direct.stream(url, headers) as
    reply``. The reply's body is unread; a redirect is not followed."""

    def __init__(
        self, *, headers: Mapping[str, str], timeout: httpx.Timeout, concurrency: int
    ) -> None:
        self.transport = Transport(keepalive=concurrency)
        self.jar = http.cookiejar.CookieJar()  # what the shops set, as httpx's client keeps it
        self._headers = _merged(_CLIENT_HEADERS, headers)
        self._timeouts = timeout.as_dict()

    @asynccontextmanager
    async def stream(self, url: httpx.URL, headers: Mapping[str, str]) -> AsyncIterator[Reply]:
        fields = _merged(self._headers, headers)
        if len(self.jar) and not any(name.lower() == "cookie" for name in fields):
            # As httpx: the session's cookies unless the request brings a Cookie header.
            cookie = _cookie_header(self.jar, str(url))
            if cookie:
                fields["Cookie"] = cookie
        reply = await self.transport.get(url, _encoded(fields), self._timeouts)
        try:
            if reply.has("set-cookie", "set-cookie2"):
                _keep_cookies(self.jar, reply, str(url))
            yield reply
        finally:
            await reply.body.aclose()

    async def aclose(self) -> None:
        await self.transport.aclose()


def _merged(headers: Mapping[str, str], more: Mapping[str, str]) -> dict[str, str]:
    """``headers`` updated with ``more`` as httpx's Headers are: by name in any case, a
    replaced header keeping its place."""
    merged = dict(headers)
    for name, value in more.items():
        same = next((known for known in merged if known.lower() == name.lower()), None)
        if same is None:
            merged[name] = value
        else:  # in its place, named as ``more`` names it
            merged = {
                (name if k == same else k): (value if k == same else v) for k, v in merged.items()
            }
    return merged


def _encoded(fields: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    """Header fields as httpx encodes them: as ASCII (anything else raises UnicodeError)."""
    return [(name.encode("ascii"), value.encode("ascii")) for name, value in fields.items()]


def _cookie_header(jar: http.cookiejar.CookieJar, url: str) -> str | None:
    request = urllib.request.Request(url)
    jar.add_cookie_header(request)
    return request.get_header("Cookie")


class _Answer:
    """What http.cookiejar asks of a response: its headers, as an email Message."""

    def __init__(self, reply: Reply) -> None:
        self._message = email.message.Message()
        for name, value in reply.fields:
            self._message[name.decode("latin-1")] = value.decode("latin-1")

    def info(self) -> email.message.Message:
        return self._message


def _keep_cookies(jar: http.cookiejar.CookieJar, reply: Reply, url: str) -> None:
    jar.extract_cookies(_Answer(reply), urllib.request.Request(url))  # type: ignore[arg-type]


def environment_proxies() -> bool:
    """True when the environment names a proxy for http or https, as httpx reads it."""
    found = urllib.request.getproxies()
    return any(found.get(scheme) for scheme in ("http", "https", "all"))


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
