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
not from the daemon with its threads, sockets and database (``python -m monitor.reader``,
started with the first read): forking is cheap, and a worker that was killed is replaced in
a few milliseconds. The daemon and a worker talk over a socket pair: the page's text as
UTF-8 after a small pickled header (the job, by name, and its arguments), the answer back
pickled. (A general process pool, pebble's, cost 0.7 ms of CPU per 150 KB page in locks,
threads and copies; multiprocessing's forkserver re-imports the daemon's main module in
every worker.)
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import pickle
import resource
import signal
import socket
import struct
import subprocess
import sys
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypeVar, cast

from monitor.extract import Request, extract
from monitor.models import Extraction, Shop, Status

logger = logging.getLogger(__name__)

Answer = TypeVar("Answer")

TIME_LIMIT = timedelta(seconds=10)  # per page, in its worker
MEMORY_LIMIT = 1024 * 1024 * 1024  # bytes of address space a worker may map beyond its start
WORKERS = 2
FORK_TIMEOUT = timedelta(seconds=30)  # for the fork server to start and answer
_HEADER = struct.Struct("!II")  # the pickled part's length, the text's length
_ANSWER = struct.Struct("!I")
_FORK = struct.Struct("!Q")  # a request for a worker: its memory limit


@dataclass(eq=False)  # each worker is itself: hashed by identity
class _Worker:
    pid: int
    pidfd: int | None  # signals reach this process only, even once its pid is reused
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

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
        return await self.run(extract, text, request, shop=shop, url=url, content_type=content_type)

    async def run(
        self, job: Callable[..., Answer], text: str, *args: object, **kwargs: object
    ) -> Answer | Extraction:
        """Return ``job(text, *args, **kwargs)``, run in a worker within the time limit, or
        the ``unknown`` Extraction that says why it could not be. ``job`` is a module-level
        function (it is sent by name) and its answer must pickle."""
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
        job: Callable[..., Answer],
        text: str,
        args: tuple[object, ...],
        kwargs: dict[str, object],
    ) -> Answer | Extraction:
        header = pickle.dumps((job, args, kwargs), pickle.HIGHEST_PROTOCOL)
        body = text.encode("utf-8", "surrogatepass")
        try:
            worker = await self._take()
        except ReaderUnavailable as exc:
            return Extraction(Status.UNKNOWN, reason=str(exc))
        try:
            async with asyncio.timeout(self.time_limit.total_seconds()):
                # One write, so one send: every send wakes the worker, and a wake-up of
                # another process costs more CPU than copying the page once more.
                worker.writer.write(b"".join((_HEADER.pack(len(header), len(body)), header, body)))
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
        pid, pidfd, connection = await _fork_server_of_this_process().fork(self.memory_limit)
        try:
            reader, writer = await asyncio.open_unix_connection(sock=connection)
        except OSError as exc:
            connection.close()
            if pidfd is not None:
                os.close(pidfd)
            raise ReaderUnavailable(f"the page reader did not start: {exc!r}") from exc
        worker = _Worker(pid, pidfd, reader, writer)
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


class _ForkServer:
    """``python -m monitor.reader``: a process that has imported the extraction code and
    forks a worker when asked, handing back the worker's pid and its end of a socket pair.

    One per process, started with the first read (its start costs what importing the
    extraction code does, about 0.3 s of CPU), stopped when the process exits; it exits by
    itself when its parent does.
    """

    def __init__(self) -> None:
        self._control, theirs = socket.socketpair()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "monitor.reader", str(theirs.fileno())],
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

    async def fork(self, memory_limit: int) -> tuple[int, int | None, socket.socket]:
        """Return a new worker's pid, a pidfd for it (None where the kernel has none) and
        the socket to talk to it; the worker may map ``memory_limit`` bytes beyond what it
        starts with."""
        loop = asyncio.get_running_loop()
        asking = self._asking.setdefault(loop, asyncio.Lock())
        async with asking:
            try:
                async with asyncio.timeout(FORK_TIMEOUT.total_seconds()):
                    await loop.sock_sendall(self._control, _FORK.pack(memory_limit))
                    await _readable(loop, self._control)
                    message, fds, _, _ = socket.recv_fds(self._control, 32, 2)
            except BaseException as exc:
                # Its answer may still come, and would be taken as the next question's:
                # this server is done with, and the next fork starts a new one.
                self._broken = True
                if isinstance(exc, OSError | TimeoutError):
                    raise ReaderUnavailable(f"the page reader did not start: {exc!r}") from exc
                raise
        if not fds:
            raise ReaderUnavailable("the page reader did not start (see its log lines)")
        connection = socket.socket(fileno=fds[0])
        connection.setblocking(False)
        return int(message), (fds[1] if len(fds) > 1 else None), connection

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


# --- in the fork server and its workers -----------------------------------------------------


def _fork_server(control: socket.socket) -> None:
    """Fork a worker for every request on ``control``, until it closes (or its other end is
    gone: the daemon exited while it asked)."""
    # Workers are waited for as they end, not left to the kernel (SIG_IGN): so their CPU time
    # counts in this server's, and in the daemon's once it waits for the server (`time`).
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stream = control.makefile("rb", buffering=0)
    try:
        _fork_workers(control, stream)
    finally:
        # The daemon is gone or done: its workers' sockets are closed, and they end. Wait
        # for them a while, then leave the rest to the kernel.
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.alarm(5)
        with contextlib.suppress(ChildProcessError):
            while True:
                os.wait()


def _reap(signum: int, frame: object) -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _fork_workers(control: socket.socket, stream: socket.SocketIO) -> None:
    with contextlib.suppress(OSError):
        while request := stream.read(_FORK.size):
            (memory_limit,) = _FORK.unpack(request)
            ours, theirs = socket.socketpair()
            # Not reaped before its pidfd is taken: until then its pid could be another's.
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
            try:
                pid = os.fork()
                if pid == 0:
                    stream.close()
                    control.close()
                    ours.close()
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
                    try:
                        _serve(theirs, memory_limit)
                    except Exception:
                        logger.exception("a page reader failed")
                    finally:
                        os._exit(0)
                pidfd = _pidfd_of(pid)
            finally:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
            theirs.close()
            fds = [ours.fileno()]
            if pidfd is not None:
                fds.append(pidfd)
            try:
                socket.send_fds(control, [str(pid).encode()], fds)
            finally:
                ours.close()
                if pidfd is not None:
                    os.close(pidfd)


def _pidfd_of(pid: int) -> int | None:
    """A pidfd for the worker ``pid`` (Linux 5.3 and later), or None."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


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


def _serve(connection: socket.socket, memory_limit: int) -> None:
    """A worker's life: read a page, answer its verdict, until the daemon hangs up."""
    _limit_myself(memory_limit)
    stream = connection.makefile("rb")
    while True:
        head = stream.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return  # the daemon closed the socket
        header_size, body_size = _HEADER.unpack(head)
        job, args, kwargs = pickle.loads(stream.read(header_size))
        text = stream.read(body_size).decode("utf-8", "surrogatepass")
        try:
            answer = (False, job(text, *args, **kwargs))
        except Exception as exc:  # a page that trips the parser is one unknown, not a crash
            answer = (True, f"{type(exc).__name__}: {exc}"[:300])
        data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
        connection.sendall(_ANSWER.pack(len(data)) + data)


def _limit_myself(memory_limit: int) -> None:
    """A bounded address space, a lower priority, the OOM killer's first choice, and no
    Ctrl-C of its own (the daemon decides when workers stop).

    The systemd units forbid setrlimit and setpriority (``SystemCallFilter=~@resources``):
    there the unit's ``MemoryMax=`` bounds the pages, and when a page reaches it the kernel
    kills the worker reading it, not the daemon (``OOMPolicy=continue`` keeps the service).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.nice(5)
    with contextlib.suppress(OSError):
        Path("/proc/self/oom_score_adj").write_text("1000")  # raising it needs no privilege
    if not memory_limit:
        return
    # Even reading the limit is refused where prlimit64 is filtered (older systemd's
    # @resources): a worker that cannot limit itself still reads pages.
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        wanted = _mapped_bytes() + memory_limit
        if hard != resource.RLIM_INFINITY:
            wanted = min(wanted, hard)
        if soft == resource.RLIM_INFINITY or wanted < soft:
            resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


def _mapped_bytes() -> int:
    """Return the address space this process has mapped (its VmSize), 0 if unknown."""
    try:
        pages = Path("/proc/self/statm").read_text().split()[0]
        return int(pages) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


if __name__ == "__main__":
    _fork_server(socket.socket(fileno=int(sys.argv[1])))
