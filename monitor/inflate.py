"""A response body's coding: which one a Content-Encoding names, and its inflation a bounded
piece at a time (``monitor.fetch`` counts what comes out against its cap)."""

from __future__ import annotations

import zlib

from monitor.errors import FetchError

_CODINGS = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate"}


def coding_of(header: str) -> str | None:
    """Return the coding a Content-Encoding header names, "gzip" or "deflate", or None for a
    body as it is. Raise FetchError for any other coding, or for more than one (a gzip of a
    gzip bomb), once ``identity`` is left out."""
    shown = "".join(c if c.isprintable() else "?" for c in header.strip())[:60]
    codings = [c.strip().lower() for c in header.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if len(codings) > 1:
        raise FetchError(f"unsupported Content-Encoding: {shown} (more than one coding)")
    if not codings:
        return None
    if codings[0] not in _CODINGS:
        raise FetchError(f"unsupported Content-Encoding: {shown}")
    return _CODINGS[codings[0]]


class Inflater:
    """Inflates a gzip or a deflate body, at most ``limit`` bytes out of each piece in.

    Servers send ``deflate`` both zlib-wrapped (RFC 1950, as the standard says) and raw (RFC
    1951): the first two bytes tell which, as they do for browsers.
    """

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._zlib: zlib._Decompress | None = None
        if coding == "gzip":
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._start = b""  # deflate: the first bytes, until there are two to look at

    @property
    def finished(self) -> bool:
        """True once the compressed stream has ended."""
        return self._zlib is not None and self._zlib.eof

    def inflate(self, data: bytes, limit: int) -> bytes:
        """Return what ``data`` inflates to, cut at ``limit`` bytes (more waits unread)."""
        if self._zlib is None:
            self._start += data
            if len(self._start) < 2:
                return b""
            data, self._start = self._start, b""
            wrapped = (
                data[0] & 0x0F == 8 and data[0] >> 4 <= 7 and (data[0] << 8 | data[1]) % 31 == 0
            )
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        try:
            return self._zlib.decompress(data, limit)
        except zlib.error as exc:
            raise FetchError(f"undecodable {self.coding} body: {exc}") from None
