"""systemd's notification protocol (sd_notify), spoken directly over its unix socket.

Under ``Type=notify`` systemd sets ``$NOTIFY_SOCKET``; the daemon tells it READY=1 once it
is watching, RELOADING=1 / READY=1 around a config reload, STOPPING=1 on the way out, a
STATUS= line for ``systemctl status``, and WATCHDOG=1 at half of ``$WATCHDOG_USEC``.
Outside systemd every call is a no-op. A failed send is logged, never raised: the daemon's
job matters more than its reports.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

logger = logging.getLogger(__name__)


class SystemdNotifier:
    """Sends sd_notify datagrams to ``$NOTIFY_SOCKET``, if systemd set one."""

    def __init__(self, env: Mapping[str, str] = os.environ) -> None:
        address = env.get("NOTIFY_SOCKET", "")
        # "@name" is an abstract-namespace socket: its real address starts with a NUL byte.
        self._address = "\0" + address[1:] if address.startswith("@") else address
        self._watchdog = _watchdog_seconds(env)
        self._socket: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        return bool(self._address)

    @property
    def watchdog_interval(self) -> float | None:
        """Return how often to send WATCHDOG=1 (half the watchdog timeout), or None."""
        return self._watchdog / 2 if self._watchdog else None

    def notify(self, *fields: str) -> None:
        """Send ``fields`` (e.g. ``"READY=1"``, ``"STATUS=..."``) as one datagram."""
        if not self._address:
            return
        message = "\n".join(field.replace("\n", " ") for field in fields).encode("utf-8")
        try:
            if self._socket is None:
                self._socket = socket.socket(
                    socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC
                )
            self._socket.sendto(message, self._address)
        except OSError as exc:
            logger.debug("sd_notify failed: %s", exc)

    def ready(self, status: str) -> None:
        self.notify("READY=1", f"STATUS={status}")

    def reloading(self) -> None:
        # systemd 253+ wants the monotonic time with RELOADING=1 to order the messages.
        self.notify(
            "RELOADING=1", f"MONOTONIC_USEC={time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}"
        )

    def stopping(self) -> None:
        self.notify("STOPPING=1", "STATUS=stopping")

    def status(self, status: str) -> None:
        self.notify(f"STATUS={status}")

    def watchdog(self) -> None:
        self.notify("WATCHDOG=1")

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _watchdog_seconds(env: Mapping[str, str]) -> float | None:
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid != str(os.getpid()):
        return None  # the watchdog is meant for another process (we were forked or exec'd)
    return int(usec) / 1_000_000
