"""What reading a config needs besides its text, passed to every reader as pydantic's
validation context: the file (relative paths start beside it), the environment (``${NAME}``
in a notification URL), how thorough to be, and what was noticed on the way."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from monitor.models.values import Checks, got


@dataclass(kw_only=True)
class ReadContext(Checks):
    """The context of one config load (``thorough`` is inherited: see ``Checks``)."""

    path: Path = Path("config.toml")
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    warnings: list[str] = field(default_factory=list)  # what looked odd, noted while reading
    # What looked odd in orders, by message: the (index, id) of each order it was seen in,
    # so that a warning 2,000 orders share is said once.
    order_warnings: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    shop_names: set[str] = field(default_factory=set)  # every [shops.NAME] and built-in profile
    today: date = field(default_factory=date.today)  # to tell an order dated in the future

    @property
    def base(self) -> Path:
        return self.path.parent


def read_context(info: ValidationInfo) -> ReadContext:
    """Return the ReadContext a validation runs with (the defaults outside a config load)."""
    context = info.context
    return context if isinstance(context, ReadContext) else ReadContext()


_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(text: str, env: Mapping[str, str]) -> str:
    """Replace each ``${NAME}`` in ``text`` with the environment variable NAME.

    Secrets such as bot tokens can then live in the environment (a systemd
    ``EnvironmentFile=`` readable by root only) instead of in the config file.
    """

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise PydanticCustomError(
                "env",
                "{reference} is not set in the environment (under systemd, put it in the "
                "unit's EnvironmentFile)",
                {"reference": "${" + name + "}"},
            )
        return env[name]

    return _ENV_REFERENCE.sub(value, text)


def read_path(value: object, info: ValidationInfo) -> Path:
    """Read a file or folder path: ``~`` expanded, relative to the config file's folder."""
    if value == "":
        raise PydanticCustomError("path", "must not be empty", {})
    if not isinstance(value, str | Path):
        raise PydanticCustomError(
            "path", "expected a path in quotes, got {got}", {"got": got(value)}
        )
    try:
        path = Path(value).expanduser()
    except RuntimeError:
        raise PydanticCustomError(
            "path", "{got}: no such user for ~ to stand for", {"got": got(value)}
        ) from None
    return path if path.is_absolute() else read_context(info).base / path


FilePath = Annotated[Path, BeforeValidator(read_path)]
