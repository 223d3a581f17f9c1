"""Reading JSON the way shops write it: loosely embedded, with prices as text or numbers."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from monitor.extract import prices

_PATH_PART = re.compile(r"[^.\[\]]+|\[\d+\]")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
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


def loads_lenient(text: str) -> Any:
    """Parse embedded JSON, forgiving the usual slips: trailing commas, raw control characters."""
    text = text.strip().removeprefix("<!--").removesuffix("-->").strip().rstrip(";")
    try:
        return loads(text, strict=False)
    except ValueError:
        pass
    except RecursionError:
        return None  # nested deeper than any real data: this block is skipped, not the page
    try:
        return loads(_TRAILING_COMMA.sub(r"\1", text), strict=False)
    except (ValueError, RecursionError):
        return None


def loads(text: str, *, strict: bool = True) -> Any:
    """Parse JSON with its numbers as Decimal, never float, and NaN or Infinity as nothing
    (None); ``strict=False`` lets raw control characters stand inside strings. Raise
    ValueError if it is not JSON, RecursionError if it is nested too deep to read."""
    return json.loads(text, parse_float=Decimal, parse_constant=_no_number, strict=strict)


def _no_number(constant: str) -> None:
    """NaN, Infinity and -Infinity are no price."""
    return None


def amount_of(raw: Any) -> Decimal | None:
    """Return a price written as a JSON number or a string ("4999.00", "¥4,999"); None if not."""
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
        return prices.parse_amount(text)
    return None
