"""Fetch product pages with httpx: timeouts, a browser-like User-Agent, a cap on body size.

The result is a ``Page`` (any HTTP status the shop answered with a body we read) or a
``FetchError`` with a short reason. Bodies are streamed so that a huge response is cut off
at the cap instead of being read into memory.
"""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from monitor import __version__
from monitor.errors import FetchError

logger = logging.getLogger(__name__)

USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    f"Chrome/131.0 Safari/537.36 price-monitor/{__version__}"
)
DEFAULT_HEADERS = {
    "User-Agent": USER_AGENT,
    "Accept": "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
    "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8",
}
MAX_BYTES = 5 * 1024 * 1024
TIMEOUT = httpx.Timeout(20.0, connect=10.0)
MAX_REDIRECTS = 10

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)
# Pages that declare GB2312 or GBK are almost always written in their superset GB18030.
_CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030"}


@dataclass(frozen=True, slots=True)
class Page:
    """A fetched page: the final URL after redirects, the HTTP status and the decoded text."""

    url: str
    status: int
    text: str
    content_type: str
    size: int
    fetched_at: datetime

    @property
    def gone(self) -> bool:
        """True when the shop says the product page no longer exists."""
        return self.status in (404, 410)


class Fetcher:
    """An httpx client for product pages; use as ``async with Fetcher() as fetcher``."""

    def __init__(
        self,
        *,
        max_bytes: int = MAX_BYTES,
        timeout: httpx.Timeout = TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self._client = httpx.AsyncClient(
            headers=DEFAULT_HEADERS,
            timeout=timeout,
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            transport=transport,
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, url: str, *, headers: Mapping[str, str] | None = None) -> Page:
        """Given a URL, return the Page. Raise FetchError on network errors, 5xx, 429, the cap."""
        try:
            async with self._client.stream("GET", url, headers=headers) as response:
                if response.status_code in (429, 503) or response.status_code >= 500:
                    raise FetchError(
                        f"HTTP {response.status_code}",
                        retry_after=_retry_after(response.headers.get("Retry-After")),
                    )
                if response.status_code >= 400 and response.status_code not in (404, 410):
                    raise FetchError(f"HTTP {response.status_code}")
                body = await self._read_capped(response)
                return Page(
                    url=str(response.url),
                    status=response.status_code,
                    text=decode(body, response.headers.get("content-type", "")),
                    content_type=response.headers.get("content-type", ""),
                    size=len(body),
                    fetched_at=datetime.now(UTC),
                )
        except httpx.TooManyRedirects:
            raise FetchError(f"more than {MAX_REDIRECTS} redirects") from None
        except httpx.TimeoutException as exc:
            raise FetchError(f"timed out ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{type(exc).__name__}: {exc}"[:200]) from None

    async def _read_capped(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(f"page of {int(declared)} bytes is over the {self.max_bytes}-byte cap")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError(f"page is over the {self.max_bytes}-byte cap; stopped reading")
            chunks.append(chunk)
        return b"".join(chunks)


def decode(body: bytes, content_type: str) -> str:
    """Decode a page by its declared charset (header, then ``<meta>``), falling back to UTF-8."""
    if body.startswith(codecs.BOM_UTF8):
        return body[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    charset = _charset_from_header(content_type) or _charset_from_meta(body[:4096])
    if charset:
        name = _CHARSET_ALIASES.get(charset.lower(), charset)
        try:
            return body.decode(codecs.lookup(name).name, errors="replace")
        except LookupError:
            logger.debug("unknown charset %r", charset)
    # Undeclared: UTF-8 if it is valid UTF-8, else GB18030 if that reads cleanly (Chinese shops
    # that declare their charset only in a header, saved to a file), else UTF-8 with repairs.
    for encoding in ("utf-8", "gb18030"):
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    return body.decode("utf-8", errors="replace")


def _charset_from_header(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"' ")
    return None


def _charset_from_meta(head: bytes) -> str | None:
    match = _META_CHARSET.search(head)
    return match.group(1).decode("ascii") if match else None


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None
