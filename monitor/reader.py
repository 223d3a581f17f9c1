"""Pages are read outside the event loop: extraction in worker processes, with a time limit.

A page is untrusted input. The HTML parser takes minutes over 200,000 nested ``<div>``s
(its cost grows with the square of the depth), and a shop's regex can backtrack for as
long. Each page is therefore read in a worker process: when a page takes longer than the
limit, its worker is killed and replaced, and the check is ``unknown`` ("the page took too
long to read"), which counts towards "checks failing". A worker that dies (out of memory
under its address-space limit, a crash in the parser) is replaced the same way. The event
loop, and with it the watchdog, the outbox and SIGTERM, never waits for a page.

    async with PageReader() as reader:
        extraction = await reader.read(text, request, shop=shop, url=url)
        explained = await reader.run(analyse, text, request, ...)  # any job on a page

A worker is forked from a server process of ours that has loaded only the extraction code,
not from the daemon with its threads, sockets and database (``python -m monitor.fork_server``,
started with the first read): forking is cheap, and a worker that was killed is replaced in
a few milliseconds. The daemon and a worker talk over a socket pair: a small pickled header
(the job, by name, and its arguments), the answer back pickled. The page's text, as UTF-8,
goes through memory the two share (the worker's page region, a memfd it maps read-only),
or through the socket after the header where the kernel has no memfd or the text is longer. (A general process pool, pebble's, cost 0.7 ms of CPU per 150 KB page in locks,
threads and copies; multiprocessing's forkserver re-imports the daemon's main module in
every worker.)
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import mmap
import os
import pickle
import signal
import socket
import subprocess
import sys
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar, cast

from monitor.fork_server import ANSWER as _ANSWER
from monitor.fork_server import FORK as _FORK
from monitor.fork_server import HEADER as _HEADER
from monitor.fork_server import REGION as _REGION
from monitor.models import Extraction, Shop, Status
from monitor.models.view import View

if TYPE_CHECKING:
    from monitor.extract import Request

logger = logging.getLogger(__name__)

Answer = TypeVar("Answer")

TIME_LIMIT = timedelta(seconds=10)  # per page, in its worker
MEMORY_LIMIT = 1024 * 1024 * 1024  # bytes of address space a worker may map beyond its start
WORKERS = 2
FORK_TIMEOUT = timedelta(seconds=30)  # for the fork server to start and answer
EXTRACT = "monitor.extract.read:extract"  # the job that reads a page, by name


@dataclass(eq=False)  # each worker is itself: hashed by identity
class _Worker:
    pid: int
    pidfd: int | None  # signals reach this process only, even once its pid is reused
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    region: mmap.mmap | None  # where its pages' text is written, shared with it

    def send(self, header: bytes, body: bytes) -> None:
        """Hand the worker a job and its page: the page in the region when it fits, and
        then one write to the socket, so one wake-up of the worker."""
        region = self.region
        if region is not None and len(body) <= _REGION:
            region[: len(body)] = body
            message = b"".join((_HEADER.pack(len(header), len(body), True), header))
        else:
            message = b"".join((_HEADER.pack(len(header), len(body), False), header, body))
        self.writer.write(message)

    def kill(self) -> None:
        """SIGKILL the worker, through its pidfd where the kernel has them: a worker that
        died already is reaped by its server at once, and its pid may be another's by now."""
        if self.pidfd is not None:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
                return
            except ProcessLookupError:
                return  # gone already
            except OSError:
                pass  # refused here (a system-call filter): by its pid, then
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def forget(self) -> None:
        self.writer.close()
        if self.region is not None:
            self.region.close()
            self.region = None
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


class PageReader:
    """Reads pages in ``workers`` processes, each page within ``time_limit``.

    The workers start on the first read; ``close()`` stops them.
    """

    def __init__(
        self,
        *,
        workers: int = WORKERS,
        time_limit: timedelta = TIME_LIMIT,
        memory_limit: int = MEMORY_LIMIT,
    ) -> None:
        self.workers = max(1, min(workers, os.cpu_count() or 1))
        self.time_limit = time_limit
        self.memory_limit = memory_limit
        self._idle: asyncio.Queue[_Worker | None] | None = None
        self._all: set[_Worker] = set()
        self._reading: set[asyncio.Task[object]] = set()
        self._abandoned = False

    async def __aenter__(self) -> PageReader:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def abandon(self) -> None:
        """Cancel every read in progress or waiting for a worker, and every read asked for
        from now on: the daemon is stopping, and a page is not worth waiting for (nothing was
        recorded of it yet)."""
        self._abandoned = True
        for task in set(self._reading):
            task.cancel()

    def close(self) -> None:
        """Stop the workers (a page being read is abandoned). The fork server stays for the
        next reader of this process, until the process exits."""
        idle = set()
        while self._idle is not None and not self._idle.empty():
            idle.add(self._idle.get_nowait())
        for worker in list(self._all):
            # An idle worker exits when its socket closes; a busy one could go on for minutes.
            self._discard(worker, kill=worker not in idle)
        self._idle = None

    async def read(
        self,
        text: str,
        request: Request,
        *,
        shop: Shop,
        url: str = "",
        content_type: str = "",
    ) -> Extraction:
        """Given a fetched body, return the verdict on its price, read in a worker."""
        return await self.run(EXTRACT, text, request, shop=shop, url=url, content_type=content_type)

    async def run(
        self, job: Callable[..., Answer] | str, text: str, *args: object, **kwargs: object
    ) -> Answer | Extraction:
        """Return ``job(text, *args, **kwargs)``, run in a worker within the time limit, or
        the ``unknown`` Extraction that says why it could not be. ``job`` is a module-level
        function (pickled, that is by name) or its name as ``module:function``, and its
        answer must pickle."""
        if self._abandoned:
            raise asyncio.CancelledError("the page reader was abandoned: the daemon is stopping")
        task = asyncio.current_task()
        if task is not None:
            self._reading.add(task)
        try:
            return await self._run(job, text, args, kwargs)
        finally:
            self._reading.discard(task)

    async def _run(
        self,
        job: Callable[..., Answer] | str,
        text: str,
        args: tuple[object, ...],
        kwargs: dict[str, object],
    ) -> Answer | Extraction:
        header = pickle.dumps(
            (job, tuple(_viewed(a) for a in args), {k: _viewed(v) for k, v in kwargs.items()}),
            pickle.HIGHEST_PROTOCOL,
        )
        body = text.encode("utf-8", "surrogatepass")
        try:
            worker = await self._take()
        except ReaderUnavailable as exc:
            return Extraction(Status.UNKNOWN, reason=str(exc))
        try:
            async with asyncio.timeout(self.time_limit.total_seconds()):
                worker.send(header, body)
                size = _ANSWER.unpack(await worker.reader.readexactly(_ANSWER.size))[0]
                failed, answer = pickle.loads(await worker.reader.readexactly(size))
        except TimeoutError:
            self._discard(worker)
            seconds = self.time_limit.total_seconds()
            return Extraction(
                Status.UNKNOWN, reason=f"the page took too long to read (over {seconds:g} s)"
            )
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            self._discard(worker, kill=False)  # it is gone already
            return Extraction(
                Status.UNKNOWN,
                reason="reading the page failed: its reader process died (out of memory?)",
            )
        except BaseException:  # cancelled mid-read: the worker's state is unknown
            self._discard(worker)
            raise
        self._give_back(worker)
        if not failed:
            return cast("Answer", answer)
        logger.error("%s: extraction failed: %s", kwargs.get("url") or "a page", answer)
        return Extraction(Status.UNKNOWN, reason=f"extraction failed: {answer.split(':')[0]}")

    # --- the workers ------------------------------------------------------------------------

    async def _take(self) -> _Worker:
        if self._idle is None:
            self._idle = asyncio.Queue()
            for _ in range(self.workers):
                self._idle.put_nowait(None)  # a slot whose worker starts when first taken
        worker = await self._idle.get()
        if worker is None:
            try:
                worker = await self._start()
            except BaseException:
                self._idle.put_nowait(None)
                raise
        return worker

    def _give_back(self, worker: _Worker) -> None:
        if self._idle is not None:
            self._idle.put_nowait(worker)

    async def _start(self) -> _Worker:
        pid, pidfd, region, connection = await _fork_server_of_this_process().fork(
            self.memory_limit
        )
        try:
            reader, writer = await asyncio.open_unix_connection(sock=connection)
        except OSError as exc:
            connection.close()
            if pidfd is not None:
                os.close(pidfd)
            if region is not None:
                region.close()
            raise ReaderUnavailable(f"the page reader did not start: {exc!r}") from exc
        worker = _Worker(pid, pidfd, reader, writer, region)
        self._all.add(worker)
        return worker

    def _discard(self, worker: _Worker, *, kill: bool = True) -> None:
        """Kill a worker (its server reaps it) and free its slot for a new one."""
        self._all.discard(worker)
        if kill:
            worker.kill()
        worker.forget()
        if self._idle is not None:
            self._idle.put_nowait(None)


def _viewed(value: object) -> object:
    """``value`` as a worker is sent it: a config model as its View (``monitor.models.view``:
    the readers do not import pydantic), made once per model; anything else as it is."""
    from monitor.models.values import Frozen  # loaded already: the config made the models

    if not isinstance(value, Frozen):
        return value
    known = _VIEWS.get(id(value))
    if known is not None and known[0] is value:
        return known[1]
    fields = {name: getattr(value, name) for name in type(value).model_fields}
    view = View(**{name: _viewed_field(field) for name, field in fields.items()})
    if len(_VIEWS) >= _MAX_VIEWS:
        _VIEWS.clear()  # a daemon that reloaded its config many times: start again
    _VIEWS[id(value)] = (value, view)  # the model is kept: its id stays its own
    return view


def _viewed_field(value: object) -> object:
    if isinstance(value, tuple | list):
        return type(value)(_viewed(item) for item in value)
    if isinstance(value, dict):
        return {key: _viewed(item) for key, item in value.items()}
    return _viewed(value)


# The Views made, by the id of their model (kept with them); a check's shops are few.
_VIEWS: dict[int, tuple[object, View]] = {}
_MAX_VIEWS = 1024


class _ForkServer:
    """``python -m monitor.fork_server``: a process that has imported the extraction code and
    forks a worker when asked, handing back the worker's pid and its end of a socket pair.

    One per process, started with the first read (its start costs what importing the
    extraction code does, about 0.3 s of CPU), stopped when the process exits; it exits by
    itself when its parent does.
    """

    def __init__(self) -> None:
        self._control, theirs = socket.socketpair()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "monitor.fork_server", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C in a terminal is the daemon's to handle
                env=_reader_environment(),
            )
        except OSError as exc:
            self._control.close()
            raise ReaderUnavailable(f"the page reader did not start: {exc!r}") from exc
        finally:
            theirs.close()
        self._control.setblocking(False)
        self._broken = False  # a question left without its answer: the next is out of step
        # One question at a time on the control socket, from each event loop that asks.
        self._asking: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def alive(self) -> bool:
        return not self._broken and self._process.poll() is None

    async def fork(
        self, memory_limit: int
    ) -> tuple[int, int | None, mmap.mmap | None, socket.socket]:
        """Return a new worker's pid, a pidfd for it (None where the kernel has none), its
        page region (None where the kernel has no memfd) and the socket to talk to it; the
        worker may map ``memory_limit`` bytes beyond what it starts with."""
        loop = asyncio.get_running_loop()
        asking = self._asking.setdefault(loop, asyncio.Lock())
        async with asking:
            try:
                async with asyncio.timeout(FORK_TIMEOUT.total_seconds()):
                    await loop.sock_sendall(self._control, _FORK.pack(memory_limit))
                    await _readable(loop, self._control)
                    message, fds, _, _ = socket.recv_fds(self._control, 64, 3)
            except BaseException as exc:
                # Its answer may still come, and would be taken as the next question's:
                # this server is done with, and the next fork starts a new one.
                self._broken = True
                if isinstance(exc, OSError | TimeoutError):
                    raise ReaderUnavailable(f"the page reader did not start: {exc!r}") from exc
                raise
        if not fds:
            raise ReaderUnavailable("the page reader did not start (see its log lines)")
        pid, has_region, has_pidfd = (int(part) for part in message.split())
        connection = socket.socket(fileno=fds[0])
        connection.setblocking(False)
        rest = iter(fds[1:])
        region_fd = next(rest) if has_region else None
        pidfd = next(rest) if has_pidfd else None
        region = None
        if region_fd is not None:
            try:
                region = mmap.mmap(region_fd, _REGION)  # shared, written here only
            except OSError:
                pass  # its pages go through the socket
            finally:
                os.close(region_fd)
        return pid, pidfd, region, connection

    def close(self) -> None:
        self._control.close()  # the server exits when its control socket closes
        try:
            self._process.wait(FORK_TIMEOUT.total_seconds())
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


_SERVER: _ForkServer | None = None


def _fork_server_of_this_process() -> _ForkServer:
    global _SERVER
    if _SERVER is None or not _SERVER.alive():
        if _SERVER is not None:
            _SERVER.close()
            _SERVER = None
        _SERVER = _ForkServer()
    return _SERVER


@atexit.register
def _stop_fork_server() -> None:
    global _SERVER
    if _SERVER is not None:
        _SERVER.close()
        _SERVER = None


async def _readable(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    """Wait until ``sock`` has something to read."""
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(sock.fileno(), wake)
    try:
        await ready
    finally:
        loop.remove_reader(sock.fileno())


class ReaderUnavailable(RuntimeError):
    """The fork server could not be started or did not answer."""


# What the fork server keeps of the daemon's environment: what Python and the C library
# need. The daemon's may hold notification secrets (systemd's EnvironmentFile), and the
# readers parse hostile pages. And glibc's malloc, which gave a reader's free heap back past
# 128 KiB and faulted it in again for every page (200 faults), keeps 16 MiB of it.
_READER_ENVIRONMENT = ("PATH", "LANG", "LANGUAGE", "TZ", "HOME")
_MALLOC_TUNABLES = "glibc.malloc.trim_threshold=16777216:glibc.malloc.mmap_threshold=4194304"


def _reader_environment() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if name in _READER_ENVIRONMENT or name.startswith(("LC_", "PYTHON"))
    } | {"GLIBC_TUNABLES": _MALLOC_TUNABLES}
