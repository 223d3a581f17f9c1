"""Read ``config.toml`` into a ``Config``, or raise ConfigError listing every problem at once."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import tomli  # tomllib as a compiled wheel: every command reads the config
from pydantic import ValidationError

from monitor.config.context import ReadContext
from monitor.config.lines import key_lines, line_of
from monitor.config.problems import problems_of
from monitor.config.schema import Config
from monitor.errors import ConfigError, Problem
from monitor.models.values import Location


def load_config(
    path: Path, *, env: Mapping[str, str] = os.environ, thorough: bool = True
) -> Config:
    """Given a path to config.toml, return the validated Config. Raise ConfigError if not.

    With ``thorough=False`` the checks that need the HTML parser and Apprise (a selector's
    syntax, whether Apprise knows a notification URL's scheme, whether a file others can
    read holds secrets) are skipped: for commands that neither fetch nor send, so that they
    start fast. Every other problem is reported.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            str(path),
            [Problem("", "file not found; `price-monitor config init` writes an example there")],
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [Problem("", f"cannot read the file: {exc}")]) from None
    return parse_config(text, path=path, env=env, thorough=thorough)


def parse_config(
    text: str, *, path: Path, env: Mapping[str, str] = os.environ, thorough: bool = True
) -> Config:
    """Given the text of a config file, return the Config. Raise ConfigError listing all problems."""
    try:
        raw = tomli.loads(text, parse_float=Decimal)
    except tomli.TOMLDecodeError as exc:
        raise ConfigError(path.name, [Problem("", f"not valid TOML: {exc}")]) from None
    # Only Apprise knows which part of a URL is a secret; the commands that load it warn.
    warnings = _secret_exposure(path, raw) if thorough else []
    context = ReadContext(path=path, env=env, thorough=thorough, warnings=warnings)
    try:
        return Config.model_validate(raw, context=context)
    except ValidationError as exc:
        lines = key_lines(text)

        def locate(loc: Location) -> tuple[int | None, str | None]:
            return line_of(lines, loc), _order_id_at(raw, loc)

        raise ConfigError(path.name, problems_of(exc, Config, locate=locate)) from None


def _order_id_at(raw: Mapping[str, Any], loc: Location) -> str | None:
    """The id an ``[[orders]]`` table gives itself, for a problem at ``orders[N]...``."""
    orders = raw.get("orders")
    if len(loc) < 2 or loc[0] != "orders" or not isinstance(loc[1], int):
        return None
    if not isinstance(orders, list) or not 0 <= loc[1] < len(orders):
        return None
    order = orders[loc[1]]
    value = order.get("id") if isinstance(order, dict) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


def _secret_exposure(path: Path, raw: Mapping[str, Any]) -> list[str]:
    """Warn when a file that holds notification secrets can be read by other users.

    A secret is what Apprise masks (a bot token, a password) and what it does not: a
    webhook's path token (``json://host/hook/8f3a…``) and its credential headers
    (``?+Authorization=…``, ``+X-Api-Key=…``), as ``monitor.redact`` tells them.
    """
    try:
        mode = path.stat().st_mode
    except OSError:
        return []
    if not mode & stat.S_IROTH:
        return []
    notify = raw.get("notify")
    urls = notify.get("urls", []) if isinstance(notify, dict) else []
    literal = (
        [u.get("url") if isinstance(u, dict) else u for u in urls] if isinstance(urls, list) else []
    )
    from monitor import channels  # Apprise knows which part of a URL is a secret

    if not any(isinstance(u, str) and channels.has_secret(u) for u in literal):
        return []
    return [
        "the file is readable by other users and holds notification tokens or passwords: "
        "chmod 600 it, or move the secrets into environment variables (${NAME} in the URL)"
    ]
