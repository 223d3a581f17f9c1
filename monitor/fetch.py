"""Fetch product pages: timeouts, a browser-like User-Agent, a cap on body size.

A GET without a proxy goes to our own HTTP/1.1 transport (``monitor.http_client.Direct``);
one through a proxy, through httpx's client (``monitor.httpx_client``). The result is a
``Page`` (any HTTP status the shop answered with a body we read) or a ``FetchError`` with a
short reason: every failure, whatever either raised. Bodies are streamed and inflated here
(``monitor.inflate``), never by httpx, so that a huge or compressed response is cut off at
the cap instead of being read into memory; only gzip and deflate, one coding at most, are
read. Redirects are followed here too, and only within the product's site.
"""

from __future__ import annotations

import asyncio
import email.utils
import http.cookiejar
import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from monitor import __version__, http_client, http_errors
from monitor.backoff import backoff
from monitor.charset import decode
from monitor.config import MonitorSettings
from monitor.errors import FetchError
from monitor.inflate import Inflater, coding_of
from monitor.models import FetchMode, Source
from monitor.url import request_url

if TYPE_CHECKING:
    import httpx

    from monitor.browser import Browser, Rendered

logger = logging.getLogger(__name__)

USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    f"Chrome/131.0 Safari/537.36 price-monitor/{__version__}"
)
DEFAULT_HEADERS = {
    "User-Agent": USER_AGENT,
    "Accept": "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
    "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8",
    "Accept-Encoding": "gzip, deflate",  # what Inflater reads; anything else is refused
}
MAX_BYTES = 5 * 1024 * 1024
TIMEOUT = http_client.Timeouts(connect=10.0, read=20.0, write=20.0, pool=20.0)
MAX_REDIRECTS = 10
DEADLINE_FACTOR = 4  # a whole fetch may take this many read timeouts
FIRST_RETRY = timedelta(seconds=2)  # the first retry waits about this long, then doubling
LONGEST_RETRY = timedelta(minutes=2)
MAX_RETRY_AFTER = 120.0  # a longer Retry-After gives up now; the schedule backs off

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_PARTS = 64  # pieces of a body kept apart before they go into one buffer


@dataclass(frozen=True, slots=True)
class Page:
    """A fetched page: the final URL after redirects, the HTTP status and the decoded text."""

    url: str
    status: int
    text: str
    content_type: str
    size: int
    fetched_at: datetime
    body: bytes = field(default=b"", repr=False, compare=False)  # as received, for evidence

    @property
    def gone(self) -> bool:
        """True when the shop says the product page no longer exists."""
        return self.status in (404, 410)


class Fetcher:
    """The product pages' client; use as ``async with Fetcher(settings) as fetcher``.

    ``settings`` is the config's ``[monitor]`` section: ``concurrency`` requests in flight at
    once, ``host_delay`` between the start of two requests to one host, and ``retries``
    tries after the first. Every request also waits for a per-host slot (``per_host`` at
    once). Connection errors, timeouts, 429 and 5xx are retried with exponential backoff
    and jitter; a ``Retry-After`` header sets the wait instead. Up to ``MAX_REDIRECTS``
    redirects are followed, in the first request's slot, to http(s) URLs on the site only.
    """

    def __init__(
        self,
        settings: MonitorSettings | None = None,
        *,
        per_host: int = 1,
        first_retry: timedelta = FIRST_RETRY,
        max_bytes: int = MAX_BYTES,
        timeout: http_client.HasTimeouts = TIMEOUT,  # or httpx's Timeout
        transport: httpx.AsyncBaseTransport | None = None,  # httpx's client then sends all
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings or MonitorSettings()
        self.per_host = per_host
        self.first_retry = first_retry
        self.max_bytes = max_bytes
        self._timeout = timeout
        self._deadline = DEADLINE_FACTOR * (timeout.read or TIMEOUT.read or 20.0)
        self._transport = transport
        self._sleep = sleep
        self._monotonic = monotonic
        self._clients: dict[str | None, httpx.AsyncClient] = {}  # by proxy
        self._plain: http_client.Direct | None = None  # without a proxy
        self._environment_proxy: bool | None = None  # HTTP_PROXY and the like, once looked up
        self._browser: Browser | None = None  # for sources with fetch = "browser", when first asked
        self._slots = asyncio.Semaphore(self.settings.concurrency)
        self._hosts: dict[str, _Host] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
        if self._plain is not None:
            await self._plain.aclose()
            self._plain = None
        if self._browser is not None:
            await self._browser.aclose()
            self._browser = None

    def _direct(self, proxy: str | None) -> http_client.Direct | None:
        """The client for a request without a proxy, on our transport; None when this one
        goes through a proxy, the shop's or the environment's (or a transport given for a test
        carries them all): httpx's client sends it."""
        if proxy is not None or self._transport is not None:
            return None
        if self._plain is None:
            if self._environment_proxy is None:
                self._environment_proxy = http_client.environment_proxies()
            if self._environment_proxy:
                return None
            self._plain = http_client.Direct(
                headers=DEFAULT_HEADERS,
                timeout=self._timeout,
                concurrency=self.settings.concurrency,
            )
        return self._plain

    async def _get(
        self, url: http_client.Url, headers: Mapping[str, str], proxy: str | None
    ) -> Page:
        """The Page a GET of ``url`` answers; a redirect raises _Redirect."""
        direct = self._direct(proxy)
        if direct is not None:
            async with direct.stream(url, headers) as reply:
                location = reply.get("location") if reply.status in _REDIRECTS else None
                if location is not None:
                    raise _Redirect(location)
                return await self._page(reply.status, reply.get, reply.body, str(url))
        async with self._client(proxy).stream("GET", str(url), headers=headers) as response:
            chunks = response.aiter_raw()
            return await self._page(response.status_code, response.headers.get, chunks, str(url))

    def _client(self, proxy: str | None) -> httpx.AsyncClient:
        client = self._clients.get(proxy)
        if client is None:
            from monitor import httpx_client  # httpx, for requests through a proxy only

            client = httpx_client.client(
                proxy=proxy,
                transport=self._transport,  # None: httpx's, which speak to proxies
                concurrency=self.settings.concurrency,
                headers=DEFAULT_HEADERS,
                timeout=self._timeout,
                follow_redirects=False,  # followed in _once, within the product's site
                event_hooks={"response": [_stop_at_redirect]},
            )
            self._clients[proxy] = client
        return client

    async def fetch_source(self, source: Source) -> Page:
        """Given what to fetch for a product, return the Page. Raise FetchError if it fails."""
        if source.fetch is FetchMode.BROWSER:
            return await self.render(source)
        return await self.fetch(
            source.url,
            headers=source.headers or None,
            cookies_file=source.cookies_file,
            proxy=source.proxy,
            domains=source.site,
        )

    async def fetch(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        cookies_file: str | None = None,
        proxy: str | None = None,
        domains: Sequence[str] = (),
    ) -> Page:
        """Given a URL, return the Page. Raise FetchError once retries are used up.

        A redirect may lead to a host in ``domains`` or a subdomain of one; without any, to
        the URL's own site (``Source.site_domains``)."""
        request_headers = dict(headers or {})
        site = Source(url, domains=tuple(domains)).site
        attempts = self.settings.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                async with self._slot(_host_of(url)):
                    # httpx's read timeout is per read: a shop that trickles a byte just
                    # inside it would hold the check and the host's slot for ever.
                    async with asyncio.timeout(self._deadline):
                        return await self._once(url, request_headers, cookies_file, proxy, site)
            except TimeoutError:
                if attempt == attempts:
                    raise FetchError(
                        f"timed out: no complete answer within {self._deadline:.0f} s",
                        retryable=True,
                    ) from None
                await self._sleep(self._retry_wait(attempt))
            except FetchError as exc:
                if not exc.retryable or attempt == attempts:
                    raise
                delay = exc.retry_after
                if delay is None:
                    delay = self._retry_wait(attempt)
                elif delay > MAX_RETRY_AFTER:
                    raise  # the shop wants a long rest: the schedule backs off instead
                logger.debug("%s: %s; retry %d in %.1f s", url, exc.reason, attempt, delay)
                await self._sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def screenshot(self, source: Source) -> bytes | None:
        """Return a PNG of the page of ``source`` as the browser shows it (its images
        loaded), or None when it cannot be taken: a screenshot is evidence, not a check."""
        try:
            rendered = await self._render(source, screenshot=True)
        except FetchError as exc:
            logger.warning("%s: no screenshot: %s", source.url, exc.reason)
            return None
        return rendered.png

    async def _render(self, source: Source, *, screenshot: bool = False) -> Rendered:
        if self._browser is None:
            from monitor.browser import Browser

            self._browser = Browser(chromium=self.settings.chromium)
        time_limit = self.settings.read_limit.total_seconds()
        async with self._slot(_host_of(source.url)):
            return await self._browser.render(
                source, time_limit=time_limit, max_bytes=self.max_bytes, screenshot=screenshot
            )

    async def render(self, source: Source) -> Page:
        """Return the page of ``source`` as Chromium renders it (``monitor.browser``), in the
        host's slot like any request; the JSON response its ``responses`` matched instead,
        when one did (the page's DOM is still the evidence). Raise FetchError if it fails."""
        rendered = await self._render(source)
        dom = rendered.html.encode("utf-8", "surrogatepass")
        text, content_type = rendered.html, "text/html; charset=utf-8"
        if rendered.json is not None:
            text, content_type = rendered.json, "application/json"
        return Page(
            url=rendered.url,
            status=rendered.status,
            text=text,
            content_type=content_type,
            size=len(dom),
            fetched_at=datetime.now(UTC),
            body=dom,
        )

    def _retry_wait(self, attempt: int) -> float:
        """Seconds to wait after try number ``attempt`` failed: doubling, with jitter."""
        wait = backoff(attempt, first=self.first_retry, longest=LONGEST_RETRY, jitter=0.5)
        return wait.total_seconds()

    @asynccontextmanager
    async def _slot(self, host: str) -> AsyncIterator[None]:
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _Host(asyncio.Semaphore(self.per_host))
        # The host's slot first: a request queued behind its host must not hold a global slot.
        async with state.slots:
            host_delay = self.settings.host_delay.total_seconds()
            wait = state.last_start + host_delay - self._monotonic()
            if wait > 0:
                await self._sleep(wait)
            async with self._slots:
                state.last_start = self._monotonic()
                yield

    async def _once(
        self,
        url: str,
        headers: Mapping[str, str],
        cookies_file: str | None,
        proxy: str | None,
        site: tuple[str, ...],
    ) -> Page:
        """One try: the request, and the redirects it leads to. Every failure is a FetchError."""
        try:
            target = request_url(url)
            for _ in range(MAX_REDIRECTS + 1):
                hop_headers = dict(headers)
                if cookies_file:  # the file's cookies for this hop's URL, not the first's
                    cookie = cookie_header(cookies_file, str(target))
                    if cookie:
                        hop_headers["Cookie"] = cookie
                try:
                    return await self._get(target, hop_headers, proxy)
                except _Redirect as redirect:
                    target = _redirect_target(target, redirect.location, site)
            raise FetchError(f"more than {MAX_REDIRECTS} redirects")
        except FetchError:
            raise
        except Exception as exc:
            failure = http_errors.fetch_error(exc)
            if failure is None:
                raise
            raise failure from None

    async def _page(
        self,
        status: int,
        header: Callable[[str], str | None],
        chunks: AsyncIterable[bytes],
        url: str,
    ) -> Page:
        """Return the Page of a response that is not a redirect (its status, its headers'
        values by name, its raw body), or raise for its status."""
        if status == 429 or status >= 500:
            raise FetchError(
                f"HTTP {status}",
                retry_after=_retry_after(header("Retry-After")),
                retryable=True,
            )
        if status >= 400 and status not in (404, 410):
            raise FetchError(f"HTTP {status}")
        body = await self._read_capped(header, chunks)
        content_type = header("content-type") or ""
        return Page(
            url=url,
            status=status,
            text=decode(body, content_type),
            content_type=content_type,
            size=len(body),
            fetched_at=datetime.now(UTC),
            body=body,
        )

    async def _read_capped(
        self, header: Callable[[str], str | None], chunks: AsyncIterable[bytes]
    ) -> bytes:
        """Read a body up to the cap, from the raw stream: httpx never decodes it. A gzip or
        deflate body is inflated here, a bounded piece at a time, because httpx inflates a
        whole network read at once (one 64 KB read of a gzip bomb would become 64 MB before
        anything could count it) and, for stacked codings, each coding of it in turn."""
        declared = header("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(f"page of {int(declared)} bytes is over the {self.max_bytes}-byte cap")
        coding = coding_of(header("content-encoding") or "")
        inflater = Inflater(coding) if coding is not None else None
        # The chunks, joined at the end (a body in one chunk is not copied at all); once there
        # are many, one buffer instead: a body of 2-byte chunks would cost 30x its size.
        parts: list[bytes] = []
        many: bytearray | None = None
        received = size = 0
        async for chunk in chunks:
            received += len(chunk)
            if inflater is not None and received <= self.max_bytes:
                chunk = inflater.inflate(chunk, self.max_bytes + 1 - size)
            size += len(chunk)
            if size > self.max_bytes or received > self.max_bytes:
                raise FetchError(f"page is over the {self.max_bytes}-byte cap; stopped reading")
            if many is not None:
                many += chunk
            else:
                parts.append(chunk)
                if len(parts) > _MAX_PARTS:
                    many, parts = bytearray(b"".join(parts)), []
            if inflater is not None and inflater.finished:
                break  # the end of the compressed stream: anything after it is not the page
        return bytes(many) if many is not None else b"".join(parts)


@dataclass
class _Host:
    slots: asyncio.Semaphore
    last_start: float = float("-inf")


def _host_of(url: str) -> str:
    """The host a politeness slot is kept for ("" for a URL that has none, or is unreadable)."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


class _Redirect(Exception):
    """A redirect, raised for ``_once`` to follow or refuse: by ``_get`` for a direct GET, by
    httpx's client's response hook for one through a proxy."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


async def _stop_at_redirect(response: httpx.Response) -> None:
    """Hand a redirect to ``_once`` before httpx parses its Location: even with redirects
    off, httpx builds the next request and raises InvalidURL (not an HTTPError) on a Location
    it cannot read, such as ``javascript:alert(1)``. The response is closed unread."""
    if response.status_code in _REDIRECTS and "location" in response.headers:
        raise _Redirect(response.headers["location"])


def _redirect_target(current: http_client.Url, location: str, site: tuple[str, ...]) -> httpx.URL:
    """Return where a redirect from ``current`` leads; raise FetchError unless that is an
    http(s) URL on ``site`` (one of its domains or a subdomain of one). httpx's URL joins
    them: a redirect is rare enough to import it for."""
    import httpx

    try:
        target = httpx.URL(str(current)).join(location)
        host = target.host  # IDNA-decoded here, and a bad label raises UnicodeError here
    except (httpx.InvalidURL, ValueError) as exc:
        raise FetchError(f"redirected to an invalid URL: {exc}"[:200]) from None
    if target.scheme not in ("http", "https"):
        scheme = "".join(c for c in target.scheme if c.isalnum() or c in "+-.")[:20]
        raise FetchError(f"redirected to a {scheme}: URL; only http and https are followed")
    if not host:
        raise FetchError("redirected to a URL without a host")
    ascii_host = target.raw_host.decode("ascii", "replace")
    if not (Source.host_in(host, site) or Source.host_in(ascii_host, site)):
        raise FetchError(f"redirected to another site: {ascii_host[:100]}")
    return target


def cookie_jar(path: str) -> http.cookiejar.MozillaCookieJar:
    """Return the unexpired cookies of a Netscape cookies.txt file; raise FetchError if it
    cannot be read."""
    jar = http.cookiejar.MozillaCookieJar(path)
    try:
        jar.load(ignore_discard=True, ignore_expires=False)
    except (OSError, http.cookiejar.LoadError) as exc:
        raise FetchError(f"cannot read the cookies file: {exc}") from None
    return jar


def cookie_header(path: str, url: str) -> str | None:
    """Return the Cookie header a Netscape cookies.txt file holds for ``url``, if any."""
    return http_client.jar_cookie_header(cookie_jar(path), url)


def _retry_after(value: str | None) -> float | None:
    """Read a Retry-After header: delay-seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)
