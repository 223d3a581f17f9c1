"""A connection's bytes for ``monitor.http1``: what arrives on a socket, and a response
body read from it as it arrives.

``Connection`` is the receiving end of one connection: what arrived and is unread, whether
the server is done, and a wait for more within a timeout. It holds at most ``BUFFER`` bytes
before it stops reading from the socket until they are taken. ``Body`` reads one response's
body from it: framed by ``Content-Length``, chunked (chunk-size lines of at most
``MAX_LINE`` bytes, trailers of at most ``MAX_TRAILERS``), or until the server closes.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable

from monitor import http_errors

MAX_HEAD = 100 * 1024  # bytes of status line and headers: what httpcore lets h11 take
MAX_LINE = 4 * 1024  # a chunk-size line, with its extensions
MAX_TRAILERS = MAX_HEAD  # bytes of trailer lines after a chunked body, all of them
BUFFER = 256 * 1024  # bytes a connection holds unread before it pauses the socket
LINE_END = re.compile(rb"\r?\n")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")


class Connection(asyncio.Protocol):
    """A connection's receiving end: what arrived, unread, and whether the server is done."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._write_paused = False
        self._drained: asyncio.Future[None] | None = None

    # asyncio's side

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > BUFFER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self._wake()
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # ours

    def usable(self) -> bool:
        """True for an idle connection that may carry a request: open, nothing unread."""
        transport = self.transport
        return not (self.eof or self.buffer or transport is None or transport.is_closing())

    async def fill(self, timeout: float | None) -> bool:
        """Wait for more bytes; False once the server has closed (or reset) the connection."""
        if self.eof:
            return False
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(timeout):
                await waiter
        finally:
            self._waiter = None
        return True

    def take(self, size: int) -> bytes:
        """Return up to ``size`` bytes of what arrived, removing them from the buffer."""
        buffer = self.buffer
        if size >= len(buffer):
            data = bytes(buffer)
            buffer.clear()
        else:
            with memoryview(buffer) as view:  # one copy, not a slice and then its bytes
                data = bytes(view[:size])
            del buffer[:size]
        if self._paused and len(buffer) <= BUFFER // 2 and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return data

    async def drain(self, timeout: float | None) -> None:
        if self._write_paused and not self.eof:
            drained = self._drained = asyncio.get_running_loop().create_future()
            async with asyncio.timeout(timeout):
                await drained

    def abort(self) -> None:
        """Close at once, on an error: no TLS close_notify to wait for."""
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def fill(connection: Connection, timeout: float | None) -> bool:
    try:
        more = await connection.fill(timeout)
    except TimeoutError:
        raise http_errors.ReadTimeout("timed out reading the response") from None
    if not more and connection.error is not None and not connection.buffer:
        error = connection.error
        raise http_errors.ReadError(str(error) or type(error).__name__)
    return more


class Body:
    """A response body as it arrives; its connection goes back to the pool once it is read
    to the end (and the server keeps it open), and is closed if the reading stops early."""

    def __init__(
        self,
        connection: Connection,
        timeout: float | None,
        length: int | None,
        chunked: bool,
        keep: bool,
    ) -> None:
        self._connection: Connection | None = connection
        self._timeout = timeout
        self._length = length
        self._chunked = chunked
        self.keep = keep
        self.release: Callable[[], None] | None = None  # set by the transport when keep

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        if connection is None:
            raise http_errors.StreamClosed("the body was read or closed already")
        try:
            if self._chunked:
                async for data in self._chunks(connection):
                    yield data
                self._finish()
            else:
                async for data in self._plain(connection, self._length, last=True):
                    yield data
                self._finish()  # an empty body, or one read until the server closed
        except BaseException:
            self._close()
            raise

    def _finish(self) -> None:
        """The body was read to its end: the connection carries the next request, or closes."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self.keep and self.release is not None:
            self.release()
        else:
            connection.close()

    async def _plain(
        self, connection: Connection, length: int | None, *, last: bool = False
    ) -> AsyncIterator[bytes]:
        """``length`` bytes, or (None) everything until the server closes. The ``last``
        part of a body hands the connection back before its final bytes are yielded: a
        reader that stops at the end of what it expects leaves a connection to reuse."""
        remaining = length
        while remaining is None or remaining > 0:
            if not connection.buffer and not await self._more(connection):
                if remaining is None or length is None:
                    return
                raise http_errors.RemoteProtocolError(
                    "peer closed connection without sending complete message body: "
                    f"received {length - remaining} bytes, expected {length}"
                )
            data = connection.take(len(connection.buffer) if remaining is None else remaining)
            if remaining is not None:
                remaining -= len(data)
                if last and remaining == 0:
                    self._finish()
            yield data

    async def _chunks(self, connection: Connection) -> AsyncIterator[bytes]:
        while True:
            line = await self._line(connection)
            size_text = line.split(b";", 1)[0].strip(b" \t")
            if not _CHUNK_SIZE.fullmatch(size_text):
                raise http_errors.RemoteProtocolError("invalid chunk size")
            size = int(size_text, 16)
            if size == 0:
                trailers = 0
                while line := await self._line(connection):  # trailers, to the empty line
                    trailers += len(line) + 2
                    if trailers > MAX_TRAILERS:
                        raise http_errors.RemoteProtocolError("the trailers are too long")
                return
            async for data in self._plain(connection, size):
                yield data
            if await self._line(connection):
                raise http_errors.RemoteProtocolError("a chunk overran its size")

    async def _line(self, connection: Connection) -> bytes:
        buffer = connection.buffer
        while True:
            end = LINE_END.search(buffer, 0, MAX_LINE + 2)
            if end is not None:
                return connection.take(end.end())[: end.start()]
            if len(buffer) > MAX_LINE:
                raise http_errors.RemoteProtocolError("a chunk line is too long")
            if not await self._more(connection):
                raise http_errors.RemoteProtocolError(
                    "peer closed connection without sending complete message body: "
                    "incomplete chunked read"
                )

    async def _more(self, connection: Connection) -> bool:
        return await fill(connection, self._timeout)

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    async def aclose(self) -> None:
        self._close()  # unread (or half read): this connection carries nothing more
