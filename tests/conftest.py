"""The real components every test may ask for, from ``monitor.testing``: a loopback shop,
notification receivers, an SMTP sink, and the daemon as a process of its own."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from monitor.testing import DaemonProcess, JsonReceiver, LoopbackShop, MailSink

# The machine's zone is the user's by default. The suite runs in UTC wherever it runs; a test
# about the user's zone sets its own.
os.environ["TZ"] = "UTC"
time.tzset()


@pytest.fixture
def shop() -> Iterator[LoopbackShop]:
    with LoopbackShop() as loopback:
        yield loopback


@pytest.fixture
def receiver() -> Iterator[JsonReceiver]:
    """A json:// receiver that is up and answers at once."""
    r = JsonReceiver()
    yield r
    r.close()


@pytest.fixture
def flaky_receiver() -> Iterator[Callable[..., JsonReceiver]]:
    """Make json:// receivers that start down (``up()`` brings one up on the same URL)."""
    made: list[JsonReceiver] = []

    def make(**kwargs: Any) -> JsonReceiver:
        made.append(JsonReceiver(up=False, **kwargs))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture
def mail() -> Iterator[MailSink]:
    sink = MailSink()
    yield sink
    sink.close()


@pytest.fixture
def daemon_process(tmp_path: Path) -> Iterator[Callable[..., DaemonProcess]]:
    """Start the real `price-monitor run` on a config; every one is stopped at the end."""
    started: list[DaemonProcess] = []

    def start(config: Path, env: Mapping[str, str] | None = None) -> DaemonProcess:
        started.append(DaemonProcess(config, tmp_path / f"daemon{len(started)}.log", env))
        return started[-1]

    yield start
    for daemon in started:
        daemon.close()
