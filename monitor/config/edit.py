"""Edit the user's config file as text: an ``[[orders]]`` table added or taken out, every
other byte kept (comments, blank lines, the order of keys), and the file replaced atomically.

``add``, ``remove`` and ``import`` share these. The functions over text are pure: they
return the new text and check, by reading both texts as TOML, that the data changed by
exactly the order added or removed. Validating the result as a config is the caller's
(``monitor.config.parse_config``), before ``write_atomically`` puts it in place.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.items import AoT, Comment, Item, Table, Whitespace

from monitor.errors import MonitorError
from monitor.models.values import read_order_id
from monitor.private import FILE_MODE

# The commented example config, shipped in the package (``price-monitor config init``); the
# repository's config.example.toml is the same file, as a test keeps it.
EXAMPLE = "example.toml"

TableValue = str | int | Decimal | date | Sequence[str]


def example_text() -> str:
    """Return the commented example config that ``config init`` writes."""
    return resources.files("monitor.config").joinpath(EXAMPLE).read_text("utf-8")


def with_orders(text: str, tables: Sequence[Mapping[str, TableValue]]) -> str:
    """Given a config file's text, return it with ``[[orders]]`` tables appended at the end
    (after a blank line), everything before them kept byte for byte.

    Raise MonitorError if the result would not be the same data plus those orders: when the
    file writes its orders as an inline array, say, or is not valid TOML.
    """
    if not tables:
        return text
    document = tomlkit.document()
    added = tomlkit.aot()
    for table in tables:
        entry = tomlkit.table()
        for key, value in table.items():
            entry.add(key, _item(value))
        added.append(entry)
    document.append("orders", added)
    before = _data(text)
    if text and not text.endswith("\n"):
        text += "\n"
    if text.strip() and not text.endswith("\n\n"):
        text += "\n"
    new = text + document.as_string()
    expected = {
        **before,
        "orders": [*before.get("orders", []), *_data(document.as_string())["orders"]],
    }
    try:
        same = tomllib.loads(new, parse_float=Decimal) == expected
    except tomllib.TOMLDecodeError:
        same = False
    if not same:
        raise MonitorError(
            "cannot append [[orders]] tables to this file without changing the rest of it: "
            "write its orders as [[orders]] tables"
        )
    return new


def without_order(text: str, order_id: str) -> str:
    """Given a config file's text, return it without the ``[[orders]]`` table whose id is
    ``order_id``, with the comment lines right above its header (no blank line between):
    they describe it. Comments after its keys belong to what follows and are kept. Every
    other line stays as it was, where it was: the table's lines are cut out of the text.

    Raise KeyError if no order has that id; MonitorError if the result would not be the
    same data less that order.
    """
    before = _data(text)
    orders = before.get("orders")
    if not isinstance(orders, list):
        raise KeyError(order_id)
    index = next((i for i, t in enumerate(orders) if _id(t) == order_id), None)
    if index is None:
        raise KeyError(order_id)
    lines = text.splitlines(keepends=True)
    headers = [n for n, line in enumerate(lines) if _HEADER.match(line)]
    ours = [n for n in headers if _ORDERS_HEADER.match(lines[n])]
    refused = MonitorError(
        f"cannot take order {order_id} out of this file without changing the rest of it"
    )
    if len(ours) != len(orders):  # a header inside a multi-line string, or an inline table
        raise refused
    start = ours[index]
    end = next((n for n in headers if n > start), len(lines))
    while start > 0 and _COMMENT.match(lines[start - 1]):
        start -= 1  # the comments above the header describe the order
    # Its keys end at its last line that is neither blank nor a comment: the comments and
    # blank lines after them describe what follows, and stay.
    while end - 1 > start and (not lines[end - 1].strip() or _COMMENT.match(lines[end - 1])):
        end -= 1
    blank_above = start == 0 or not lines[start - 1].strip()
    while blank_above and end < len(lines) and not lines[end].strip():
        end += 1  # but not two gaps where there was one
    new = "".join(lines[:start] + lines[end:])
    expected = dict(before)
    kept = [t for t in orders if _id(t) != order_id]
    if kept:
        expected["orders"] = kept
    else:
        del expected["orders"]
    try:
        after = _data(new)
    except tomllib.TOMLDecodeError:
        raise refused from None
    if after != expected:
        raise refused
    return new


_HEADER = re.compile(r"^\s*\[")  # a table's header: [name] or [[name]]
_ORDERS_HEADER = re.compile(r"^\s*\[\[\s*orders\s*\]\]\s*(#.*)?$")
_COMMENT = re.compile(r"^\s*#")


def write_atomically(path: Path, text: str, *, expected: bytes | None = None) -> None:
    """Replace the file at ``path`` with ``text``: written to a temporary file in the same
    folder, flushed to disk, then renamed over it, so that a reader (the daemon) sees the
    old file or the new one, never half of either. The file keeps its mode (a new one is
    0600) and, when root writes it, its owner; a symlinked config keeps its link.

    With ``expected`` (the bytes the edit started from), raise MonitorError if the file
    changed meanwhile, rather than lose that change. Raise MonitorError if it cannot be
    written.
    """
    target = path.resolve()  # a symlink stays one: the file it points at is replaced
    try:
        info: os.stat_result | None = target.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise MonitorError(f"cannot write {path}: {exc.strerror or exc}") from None
    mode = stat.S_IMODE(info.st_mode) if info is not None else FILE_MODE
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise MonitorError(f"cannot write {path}: {exc.strerror or exc}") from None
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(text.encode("utf-8"))
            out.flush()
            os.fchmod(out.fileno(), mode)
            if info is not None and os.geteuid() == 0:
                os.fchown(out.fileno(), info.st_uid, info.st_gid)
            os.fsync(out.fileno())
        if expected is not None and _bytes_of(target) != expected:
            raise MonitorError(
                f"{path} changed while it was being edited; nothing was written: run the "
                "command again"
            )
        temporary.replace(target)
    except OSError as exc:
        raise MonitorError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)  # gone once renamed; left only by a failure
    _sync_folder(target.parent)


def _item(value: TableValue) -> Item:
    if isinstance(value, Decimal):
        return tomlkit.value(f"{value:f}")  # the amount as written: 4999.00 stays 4999.00
    if isinstance(value, str | int | date):
        return tomlkit.item(value)
    return tomlkit.item(list(value))


def _data(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise MonitorError(f"the config is not valid TOML: {exc}") from None


def _id(table: Mapping[str, Any]) -> str:
    try:
        return read_order_id(table.get("id"))
    except ValueError:  # pydantic's custom error: an id the config check names
        return ""


def _tail(container: Container) -> Container:
    """The innermost container a table ends with: where the comments after it are kept."""
    while container.body:
        last = container.body[-1][1]
        if isinstance(last, Table):
            container = last.value
        elif isinstance(last, AoT) and len(last):
            container = last[-1].value
        else:
            break
    return container


def _trailing_decoration(body: list[tuple[Any, Item]]) -> list[tuple[Any, Item]]:
    """The blank lines and comments at the end of a container's body."""
    count = 0
    for key, item in reversed(body):
        if key is not None or not isinstance(item, Comment | Whitespace):
            break
        count += 1
    return body[len(body) - count :]


def _before(document: tomlkit.TOMLDocument, tables: AoT) -> tuple[list[tuple[Any, Item]], int]:
    """Where the comments above the first ``[[orders]]`` header are: the body that holds
    them and the index they end at."""
    body = document.body
    index = next(i for i, entry in enumerate(body) if entry[1] is tables)
    previous = body[index - 1][1] if index > 0 else None
    if isinstance(previous, Table):
        inner = _tail(previous.value).body
    elif isinstance(previous, AoT) and len(previous):
        inner = _tail(previous[-1].value).body
    else:
        return body, index
    return inner, len(inner)


def _bytes_of(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _sync_folder(folder: Path) -> None:
    """Flush the rename itself to disk (where the file system lets a folder be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
