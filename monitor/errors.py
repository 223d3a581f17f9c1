"""Errors the library raises; the CLI is the only place that turns them into exit codes.

MonitorError                 base: anything the user can act on
├── ConfigError              the config file is missing or invalid (every problem listed)
├── FetchError               a page could not be fetched (network, HTTP status, size cap)
└── StateError               the state database is unusable or an order is unknown
    ├── DatabaseLocked       another process held the write lock too long
    ├── DiskFull             the database cannot be written: no space left
    └── DatabaseMoved        the database file was deleted or replaced under the daemon
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field


class MonitorError(Exception):
    """Base class for errors with a message meant for the user."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a config file, at a TOML path such as ``orders[2].paid``.

    ``line`` is where the file says it (the key's line, else its table's), and ``order_id``
    the id of the order it is in: both only help find it, and neither is part of the
    problem itself (``str()``, equality and the refused-config alert's key leave them out).
    """

    path: str
    message: str
    line: int | None = field(default=None, compare=False)
    order_id: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    @property
    def where(self) -> str:
        """The TOML path with the order's id after its index: ``orders[3] (id "JD-1").paid``."""
        if self.order_id is None or not self.path.startswith("orders["):
            return self.path
        index, _, rest = self.path.partition("]")
        return f"{index}] (id {json.dumps(self.order_id, ensure_ascii=False)}){rest}"

    def located(self, source: str) -> str:
        """Return the problem as one line: ``config.toml:42: orders[3] (id "JD-1").paid: …``."""
        at = f"{source}:{self.line}" if self.line is not None else source
        return f"{at}: {self.where}: {self.message}" if self.path else f"{at}: {self.message}"


class ConfigError(MonitorError):
    """The config file cannot be used; ``problems`` lists every reason at once."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__(self.render())

    def render(self) -> str:
        """Return one line per problem, each prefixed with the file name."""
        count = len(self.problems)
        head = f"{self.source}: {count} problem{'s' if count != 1 else ''}"
        return "\n".join([head, *(f"  {p.located(self.source)}" for p in self.problems)])


class FetchError(MonitorError):
    """A page could not be fetched; ``reason`` is short and safe to log.

    ``retryable`` marks failures worth another try soon (network errors, timeouts, 429,
    5xx); ``retry_after`` is the wait the shop asked for, in seconds, when it said one.
    """

    def __init__(
        self, reason: str, *, retry_after: float | None = None, retryable: bool = False
    ) -> None:
        self.reason = reason
        self.retry_after = retry_after
        self.retryable = retryable
        super().__init__(reason)


class StateError(MonitorError):
    """The state database cannot be used, or it does not know a requested order."""


class DiskFull(StateError):
    """The database could not be written: the disk (or the file system's quota) is full."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"disk full: cannot write the database at {path}")


class DatabaseMoved(StateError):
    """The database file was deleted or replaced while the daemon had it open: what the
    daemon would write from then on would be lost, or split between two files."""

    def __init__(self, path: str, what: str) -> None:
        self.path = path
        super().__init__(f"the database {path} {what} while the daemon was running")


class DatabaseLocked(StateError):
    """Another process held the database's write lock for longer than we could wait."""

    def __init__(self, *, waited: float, holder: str | None = None) -> None:
        self.waited = waited
        self.holder = holder
        who = f"; {holder} uses it" if holder else ""
        super().__init__(
            f"the database is locked by another process (waited {waited:.1f} s{who}); try "
            "again, or look for a stuck price-monitor or sqlite3 process"
        )
