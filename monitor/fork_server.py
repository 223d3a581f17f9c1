"""The fork server and its workers: the processes that read pages (``monitor.reader``).

``python -m monitor.fork_server FD`` imports the extraction code once, then forks a worker
for every request on the control socket FD. It imports nothing else of the daemon (no
asyncio, no database, no Apprise): what a worker inherits is what reading a page needs.
The garbage collector is off while the extraction code loads, and what it loaded is
frozen before the first fork (``gc.freeze``), as the ``gc`` docs advise for a parent that
forks: a worker's collections then never walk the modules, and the pages holding them
stay shared with the server instead of being copied into every worker.
"""

from __future__ import annotations

import gc

if __name__ == "__main__":
    gc.disable()  # until the extraction code has loaded: it makes objects, not garbage

import contextlib
import ctypes
import logging
import mmap
import os
import pickle
import resource
import signal
import socket
import struct
import sys
from collections.abc import Callable
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

HEADER = struct.Struct("!II?")  # the pickled part's length, the text's, and where the text is
ANSWER = struct.Struct("!I")
FORK = struct.Struct("!Q")  # a request for a worker: its memory limit
# A worker's page region: memory it shares with the daemon, which writes each page's text
# there for it to read (a page sent through the socket cost both sides a copy into the
# kernel and out again, 0.1-0.2 ms of CPU per 150 KB page). A longer text goes through the
# socket after the header.
REGION = 8 * 1024 * 1024


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
    server = os.getpid()
    with contextlib.suppress(OSError):
        while request := stream.read(FORK.size):
            (memory_limit,) = FORK.unpack(request)
            ours, theirs = socket.socketpair()
            region = _page_region()
            # Not reaped before its pidfd is taken: until then its pid could be another's.
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
            try:
                pid = os.fork()
                if pid == 0:
                    _die_with(server)
                    stream.close()
                    control.close()
                    ours.close()
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
                    try:
                        _serve(theirs, memory_limit, region)
                    except Exception:
                        logger.exception("a page reader failed")
                    finally:
                        os._exit(0)
                pidfd = _pidfd_of(pid)
            finally:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
            theirs.close()
            # The worker's pid, then which of its region and its pidfd follow its socket.
            fds = [ours.fileno()]
            message = f"{pid} {int(region is not None)} {int(pidfd is not None)}"
            fds += [fd for fd in (region, pidfd) if fd is not None]
            try:
                socket.send_fds(control, [message.encode()], fds)
            finally:
                ours.close()
                for fd in (region, pidfd):
                    if fd is not None:
                        os.close(fd)


def _page_region() -> int | None:
    """A new worker's page region (a memfd of ``REGION`` bytes), or None where the kernel
    has none: its pages then go through its socket."""
    try:
        fd = os.memfd_create("price-monitor-page", os.MFD_CLOEXEC)
    except (AttributeError, OSError):
        return None
    try:
        os.ftruncate(fd, REGION)
    except OSError:
        os.close(fd)
        return None
    return fd


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with(server: int) -> None:
    """Have the kernel kill this worker when its fork server ends. The server ends when the
    daemon does, killed or not; a worker left behind would read its page on, for minutes on
    a page built to take them, with nobody waiting for the answer."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux, or no C library to ask
        return
    if os.getppid() != server:  # the server ended before the request took effect
        os._exit(0)


def _pidfd_of(pid: int) -> int | None:
    """A pidfd for the worker ``pid`` (Linux 5.3 and later), or None."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _serve(connection: socket.socket, memory_limit: int, region_fd: int | None) -> None:
    """A worker's life: read a page, answer its verdict, until the daemon hangs up."""
    # Mapped read-only, before the address space is limited: the worker only reads it.
    region = None
    if region_fd is not None:
        region = memoryview(mmap.mmap(region_fd, REGION, prot=mmap.PROT_READ))
        os.close(region_fd)
    _limit_myself(memory_limit)
    stream = connection.makefile("rb")
    while True:
        head = stream.read(HEADER.size)
        if len(head) < HEADER.size:
            return  # the daemon closed the socket
        header_size, body_size, shared = HEADER.unpack(head)
        job, args, kwargs = pickle.loads(stream.read(header_size))
        if isinstance(job, str):
            job = _named(job)
        if shared and region is not None:
            text = str(region[:body_size], "utf-8", "surrogatepass")
        else:
            text = stream.read(body_size).decode("utf-8", "surrogatepass")
        try:
            answer = (False, job(text, *args, **kwargs))
        except Exception as exc:  # a page that trips the parser is one unknown, not a crash
            answer = (True, f"{type(exc).__name__}: {exc}"[:300])
        data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
        connection.sendall(ANSWER.pack(len(data)) + data)


@cache
def _named(job: str) -> Callable[..., Any]:
    """The function a job names, as ``module:function``: the daemon names the reading of a
    page rather than pickle the function, which would have it import the extraction code."""
    module, _, name = job.partition(":")
    function: Callable[..., Any] = getattr(import_module(module), name)
    return function


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
    # What the workers run, loaded once here before the forks (the daemon imports this
    # module for its constants only):
    import monitor.extract.explain
    import monitor.extract.read  # noqa: F401 - a check's

    gc.freeze()
    gc.enable()
    _fork_server(socket.socket(fileno=int(sys.argv[1])))
