"""Log lines with times in the user's zone, and quiet third-party libraries.

The time zone is the machine's until a config is loaded, then ``[monitor] timezone``.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

NOISY = ("apscheduler", "httpx", "httpcore", "apprise")  # Apprise may name targets at debug


class ZoneFormatter(logging.Formatter):
    """A formatter that stamps each line in ``zone`` (None: the machine's local time)."""

    zone: ZoneInfo | None = None

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, self.zone).astimezone(self.zone)
        return moment.strftime(datefmt or "%Y-%m-%d %H:%M:%S%z")


ECHOED = {"echoed": True}
"""``extra=`` for a log line that a command also prints in its own words (``check``'s line
per product): the daemon logs it; the command that prints it leaves it out of the log it
writes to the same terminal (``leave_out_echoed``), so that no line is said twice."""


class _NotEchoed(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "echoed", False)


def leave_out_echoed() -> None:
    """Leave the lines marked ``ECHOED`` out of the log from now on: the command prints them."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(_NotEchoed())


def setup_logging(verbose: int) -> None:
    """Log warnings (``verbose``: the project's debug lines, 2: the libraries' too) to stderr."""
    # journald stamps every line itself; elsewhere a timestamp helps.
    fmt = "%(levelname)s %(name)s: %(message)s"
    if not os.environ.get("JOURNAL_STREAM"):
        fmt = "%(asctime)s " + fmt
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ZoneFormatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("monitor").setLevel(logging.DEBUG if verbose else logging.WARNING)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)


def log_times_in(zone: ZoneInfo) -> None:
    """Stamp the log lines from now on in ``zone``: the user's, once the config is read."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler.formatter, ZoneFormatter):
            handler.formatter.zone = zone
