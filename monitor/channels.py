"""The Apprise boundary: notification URLs in, a delivered-or-not verdict out.

Apprise is the notifier registry (Telegram, email, ntfy, ... any URL it knows). This module
adds one scheme of its own, ``console://``, which prints the message on standard output for
the demo and for people who run ``price-monitor check`` by hand. It is sent here, not
through Apprise: Apprise imports every one of its plugins to look up any scheme (a third
of a second), which a ``check`` that only prints would pay for nothing. URLs hold tokens and
passwords, so they are only ever shown the way ``Apprise.urls(privacy=True)`` shows them,
with the secrets Apprise leaves in a generic webhook's path and headers masked too
(``monitor.redact``); Apprise's own log lines and the errors of a send are redacted of every
configured target's secrets.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote

from monitor.redact import private_url, redact, url_secrets

logger = logging.getLogger(__name__)


class _Redactor(logging.Filter):
    """Masks the configured targets' secrets in Apprise's log records: at debug it logs the
    URL it posts to, and an exception's text may quote it. On the ``apprise`` logger, so its
    own capture of a send's warnings (``_why``) sees the masked text too."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def add(self, secrets: Iterable[str]) -> None:
        self.secrets |= set(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            clean = redact(message, self.secrets)
            if clean != message:
                record.msg, record.args = clean, ()
        return True


_REDACTOR = _Redactor()
logging.getLogger("apprise").addFilter(_REDACTOR)
_DELIMITERS = re.compile(r"[/@:?&=]")


def _hidden_by_apprise(plain: str, shown: str) -> set[str]:
    """Return what Apprise masked in its privacy URL ``shown`` of ``plain``: the tokens of
    the services it knows, found piece by piece."""
    pieces, masked = _DELIMITERS.split(plain), _DELIMITERS.split(shown)
    if len(pieces) != len(masked):
        return set()
    return {unquote(p) for p, m in zip(pieces, masked, strict=True) if p != m}


if TYPE_CHECKING:
    import apprise

CONSOLE_RULE = "─" * 60
CONSOLE = "console://"  # how a console URL is shown, whatever follows its scheme


def is_console(url: str) -> bool:
    """Return True for a ``console://`` URL: ours, printed on standard output."""
    return url.split("://", 1)[0].lower() == "console" and "://" in url


def print_to_console(title: str, body: str) -> None:
    """Print a notification to standard output: title, a rule, the body."""
    sys.stdout.write(f"\n{CONSOLE_RULE}\n{title}\n{CONSOLE_RULE}\n{body}\n{CONSOLE_RULE}\n")
    sys.stdout.flush()


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


def _why(result: Any, clean: Callable[[str], str]) -> str:
    """Return Apprise's own last warning for a failed send, ``clean``-ed of secrets before it
    is cut short (a cut secret could not be found), or its status."""
    status: str = result.status.name.lower()
    try:
        warnings = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR")]
    except Exception:  # the log API is a convenience; the status is what counts
        warnings = []
    return f"{status}: {clean(warnings[-1])[:160]}" if warnings else status


def has_secret(url: str) -> bool:
    """Return True when a notification URL, as written, carries a token or a password:
    one Apprise masks, or one in a webhook's path, user name or credential headers
    (``json://host/hook/8f3a…``, ``?+Authorization=…``, see ``monitor.redact``).

    A URL whose secrets are all ``${NAME}`` references carries none itself.
    """
    if url_secrets(url):
        return True
    if is_console(url):
        return False
    if "://" not in url or "${" in url.split("://", 1)[1].split("/", 1)[0]:
        return False
    import apprise

    with _apprise_silenced():
        apobj = apprise.Apprise()
        if not apobj.add(url):
            return False
        shown: str = apobj.urls(privacy=True)[0]
        plain: str = apobj.urls(privacy=False)[0]
    return shown != plain


def is_valid_url(url: str) -> bool:
    """Return True when Apprise knows how to send to ``url``, or when it is ``console://``."""
    if is_console(url):
        return True
    import apprise

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


@dataclass(frozen=True, slots=True)
class Recipient:
    """One notification target: a stable key (never the URL: it holds secrets) and a name."""

    key: str
    name: str
    tags: tuple[str, ...]
    markdown: bool  # renders Markdown (Telegram, Discord, …): gets the Markdown body
    email: bool  # gets attachments and a plain-text body
    pictures: bool = False  # shows an attached image (Telegram: a photo): gets the chart


# Services whose messages render Markdown; everything else gets plain text.
MARKDOWN_SCHEMES = frozenset({"tgram", "discord", "matrix", "matrixs", "slack", "mmost", "mmosts"})
EMAIL_SCHEMES = frozenset({"mailto", "mailtos"})
# Services that show an attached picture: they get an alert's chart, not its saved page.
PICTURE_SCHEMES = frozenset({"tgram"})
PICTURES = (".png",)


def shows_pictures(url: str) -> bool:
    """Return True when the service of a notification URL shows an attached chart (email
    attaches it, Telegram sends it as a photo): only then is one worth drawing."""
    return url.split("://", 1)[0].lower() in EMAIL_SCHEMES | PICTURE_SCHEMES


class Notifier:
    """Sends messages to the configured Apprise URLs, one target at a time; never raises."""

    def __init__(self, targets: Sequence[Target]) -> None:
        # Each target with its Apprise object; None for console://, which is printed here.
        self._targets: list[tuple[Recipient, apprise.Apprise | None]] = []
        self._secrets: set[str] = set()
        seen: dict[str, int] = {}
        for target in targets:
            scheme = target.url.split("://", 1)[0].lower()
            if is_console(target.url):
                one, by_apprise, plain = None, CONSOLE, CONSOLE
            else:
                one = _apprise_target(target.url)
                if one is None:
                    # The config check refuses such a URL; a Notifier built from anything else
                    # says so rather than leave a target out without a word.
                    logger.error(
                        "a notification URL Apprise cannot read (%s://) is left out", scheme
                    )
                    continue
                by_apprise = one.urls(privacy=True)[0]
                plain = one.urls(privacy=False)[0]
            shown = private_url(by_apprise)  # the same as Apprise's but for webhooks
            name = private_url(by_apprise, query=False)
            secrets = url_secrets(target.url) | url_secrets(plain)
            secrets |= _hidden_by_apprise(plain, by_apprise)
            _REDACTOR.add(secrets)
            # The key records who received an alert, in the database: it is made from the URL
            # with its secrets masked, so the database holds nothing to guess them from.
            # Two targets that look the same once masked are told apart by their order.
            seen[shown] = seen.get(shown, 0) + 1
            key = hashlib.sha256(f"{shown}#{seen[shown]}".encode()).hexdigest()[:16]
            recipient = Recipient(
                key=key,
                name=name,
                tags=tuple(target.tags),
                markdown=scheme in MARKDOWN_SCHEMES,
                email=scheme in EMAIL_SCHEMES,
                pictures=scheme in PICTURE_SCHEMES,
            )
            self._targets.append((recipient, one))
            self._secrets |= secrets

    def __len__(self) -> int:
        return len(self._targets)

    def describe(self) -> list[str]:
        """Return the targets with their secrets masked, for logs and ``status``."""
        return [recipient.name for recipient, _ in self._targets]

    def redact(self, text: str) -> str:
        """Return ``text`` (an error, a log line) with every target's secrets masked."""
        return redact(text, self._secrets)

    def recipients(self, tags: Sequence[str] = (), *, everyone: bool = False) -> list[Recipient]:
        """Return the targets of an alert about orders with ``tags``: every untagged URL, and
        each tagged URL that carries one of the tags (``everyone``: all of them, for what
        concerns the whole config)."""
        return [r for r, _ in self._targets if everyone or not r.tags or set(tags) & set(r.tags)]

    def no_recipient_reason(self, tags: Sequence[str]) -> str:
        if not self._targets:
            return "no notification URL configured ([notify] urls)"
        if not tags:
            return "every notification URL is tagged, and the alert's orders have no tags"
        return f"no notification URL carries the tags {', '.join(tags)}"

    async def send(
        self,
        recipient: Recipient,
        title: str,
        body: str,
        *,
        markdown: str | None = None,
        attachments: Sequence[str] = (),
    ) -> SendResult:
        """Deliver one message to one target: Markdown where it renders, else plain text."""
        found = [a for r, a in self._targets if r.key == recipient.key]
        if not found:
            return SendResult(False, "the target is no longer configured")
        one = found[0]
        use_markdown = recipient.markdown and markdown is not None
        text = markdown if use_markdown and markdown is not None else body
        if one is None:
            print_to_console(title, text)
            return SendResult(True)
        attach = [
            a
            for a in attachments
            if (recipient.email or (recipient.pictures and a.endswith(PICTURES)))
            and Path(a).is_file()
        ]
        import apprise

        try:
            result = await one.async_notify(
                body=text,
                title=title,
                body_format=apprise.NotifyFormat.MARKDOWN
                if use_markdown
                else apprise.NotifyFormat.TEXT,
                attach=attach or None,
            )
        except Exception as exc:  # a plugin bug must not take the daemon down
            logger.warning("notification raised %s", type(exc).__name__)
            return SendResult(False, f"notifier raised {type(exc).__name__}")
        if result.status == apprise.AppriseResultStatus.SUCCESS:
            return SendResult(True)
        return SendResult(False, _why(result, self.redact))


def _apprise_target(url: str) -> apprise.Apprise | None:
    """Return an Apprise object that sends to ``url``, or None when Apprise cannot read it."""
    import apprise

    one = apprise.Apprise()
    with _apprise_silenced():
        return one if one.add(url) else None
