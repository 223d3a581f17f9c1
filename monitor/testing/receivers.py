"""Real receivers on 127.0.0.1 for what price-monitor sends.

``JsonReceiver`` takes Apprise's ``json://`` notifications; it can be down (connections
refused on its fixed port), fail, answer late or hang. ``MailSink`` is a real SMTP server
(aiosmtpd, from the test extra). ``NotifySocket`` stands in for systemd's NOTIFY_SOCKET.
Every wait is bounded and ends on an event; a timeout raises AssertionError.
"""

from __future__ import annotations

import email
import email.message
import json
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def _wait(
    changed: threading.Condition, done: Callable[[], bool], timeout: float, why: Callable[[], str]
) -> None:
    """Wait (holding ``changed``) until ``done()``; raise AssertionError saying ``why()`` if not."""
    if not changed.wait_for(done, timeout):
        raise AssertionError(why())


class JsonReceiver:
    """A receiver for Apprise's json:// on a fixed 127.0.0.1 port.

    With ``up=False`` it starts down: its port is bound but not listening, so connections
    are refused, and the URL stays the same when ``up()`` brings it up. Once up it answers
    every request with ``fail_with`` while that is set, answers only after ``delay`` seconds
    (the payload then goes to ``late``, not ``messages``: the sender had given up by then),
    or with ``hang`` holds each request unanswered until ``release()`` and then drops it
    (counted in ``held``).
    """

    def __init__(self, *, up: bool = True, read_timeout: float | None = None) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.read_timeout = read_timeout
        self.messages: list[dict[str, Any]] = []
        self.late: list[dict[str, Any]] = []
        self.requests = 0
        self.held = 0
        self.fail_with: int | None = None
        self.delay = 0.0
        self.hang = False
        self.on_message: Callable[[dict[str, Any]], None] | None = None  # before it answers
        self._release = threading.Event()
        self._changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        if up:
            self.up()

    @property
    def url(self) -> str:
        query = f"?rto={self.read_timeout}" if self.read_timeout else ""
        return f"json://127.0.0.1:{self.port}/alerts{query}"

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length) or b"{}")
                with receiver._changed:
                    receiver.requests += 1
                    hang, delay, status = receiver.hang, receiver.delay, receiver.fail_with or 200
                    release = receiver._release  # this request's: a later release() is not
                    if hang:
                        receiver.held += 1
                    receiver._changed.notify_all()
                if hang:
                    release.wait(60)
                    self.close_connection = True
                    return  # never answered
                if delay:
                    receiver._release.wait(delay)
                with receiver._changed:
                    if status == 200:
                        (receiver.late if delay else receiver.messages).append(payload)
                    receiver._changed.notify_all()
                if receiver.on_message is not None and status == 200:
                    receiver.on_message(payload)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler, bind_and_activate=False)
        server.socket.close()
        server.socket = self._socket
        server.server_activate()
        server.daemon_threads = True
        self._server = server
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def wait_for(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Block until ``count`` messages were received and answered in time; return them all."""
        with self._changed:
            _wait(
                self._changed,
                lambda: len(self.messages) >= count,
                timeout,
                lambda: f"expected {count} notifications, got {len(self.messages)}",
            )
            return list(self.messages)

    def wait_until_held(self, count: int, timeout: float = 20.0) -> None:
        with self._changed:
            _wait(
                self._changed,
                lambda: self.held >= count,
                timeout,
                lambda: f"expected {count} held requests, got {self.held}",
            )

    def release(self) -> None:
        """Let the requests held so far go (dropped); the next ones are held again."""
        with self._changed:
            released, self._release = self._release, threading.Event()
        released.set()

    def close(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        else:
            self._socket.close()


class MailSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller  # the test extra has it

        self.messages: list[email.message.Message] = []
        self._changed = threading.Condition()
        sink = self

        class Handler:
            async def handle_DATA(self, smtp: object, session: object, envelope: Any) -> str:
                message = email.message_from_bytes(envelope.content)
                with sink._changed:
                    sink.messages.append(message)
                    sink._changed.notify_all()
                return "250 OK"

        with socket.socket() as probe:  # aiosmtpd needs a concrete port to check itself
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def url(self, to: str = "me@example.com") -> str:
        return f"mailto://127.0.0.1:{self.port}?from=monitor@example.com&to={to}&mode=insecure"

    def wait_for(self, count: int, timeout: float = 20.0) -> list[email.message.Message]:
        with self._changed:
            _wait(
                self._changed,
                lambda: len(self.messages) >= count,
                timeout,
                lambda: f"expected {count} emails, got {len(self.messages)}",
            )
            return list(self.messages)

    def close(self) -> None:
        self._controller.stop()


class NotifySocket:
    """A real unix datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="pm-notify-")  # unix socket paths must be short
        self.path = str(Path(self._dir) / "notify")
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(self.path)
        self.messages: list[dict[str, str]] = []
        self.arrivals: list[float] = []  # time.monotonic() of each message
        self._changed = threading.Condition()
        threading.Thread(target=self._receive, daemon=True).start()

    def _receive(self) -> None:
        while True:
            try:
                data = self._socket.recv(4096)
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            with self._changed:
                self.messages.append(fields)
                self.arrivals.append(time.monotonic())
                self._changed.notify_all()

    def wait_for(self, key: str, value: str = "1", *, after: int = 0, timeout: float = 20) -> int:
        """Block until a datagram at index >= ``after`` has key=value; return its index."""

        def found() -> int | None:
            for index, message in enumerate(self.messages[after:], start=after):
                if message.get(key) == value:
                    return index
            return None

        with self._changed:
            _wait(
                self._changed,
                lambda: found() is not None,
                timeout,
                lambda: f"no {key}={value} datagram; got {self.messages}",
            )
            index = found()
            assert index is not None
            return index

    def wait_for_status(self, text: str, timeout: float = 20) -> None:
        """Block until a STATUS= datagram contains ``text``."""
        with self._changed:
            _wait(
                self._changed,
                lambda: any(text in m.get("STATUS", "") for m in self.messages),
                timeout,
                lambda: f"no STATUS with {text!r}; got {self.messages}",
            )

    def close(self) -> None:
        self._socket.close()
        Path(self.path).unlink(missing_ok=True)
        Path(self._dir).rmdir()
