"""Reading JSON the way shops write it: loosely embedded, with prices as text or numbers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import chompjs

from monitor.extract import prices

_PATH_PART = re.compile(r"[^.\[\]]+|\[\d+\]")
# What shops wrap around a script's JSON so that old browsers or XHTML parsers skip it.
_WRAPPERS = (
    ("<!--", "-->"),
    ("<![CDATA[", "]]>"),
    ("//<![CDATA[", "//]]>"),
    ("/*<![CDATA[*/", "/*]]>*/"),
)
_PLAIN_AMOUNT = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")  # as JSON writes numbers


def json_path(data: Any, path: str) -> Any:
    """Follow a dotted path with optional indexes (``a.b[0].c``) into JSON; None if absent."""
    current = data
    for part in _PATH_PART.findall(path):
        if part.startswith("["):
            index = int(part[1:-1])
            current = current[index] if isinstance(current, list) and index < len(current) else None
        else:
            current = current.get(part) if isinstance(current, dict) else None
        if current is None:
            return None
    return current


_EACH_PART = re.compile(r"[^.\[\]]+|\[\d*\]")


def json_each(data: Any, path: str) -> list[Any]:
    """Follow a path like ``json_path``, where ``[]`` steps into every element of a list
    (``data.goods_list[].goods_info``); return every value it reaches, the absent left out.
    An empty path reaches the data itself."""
    current = [data]
    for part in _EACH_PART.findall(path):
        if part == "[]":
            current = [value for c in current if isinstance(c, list) for value in c]
        else:
            current = [value for c in current if (value := json_path(c, part)) is not None]
    return [value for value in current if value is not None]


def loads_lenient(text: str) -> Any:
    """Parse JSON embedded in a page the way browsers' consumers accept it; None if it is not.

    Strict JSON first (with raw control characters allowed inside strings), then several
    documents one after another (returned as a list), then chompjs, a JavaScript-object
    parser, for the rest: trailing commas, comments, single quotes, unquoted keys. Numbers
    stay Decimal throughout. A block nested deeper than any real data is None.
    """
    text = _unwrapped(text)
    for parse in (_strict, _one_after_another, _javascript):
        try:
            return parse(text)
        except ValueError:
            continue  # not in this form: try the next, more lenient one
        except RecursionError:
            return None
    return None


def _strict(text: str) -> Any:
    return loads(text, strict=False)


def _one_after_another(text: str) -> Any:
    return _one_or_many(_documents(text))


def _javascript(text: str) -> Any:
    found: Iterable[Any] = chompjs.parse_js_objects(text, loader_kwargs=_LOOSE)
    return _one_or_many([value for value in found if isinstance(value, dict | list)])


def _unwrapped(text: str) -> str:
    """The text without the comment or CDATA markers around it, or a trailing semicolon."""
    text = text.strip()
    for start, end in _WRAPPERS:
        if text.startswith(start) and text.endswith(end):
            text = text[len(start) : -len(end)].strip()
    return text.rstrip(";").strip()


def _documents(text: str) -> list[Any]:
    """Every JSON document in ``text``, one after another (whitespace, commas or semicolons
    between them); ValueError when anything else stands between or after them."""
    found: list[Any] = []
    at, end = 0, len(text)
    while at < end:
        value, at = _DECODER.raw_decode(text, at)
        found.append(value)
        while at < end and text[at] in " \t\r\n,;":
            at += 1
    return found


def _one_or_many(found: list[Any]) -> Any:
    if not found:
        raise ValueError("no JSON in the text")
    return found[0] if len(found) == 1 else found


def loads(text: str, *, strict: bool = True) -> Any:
    """Parse JSON with its numbers as Decimal, never float, and NaN or Infinity as nothing
    (None); ``strict=False`` lets raw control characters stand inside strings. Raise
    ValueError if it is not JSON, RecursionError if it is nested too deep to read."""
    return json.loads(text, parse_float=Decimal, parse_constant=_no_number, strict=strict)


def _no_number(constant: str) -> None:
    """NaN, Infinity and -Infinity are no price."""
    return None


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_number, strict=False)
_LOOSE = {"strict": False, "parse_float": Decimal, "parse_constant": _no_number}


def amount_of(raw: Any, currency: str | None = None) -> Decimal | None:
    """Return a price written as a JSON number or a string ("4999.00", "¥4,999"); None if not,
    or if a string's amount cannot be read safely in ``currency`` (the stated or the order's)."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, Decimal):
        return raw
    if isinstance(raw, int | float):
        return Decimal(str(raw))
    if isinstance(raw, str):
        text = raw.strip()
        if _PLAIN_AMOUNT.fullmatch(text):
            return Decimal(text)
        return prices.parse_amount(text, currency)
    return None
