"""Where a TOML file says each thing: the line of every table header, key and array item.

A TOML parser keeps no positions (tomli's for the config, tomllib's here), so a problem at ``orders[3].paid`` could name only its path.
``key_lines`` reads the text once, as TOML lays it out, and returns the line of every
location a problem can name; ``line_of`` falls back to the nearest one that encloses it (a
key inside an inline table: the table's line; a value no key names: its table's header).
It is only asked once the config's parser has read the text, and on anything it does not follow it
returns what it found so far: a problem without a line is still a problem.
"""

from __future__ import annotations

import contextlib
import re
import tomllib
from collections.abc import Mapping

from monitor.models.values import Location

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR_END = re.compile(r"[,\]}\n#]")


def key_lines(text: str) -> dict[Location, int]:
    """Given the text of a TOML file, return the line (from 1) of each table, key and array
    item, by its location: ``("orders", 3, "paid")``, ``("notify", "urls", 1)``."""
    scanner = _Scanner(text)
    # On what it does not follow, the lines found so far stand.
    with contextlib.suppress(IndexError, ValueError, tomllib.TOMLDecodeError):
        scanner.document()
    return scanner.found


def line_of(lines: Mapping[Location, int], loc: Location) -> int | None:
    """Return the line of ``loc``, else of the nearest location that encloses it."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


class _Scanner:
    """A reader of TOML's layout only (tables, keys, arrays), not of its values."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0
        self.line = 1
        self.found: dict[Location, int] = {}
        self._tables: dict[Location, int] = {}  # each [[array of tables]]: how many so far

    def document(self) -> None:
        current: Location = ()
        while True:
            self._blank(newlines=True)
            if self.at >= len(self.text):
                return
            if self.text.startswith("[[", self.at):
                self.at += 2
                current = self._header(self._key(), array=True)
                self._expect("]]")
            elif self.text[self.at] == "[":
                self.at += 1
                current = self._header(self._key(), array=False)
                self._expect("]")
            else:
                keys = self._key()
                self._note(current, keys)
                self._expect("=")
                self._value((*current, *keys))

    def _header(self, keys: list[str], *, array: bool) -> Location:
        """The location a table header opens: an array's tables get their index."""
        path: Location = ()
        for n, key in enumerate(keys):
            path = (*path, key)
            self.found.setdefault(path, self.line)
            if array and n == len(keys) - 1:
                index = self._tables.get(path, 0)
                self._tables[path] = index + 1
                path = (*path, index)
                self.found.setdefault(path, self.line)
            elif path in self._tables:  # [orders.x] after [[orders]]: in the last one
                path = (*path, self._tables[path] - 1)
        return path

    def _note(self, base: Location, keys: list[str]) -> None:
        for end in range(1, len(keys) + 1):
            self.found.setdefault((*base, *keys[:end]), self.line)

    def _value(self, path: Location) -> None:
        self._blank(newlines=False)
        text = self.text
        if text.startswith('"""', self.at) or text.startswith("'''", self.at):
            self._multiline_string()
        elif text[self.at] in "\"'":
            self._string()
        elif text[self.at] == "[":
            self.at += 1
            index = 0
            while True:
                self._blank(newlines=True)
                if text[self.at] == "]":
                    self.at += 1
                    return
                self.found.setdefault((*path, index), self.line)
                self._value((*path, index))
                self._blank(newlines=True)
                if text[self.at] == ",":
                    self.at += 1
                    index += 1
        elif text[self.at] == "{":
            self.at += 1
            while True:
                self._blank(newlines=True)
                if text[self.at] == "}":
                    self.at += 1
                    return
                keys = self._key()
                self._note(path, keys)
                self._expect("=")
                self._value((*path, *keys))
                self._blank(newlines=True)
                if text[self.at] == ",":
                    self.at += 1
        else:
            end = _SCALAR_END.search(text, self.at)
            stop = end.start() if end else len(text)
            if stop == self.at:
                raise ValueError(f"no value on line {self.line}")
            self.at = stop

    def _key(self) -> list[str]:
        """Read a dotted key (``a."b c".d``) and return its parts."""
        parts: list[str] = []
        while True:
            self._blank(newlines=False)
            if self.text[self.at] in "\"'":
                start = self.at
                self._string()
                raw = self.text[start : self.at]
                parts.append(tomllib.loads(f"k = {raw}")["k"])
            else:
                bare = _BARE.match(self.text, self.at)
                if bare is None:
                    raise ValueError(f"no key on line {self.line}")
                parts.append(bare.group())
                self.at = bare.end()
            self._blank(newlines=False)
            if self.text[self.at] != ".":
                return parts
            self.at += 1

    def _string(self) -> None:
        quote = self.text[self.at]
        self.at += 1
        while self.text[self.at] != quote:
            if self.text[self.at] == "\n":
                raise ValueError(f"a string runs past line {self.line}")
            self.at += 2 if quote == '"' and self.text[self.at] == "\\" else 1
        self.at += 1

    def _multiline_string(self) -> None:
        quotes = self.text[self.at : self.at + 3]
        self.at += 3
        while not self.text.startswith(quotes, self.at):
            char = self.text[self.at]
            if char == "\\" and quotes == '"""':
                self.line += self.text[self.at + 1] == "\n"  # an escaped line break
                self.at += 2
                continue
            self.line += char == "\n"
            self.at += 1
        self.at += 3
        while self.at < len(self.text) and self.text[self.at] == quotes[0]:
            self.at += 1  # up to two quotes may end the string's text

    def _blank(self, *, newlines: bool) -> None:
        """Skip spaces and comments, and line breaks too when ``newlines``."""
        text = self.text
        while self.at < len(text):
            char = text[self.at]
            if char in " \t\r":
                self.at += 1
            elif char == "#":
                end = text.find("\n", self.at)
                self.at = len(text) if end < 0 else end
            elif char == "\n" and newlines:
                self.at += 1
                self.line += 1
            else:
                return

    def _expect(self, token: str) -> None:
        self._blank(newlines=False)
        if not self.text.startswith(token, self.at):
            raise ValueError(f"expected {token!r} on line {self.line}")
        self.at += len(token)
