"""Names of a package loaded from its modules when first asked for (PEP 562). Here, at the
bottom of the layers, so that any package may use it.

    __getattr__ = lazy_attributes(__name__, {"Order": "order", ...}, globals())

A process imports only the modules whose names it uses: the daemon never loads the HTML
parser through ``monitor.extract``, and a page reader never builds the order models
through ``monitor.models``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any


def lazy_attributes(
    package: str, home: Mapping[str, str], namespace: MutableMapping[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: each name of ``home`` is taken from its
    module (``home[name]``, under ``package``) once, then kept in ``namespace``. Any other
    name raises AttributeError (a submodule is found by the import system first)."""

    def __getattr__(name: str) -> Any:
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value  # asked once
        return value

    return __getattr__
