"""A URL as the fetcher sends a request to it, read without httpx where that is safe.

httpx's URL normalises what it is given (case, default ports, dot segments, percent
escapes, IDNA) in Python, character by character, and importing it imports all of httpx.
Most product URLs are already in the form it would give them: for those, ``request_url``
reads the parts itself and returns a ``PlainUrl`` with the same values; any other URL (a
credential, a fragment, a non-ASCII or upper-case host, an IPv4 address not written as it
is printed, a character httpx would escape, a dot segment, a default port written out) is
httpx's, imported then.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_CHARS = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})"
_PLAIN = re.compile(
    rf"(?P<scheme>https?)://(?P<host>{_LABEL}(?:\.{_LABEL})*)(?::(?P<port>[1-9][0-9]{{0,4}}))?"
    rf"(?P<path>/{_CHARS}*)?(?P<query>\?(?:{_CHARS}|\?)*)?"
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_IPV4_STYLE = re.compile(r"[0-9]+.[0-9]+.[0-9]+.[0-9]+")  # httpx's: "." is any character
_MAX_LENGTH = 65536  # httpx's: a longer URL is invalid


@dataclass(frozen=True, slots=True)
class PlainUrl:
    """An http(s) URL that httpx would leave as it is, with the parts its URL has."""

    text: str
    scheme: str
    host: str
    port: int | None
    path: str  # with the query, as the request line sends it

    def __str__(self) -> str:
        return self.text

    @property
    def raw_scheme(self) -> bytes:
        return self.scheme.encode("ascii")

    @property
    def raw_host(self) -> bytes:
        return self.host.encode("ascii")

    @property
    def raw_path(self) -> bytes:
        return self.path.encode("ascii")

    @property
    def netloc(self) -> bytes:
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.host}{port}".encode("ascii")

    @property
    def username(self) -> str:
        return ""

    @property
    def password(self) -> str:
        return ""


def request_url(url: str) -> PlainUrl | httpx.URL:
    """The URL a request to ``url`` goes to: a PlainUrl when httpx would not change it,
    else httpx's URL (which raises httpx.InvalidURL, or a ValueError, for a bad one)."""
    plain = _plain(url)
    if plain is not None:
        return plain
    import httpx

    return httpx.URL(url)


def _plain(url: str) -> PlainUrl | None:
    found = _PLAIN.fullmatch(url) if len(url) <= _MAX_LENGTH else None
    if found is None:
        return None
    scheme, host, port_text, path, query = found.group("scheme", "host", "port", "path", "query")
    port = int(port_text) if port_text else None
    if port is not None and (port > 65535 or port == _DEFAULT_PORTS[scheme]):
        return None  # httpx refuses the one, and drops the other from the URL
    if "xn--" in host:
        return None  # IDNA: httpx checks that it decodes
    if _IPV4_STYLE.fullmatch(host) and not _canonical_ipv4(host):
        return None  # httpx refuses it (999.1.1.1), or the C library reads it as octal (010…)
    path = path or "/"
    if "." in path and any(part in (".", "..") for part in path.split("/")):
        return None  # dot segments, which httpx removes
    return PlainUrl(url, scheme, host, port, path + (query or ""))


def _canonical_ipv4(host: str) -> bool:
    """True for an IPv4 address written as it is printed (no leading zeros, each part ≤ 255)."""
    try:
        return str(ipaddress.IPv4Address(host)) == host
    except ValueError:
        return False
