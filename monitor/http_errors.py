"""The errors of our HTTP/1.1 transport (``monitor.http1``), named and ranked as httpx names
its own: a check's reason reads the same whichever carried the request ("ConnectError: …",
"timed out (ReadTimeout)"), and the fetcher sorts both by the same rules (``fetch.py``).
"""

from __future__ import annotations

import sys

from monitor.errors import FetchError


class TransportError(Exception):
    """Anything that went wrong between us and the shop."""


class TimeoutException(TransportError):
    pass


class ConnectTimeout(TimeoutException):
    pass


class ReadTimeout(TimeoutException):
    pass


class WriteTimeout(TimeoutException):
    pass


class NetworkError(TransportError):
    pass


class ConnectError(NetworkError):
    pass


class ReadError(NetworkError):
    pass


class WriteError(NetworkError):
    pass


class ProtocolError(TransportError):
    pass


class RemoteProtocolError(ProtocolError):
    """The shop's answer broke HTTP/1.1."""


class LocalProtocolError(ProtocolError):
    """Our request would break HTTP/1.1 (a header that would split it): ours to fix."""


class UnsupportedProtocol(TransportError):
    """A URL no request can be sent to: not http(s), or without a host."""


class StreamClosed(Exception):
    """A body read again after it was closed: our mistake, not the shop's (as httpx's
    StreamError is no TransportError)."""


def fetch_error(exc: Exception) -> FetchError | None:
    """The FetchError an HTTP error stands for, ours (above) or httpx's
    (through a proxy), which bear the same names; None for any other error."""
    httpx = sys.modules.get("httpx")  # loaded only if a request went through it
    name = type(exc).__name__
    reason = f"{name}: {exc}"[:200]
    if isinstance(exc, TimeoutException) or (
        httpx is not None and isinstance(exc, httpx.TimeoutException)
    ):
        return FetchError(f"timed out ({name})", retryable=True)
    if httpx is not None and isinstance(exc, httpx.DecodingError):
        return FetchError(f"undecodable response: {exc}"[:200])
    ours_to_fix: tuple[type[Exception], ...] = (
        UnsupportedProtocol,
        LocalProtocolError,
    )
    if httpx is not None:
        ours_to_fix += (httpx.UnsupportedProtocol, httpx.LocalProtocolError)
    if isinstance(exc, ours_to_fix):
        return FetchError(reason)
    if isinstance(exc, TransportError) or (httpx is not None and isinstance(exc, httpx.HTTPError)):
        return FetchError(reason, retryable=True)
    unreadable: tuple[type[Exception], ...] = (StreamClosed, ValueError)
    if httpx is not None:
        unreadable += (httpx.InvalidURL, httpx.CookieConflict, httpx.StreamError)
    if isinstance(exc, unreadable):
        # A URL that cannot be read (UnicodeError from IDNA is a ValueError), or a response
        # that cannot be streamed. A hostile page costs one unknown, never a crash.
        return FetchError(reason)
    return None
