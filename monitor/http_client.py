"""httpx's client as the fetcher makes it: which transport carries a request, and cookies.

A request that goes through no proxy is carried by ``monitor.http1``, our HTTP/1.1
transport (a fifth of what httpx's own costs a page); one through a proxy, the shop's
``proxy`` or the environment's ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` (as httpx reads
them), by httpx's own transports, which speak to proxies.

The client keeps the cookies shops set (a session cookie goes back with the next request)
as httpx does, but looks for them only in responses that set one: httpx builds a urllib
Request and an email.message.Message of every response's headers to ask its jar, about a
third of what a check's fetch cost once the transport was ours.
"""

from __future__ import annotations

import urllib.request
from typing import Any

import httpx

from monitor.http1 import Transport


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
