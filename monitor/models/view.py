"""A config model as a page reader sees it: its fields, and nothing of pydantic.

The page readers never import pydantic: its import and the models' building were most of
every fork server's start (about 90 ms of CPU). The daemon hands them a shop, its API spec
and its ``script_json`` entries as Views (``monitor.reader``), which read like the models
they stand for (``shop.name``, ``shop.api.price``) and are never validated again.
"""

from __future__ import annotations

from types import SimpleNamespace


class View(SimpleNamespace):
    """The fields of a frozen config model, read by attribute."""
