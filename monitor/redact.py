"""What a notification URL may show: its secrets masked the way Apprise masks a token.

Apprise's privacy URLs (``Apprise.urls(privacy=True)``) mask the tokens and passwords of the
services it knows (``tgram://1...n/…``, ``mailto://user:****@…``), but its generic webhooks,
``json://``, ``form://``, ``xml://`` and their ``s`` forms, are the user's own URLs, and
Apprise shows their path and their header arguments in full. A webhook's secret is often
exactly there: ``json://host/hook/8f3aC91e…`` or ``json://host/hook?+Authorization=Bearer…``.
So, in a webhook URL:

- a path segment is shown only when it is a plain lowercase word (``alerts``, ``web-hook``,
  ``api``, ``v2``); any other (digits, capitals, a long run: what tokens and ids look like)
  is a secret, as is a user name given without a password;
- the value of a query argument whose name speaks of a credential (``+Authorization``,
  ``+X-Api-Key``, ``-token``, ``:secret``, …) is a secret;

and in any URL a password is one. A secret is shown as ``t...n`` (its first and last
characters; a password as ``****``), and a ``${NAME}`` reference is not a secret.

Every URL the program shows (a log line, the CLI's output, the outbox's stored error) goes
through ``private_url``, or ``redact`` for free text that may quote a URL. This module needs
no Apprise, so the commands that neither fetch nor send can use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, unquote

# Apprise's generic webhook schemes: the whole URL is the user's, and Apprise masks none of it.
WEBHOOK_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})

# A webhook path segment shown as it is: a plain lowercase word, or an API version.
_WORD = re.compile(r"[a-z]{1,16}(?:[-_.][a-z]{1,16}){0,3}|v\d{1,2}")
# A query argument whose value is a credential (Apprise: +header, -GET parameter, :payload).
_CREDENTIAL = re.compile(
    r"auth|key|token|secret|pass|pwd|sig|cookie|session|credential|bearer|jwt", re.IGNORECASE
)
# Already masked (by Apprise or by this module): ``****``, ``t...n``, ``...wxyz``.
_MASKED = re.compile(r"\*{4}|.?\.\.\..{0,4}")

_PLAIN, _OUTER, _HIDDEN = 0, 1, 2  # shown; shown as t...n; shown as ****


def mask(secret: str) -> str:
    """Show a secret as Apprise's privacy URLs do: its first and last characters (``t...n``)."""
    if _MASKED.fullmatch(secret):
        return secret
    return f"{secret[:1]}...{secret[-1:]}"


def _is_secret(piece: str) -> bool:
    text = unquote(piece)
    return bool(text) and "${" not in text and not _MASKED.fullmatch(text)


def _pieces(url: str) -> list[tuple[str, int]]:
    """Split ``url`` into pieces that join back into it, each marked with how it is shown."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return [(url, _PLAIN)]
    webhook = scheme.lower() in WEBHOOK_SCHEMES
    location, ask, query = rest.partition("?")
    netloc, slash, path = location.partition("/")
    out = [(scheme + sep, _PLAIN)]
    userinfo, at, host = netloc.rpartition("@")
    if at:
        user, colon, password = userinfo.partition(":")
        bare_user = webhook and not colon and not _WORD.fullmatch(unquote(user))
        out.append((user, _OUTER if bare_user and _is_secret(user) else _PLAIN))
        if colon:
            out += [(colon, _PLAIN), (password, _HIDDEN if _is_secret(password) else _PLAIN)]
        out.append((at, _PLAIN))
    out.append((host, _PLAIN))
    if slash:
        for segment in path.split("/"):
            hidden = webhook and _is_secret(segment) and not _WORD.fullmatch(unquote(segment))
            out += [("/", _PLAIN), (segment, _OUTER if hidden else _PLAIN)]
    if ask:
        out.append((ask, _PLAIN))
        for i, argument in enumerate(query.split("&")):
            name, eq, value = argument.partition("=")
            credential = webhook and eq and _CREDENTIAL.search(unquote(name))
            if i:
                out.append(("&", _PLAIN))
            out += [
                (name + eq, _PLAIN),
                (value, _OUTER if credential and _is_secret(value) else _PLAIN),
            ]
    return out


def _shown(piece: str, how: int) -> str:
    if how == _HIDDEN:
        return "****"
    if how == _OUTER:
        return quote(mask(unquote(piece)), safe="")
    return piece


def private_url(url: str, *, query: bool = True) -> str:
    """Return ``url`` with every secret masked (``query=False``: without its query, as a
    target is named in logs and output)."""
    pieces = _pieces(url if query else url.split("?", 1)[0])
    return "".join(_shown(piece, how) for piece, how in pieces)


def url_secrets(url: str) -> set[str]:
    """Return the secrets ``url`` holds as written (and percent-decoded), for ``redact``."""
    found = set()
    for piece, how in _pieces(url):
        if how != _PLAIN:
            found |= {piece, unquote(piece)}
    return found


def redact(text: str, secrets: Iterable[str]) -> str:
    """Mask in free ``text`` (an error, a log line) every one of ``secrets``, as written or
    percent-encoded."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) < 3 or _MASKED.fullmatch(secret):
            continue  # too short to tell from ordinary text
        for form in dict.fromkeys((secret, quote(secret, safe=""))):
            text = text.replace(form, mask(secret))
    return text
