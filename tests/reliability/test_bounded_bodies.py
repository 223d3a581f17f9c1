"""Every way a shop can encode a body is bounded by the body cap: `price-monitor probe` of a
bomb exits cleanly (1: the page could not be read), says why it stopped, and stays small.

Each probe is the real command in a child process under an address-space limit (RLIMIT_AS),
so a regression fails this test instead of taking the machine down; the child's peak RSS is
read from ``os.wait4`` by a small wrapper process, so that it is that one child's peak only.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitor.fetch import MAX_BYTES
from tests.reliability.conftest import Connection, RawServer, gzip_bomb

MIB = 1 << 20
GIB = 1 << 30
ADDRESS_SPACE = GIB  # the child's RLIMIT_AS
PEAK_RSS = 150 * MIB  # what a probe of any bomb may peak at
STOPPED = f"page is over the {MAX_BYTES}-byte cap; stopped reading"
CHUNK = b"<p>" + b"x" * 65530 + b"</p>"


@functools.cache
def deflate_bomb(size: int = GIB, *, wrapped: bool) -> bytes:
    """Return a deflate stream of ``size`` zero bytes, zlib-wrapped (RFC 1950) or raw (1951),
    built the way ``gzip_bomb`` is: one full-flushed block of a MiB of zeros, repeated."""
    mib = bytes(MIB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(mib) + deflate.flush(zlib.Z_FULL_FLUSH)
    body = block * (size // MIB) + deflate.flush()
    if not wrapped:
        return body
    adler = 1
    for _ in range(size // MIB):
        adler = zlib.adler32(mib, adler)
    return b"\x78\xda" + body + struct.pack(">I", adler)


def send_body(body: bytes, **head: str | int) -> Callable[[Connection], None]:
    """Answer with ``head`` and ``body`` in one write (the first read holds a full buffer)."""

    def behave(conn: Connection) -> None:
        conn.send(conn.head_bytes("200 OK", **head) + body)

    return behave


def endless(**head: str | int) -> Callable[[Connection], None]:
    """Answer with ``head``, then up to a GiB of markup, for as long as the client reads."""

    def behave(conn: Connection) -> None:
        if conn.head("200 OK", **head):
            for _ in range(GIB // len(CHUNK)):
                if not conn.send(CHUNK):
                    return

    return behave


@functools.cache
def gzip_of_gzip() -> bytes:
    return gzip.compress(gzip_bomb(), compresslevel=9)


@dataclass(frozen=True)
class Bomb:
    behaviour: Callable[[], Callable[[Connection], None]]
    verdict: str  # the reason `probe` must print for its unknown verdict
    read: bool = False  # a page was read (exit 0), or the body was refused (exit 1)


BOMBS = {
    "gzip": Bomb(
        lambda: send_body(gzip_bomb(), Content_Encoding="gzip", Content_Length=len(gzip_bomb())),
        STOPPED,
    ),
    "deflate-zlib-wrapped": Bomb(
        lambda: send_body(
            b := deflate_bomb(wrapped=True), Content_Encoding="deflate", Content_Length=len(b)
        ),
        STOPPED,
    ),
    "deflate-raw": Bomb(
        lambda: send_body(
            b := deflate_bomb(wrapped=False), Content_Encoding="deflate", Content_Length=len(b)
        ),
        STOPPED,
    ),
    "gzip-of-gzip": Bomb(
        lambda: send_body(
            b := gzip_of_gzip(), Content_Encoding="gzip, gzip", Content_Length=len(b)
        ),
        "unsupported Content-Encoding: gzip, gzip (more than one coding)",
    ),
    "identity-then-gzip": Bomb(
        lambda: send_body(
            gzip_bomb(), Content_Encoding="identity, gzip", Content_Length=len(gzip_bomb())
        ),
        STOPPED,
    ),
    "identity-without-length": Bomb(lambda: endless(Connection="close"), STOPPED),
    # A length under the cap on a body that inflates far past it.
    "gzip-lying-length": Bomb(
        lambda: send_body(gzip_bomb(), Content_Encoding="gzip", Content_Length=MAX_BYTES - 1),
        STOPPED,
    ),
    # A short length with a GiB behind it: only the declared bytes are read, as a page.
    "identity-lying-length": Bomb(
        lambda: endless(Content_Length=1000), "no price in the page's structured data", read=True
    ),
}


@dataclass(frozen=True)
class Run:
    code: int
    output: str
    peak_rss: int  # bytes


# A fresh, small process starts the probe under the limit and reports on it. Linux counts
# the RSS a process had before it exec'd in its peak, so a probe started straight from the
# test run (already large) would report the test run's peak instead of its own.
WRAPPER = f"""\
import json, os, resource, signal, subprocess, sys

def limit():
    resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE}))

report, url = sys.argv[1:]
child = subprocess.Popen([sys.executable, "-m", "monitor", "probe", url], preexec_fn=limit)
signal.signal(signal.SIGALRM, lambda *_: child.kill())  # a hung probe is killed, then reaped
signal.alarm(60)
_, status, usage = os.wait4(child.pid, 0)
with open(report, "w") as out:
    json.dump({{"code": os.waitstatus_to_exitcode(status), "peak": usage.ru_maxrss * 1024}}, out)
"""


def probe_in_a_box(url: str, home: Path) -> Run:
    """Run `python -m monitor probe URL` under RLIMIT_AS; return its exit code, output and
    peak RSS (``os.wait4``'s figure for that one process, read by the wrapper that reaped it)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PRICE_MONITOR_CONFIG", "CONFIGURATION_DIRECTORY", "STATE_DIRECTORY")
    }
    env.update(XDG_CONFIG_HOME=str(home / "config"), XDG_STATE_HOME=str(home / "state"))
    report = home / "report.json"
    wrapper = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(report), url],
        capture_output=True,
        env=env,
        cwd=home,
        timeout=90,
        check=False,
    )
    output = wrapper.stdout.decode("utf-8", "replace") + wrapper.stderr.decode("utf-8", "replace")
    assert wrapper.returncode == 0, output
    result = json.loads(report.read_text("utf-8"))
    return Run(result["code"], output, result["peak"])


@pytest.mark.parametrize("bomb", [pytest.param(b, id=name) for name, b in BOMBS.items()])
def test_a_probe_of_a_bomb_stops_at_the_cap_in_bounded_memory(
    bomb: Bomb,
    tmp_path: Path,
    raw_server: Callable[[Callable[[Connection], None]], RawServer],
) -> None:
    server = raw_server(bomb.behaviour())
    run = probe_in_a_box(server.url(), tmp_path)
    print(f"peak RSS {run.peak_rss / MIB:.1f} MiB")  # shown with -s: the figure in the report
    assert run.code == (0 if bomb.read else 1), run.output  # 1: it says it could not read it
    assert "Traceback" not in run.output and "MemoryError" not in run.output, run.output
    assert f"verdict   unknown: {bomb.verdict}" in run.output, run.output
    assert server.requests == 1  # a refusal is not worth another try
    assert run.peak_rss < PEAK_RSS, f"peak RSS {run.peak_rss / MIB:.0f} MiB"
