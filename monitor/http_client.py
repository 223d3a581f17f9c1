"""The client a GET without a proxy is sent with, and the cookies shops set.

A request that goes through no proxy is carried by ``monitor.http1``, our HTTP/1.1
transport (a fifth of what httpx's own costs a page), and sent by ``Direct``: what httpx's
client sent for such a GET (its headers in its order, the session's cookies, the URL's
credentials, the timeouts) without its layers of auth, redirect and event-hook handling,
which cost as much CPU as the transport (the fetcher follows redirects itself), and without
importing httpx. One through a proxy, the shop's ``proxy`` or the environment's
``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` (as httpx reads them), is sent by httpx's client
and its own transports, which speak to proxies (``monitor.httpx_client``).

Both keep the cookies shops set (a session cookie goes back with the next request) as httpx
does, but look for them only in responses that set one: httpx builds a urllib Request and
an email.message.Message of every response's headers to ask its jar, about a third of what
a check's fetch cost once the transport was ours.
"""

from __future__ import annotations

import base64
import email.message
import http.cookiejar
import logging
import urllib.request
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from typing import Protocol

from monitor.http1 import Reply, Target, Transport

logger = logging.getLogger(__name__)

# What httpx's client sends unless told otherwise, in its order; the fetcher's headers
# replace all of them but Connection.
_CLIENT_HEADERS = {
    "Accept": "*/*",
    "Accept-Encoding": "gzip, deflate",
    "Connection": "keep-alive",
    "User-Agent": "python-httpx",
}


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to wait for each step of a request, as httpx's ``Timeout`` has them."""

    connect: float | None = 10.0
    read: float | None = 20.0
    write: float | None = 20.0
    pool: float | None = 20.0

    def as_dict(self) -> dict[str, float | None]:
        return asdict(self)


class HasTimeouts(Protocol):
    """Timeouts, ours or httpx's."""

    @property
    def read(self) -> float | None: ...
    def as_dict(self) -> dict[str, float | None]: ...


class Url(Target, Protocol):
    """A URL a GET goes to: a ``monitor.url.PlainUrl`` or an httpx URL."""

    @property
    def host(self) -> str: ...
    @property
    def username(self) -> str: ...
    @property
    def password(self) -> str: ...


class Direct:
    """GETs without a proxy, on our transport: ``async with direct.stream(url, headers) as
    reply``. The reply's body is unread; a redirect is not followed."""

    def __init__(
        self, *, headers: Mapping[str, str], timeout: HasTimeouts, concurrency: int
    ) -> None:
        self.transport = Transport(keepalive=concurrency)
        self.jar = http.cookiejar.CookieJar()  # what the shops set, as httpx's client keeps it
        self._headers = _merged(list(_CLIENT_HEADERS.items()), headers)
        self._timeouts = timeout.as_dict()

    @asynccontextmanager
    async def stream(self, url: Url, headers: Mapping[str, str]) -> AsyncIterator[Reply]:
        url.host  # noqa: B018 - as httpx's Request: a host IDNA cannot decode raises here
        fields = _merged(self._headers, headers)
        if len(self.jar) and not any(name.lower() == "cookie" for name, _ in fields):
            # As httpx: the session's cookies unless the request brings a Cookie header.
            cookie = jar_cookie_header(self.jar, str(url))
            if cookie:
                fields.append(("Cookie", cookie))
        if url.username or url.password:  # as httpx's client: the URL's credentials, as Basic
            fields = [f for f in fields if f[0].lower() != "authorization"]
            fields.append(("Authorization", _basic(url.username, url.password)))
        reply = await self.transport.get(url, _encoded(fields), self._timeouts)
        logger.debug("HTTP Request: GET %s %d", url, reply.status)
        try:
            if reply.has("set-cookie", "set-cookie2"):
                _keep_cookies(self.jar, reply, str(url))
            yield reply
        finally:
            await reply.body.aclose()

    async def aclose(self) -> None:
        await self.transport.aclose()


def _merged(headers: list[tuple[str, str]], more: Mapping[str, str]) -> list[tuple[str, str]]:
    """``headers`` updated with ``more`` as httpx's ``Headers.update`` does it: a header of
    ``more`` takes the place of those of its name (in any case), at the end."""
    if not more:
        return list(headers)
    replaced = {name.lower() for name in more}
    return [f for f in headers if f[0].lower() not in replaced] + list(more.items())


def _encoded(fields: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Header fields as httpx encodes them: as ASCII (anything else raises UnicodeError)."""
    return [(name.encode("ascii"), value.encode("ascii")) for name, value in fields]


def _basic(username: str, password: str) -> str:
    """An Authorization header's value for these credentials, as httpx's BasicAuth makes it."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def jar_cookie_header(jar: http.cookiejar.CookieJar, url: str) -> str | None:
    """Return the Cookie header the cookies of ``jar`` make for a request of ``url``, if any."""
    request = urllib.request.Request(url)
    jar.add_cookie_header(request)
    return request.get_header("Cookie")


class _Answer:
    """What http.cookiejar asks of a response: its headers, as an email Message (decoded as
    httpx decodes them for its jar)."""

    def __init__(self, reply: Reply) -> None:
        self._message = email.message.Message()
        for name, value in reply.decoded():
            self._message[name] = value

    def info(self) -> email.message.Message:
        return self._message


def _keep_cookies(jar: http.cookiejar.CookieJar, reply: Reply, url: str) -> None:
    jar.extract_cookies(_Answer(reply), urllib.request.Request(url))  # type: ignore[arg-type]


def environment_proxies() -> bool:
    """True when the environment names a proxy for http or https, as httpx reads it."""
    found = urllib.request.getproxies()
    return any(found.get(scheme) for scheme in ("http", "https", "all"))
