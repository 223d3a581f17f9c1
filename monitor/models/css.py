"""A selector as the config writes it: the CSS, and the attribute to read (``@content``)."""

from __future__ import annotations

import re


def split_attribute(selector: str) -> tuple[str, str]:
    """Split ``"span.price@data-value"`` into the CSS part and the attribute to read."""
    match = re.fullmatch(r"(.+?)@([A-Za-z_][\w:-]*)", selector.strip())
    return (match.group(1), match.group(2)) if match else (selector, "")
