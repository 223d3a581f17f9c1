"""The Apprise boundary: notification URLs in, a delivered-or-not verdict out.

Apprise is the notifier registry (Telegram, email, ntfy, ... any URL it knows). This module
adds one scheme of its own, ``console://``, which prints the message on standard output for
the demo and for people who run ``price-monitor check`` by hand. URLs hold tokens and
passwords, so they are only ever shown the way ``Apprise.urls(privacy=True)`` shows them.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

import apprise
from apprise.decorators import notify as apprise_notify

logger = logging.getLogger(__name__)

CONSOLE_RULE = "─" * 60

_F = TypeVar("_F", bound=Callable[..., Any])
# Apprise's decorator is untyped; it registers the function and returns it unchanged.
_register = cast(Callable[..., Callable[[_F], _F]], apprise_notify)


@_register(on="console", name="Console (standard output)")
def _console(body: str, title: str, *args: Any, **kwargs: Any) -> bool:
    """Print a notification to standard output: title, a rule, the body."""
    sys.stdout.write(f"\n{CONSOLE_RULE}\n{title}\n{CONSOLE_RULE}\n{body}\n{CONSOLE_RULE}\n")
    sys.stdout.flush()
    return True


class Target(Protocol):
    """A notification URL with optional routing tags (``config.NotifyTarget`` is one)."""

    @property
    def url(self) -> str: ...

    @property
    def tags(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class SendResult:
    """Whether Apprise delivered a message, and if not, a short reason safe to log."""

    ok: bool
    error: str = ""


def has_secret(url: str) -> bool:
    """Return True when a notification URL, as written, carries a token or a password.

    A URL whose secrets are all ``${NAME}`` references carries none itself.
    """
    if "://" not in url or "${" in url.split("://", 1)[1].split("/", 1)[0]:
        return False
    with _apprise_silenced():
        apobj = apprise.Apprise()
        if not apobj.add(url):
            return False
        shown: str = apobj.urls(privacy=True)[0]
        plain: str = apobj.urls(privacy=False)[0]
    return shown != plain


def is_valid_url(url: str) -> bool:
    """Return True when Apprise knows how to send to ``url``."""
    with _apprise_silenced():
        return bool(apprise.Apprise().add(url))


@contextmanager
def _apprise_silenced() -> Iterator[None]:
    # Apprise logs a URL it cannot parse in full, token and password included.
    apprise_logger = logging.getLogger("apprise")
    level = apprise_logger.level
    apprise_logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        apprise_logger.setLevel(level)


class Notifier:
    """Sends messages to the configured Apprise URLs; never raises on a failed send."""

    def __init__(self, targets: Sequence[Target]) -> None:
        self._apprise = apprise.Apprise()
        for target in targets:
            self._apprise.add(target.url, tag=list(target.tags) or None)

    def __len__(self) -> int:
        return len(self._apprise)

    def describe(self) -> list[str]:
        """Return the targets with their secrets masked, for logs and ``status``."""
        urls: list[str] = self._apprise.urls(privacy=True)
        return [u.split("?", 1)[0] for u in urls]

    async def send(self, title: str, body: str, *, tags: Sequence[str] = ()) -> SendResult:
        """Given a title and body, deliver them to every target (or those with ``tags``)."""
        if not len(self._apprise):
            return SendResult(False, "no notification URL configured ([notify] urls)")
        tag: Any = list(tags) if tags else apprise.common.MATCH_ALL_TAG
        try:
            result = await self._apprise.async_notify(
                body=body, title=title, tag=tag, body_format=apprise.NotifyFormat.TEXT
            )
        except Exception as exc:  # a plugin bug must not take the daemon down
            logger.warning("notification raised %s", type(exc).__name__)
            return SendResult(False, f"notifier raised {type(exc).__name__}")
        status = result.status
        if status == apprise.AppriseResultStatus.SUCCESS:
            return SendResult(True)
        if status == apprise.AppriseResultStatus.NOMATCH:
            return SendResult(False, f"no notification URL carries the tags {', '.join(tags)}")
        failed = [r.name for r in result if r.status != apprise.AppriseResultStatus.SUCCESS]
        return SendResult(False, f"{status.name.lower()}: {', '.join(failed) or 'no service'}")
