"""Turn pydantic's errors into problems a user can act on: a TOML path, a message, a hint.

``orders[2].paid: expected a number like 4999.00 (no currency sign or thousands separator),
got "4,999"``: the path is the one the file uses, the value is quoted as written, an unknown
key says which keys are allowed (and which one was probably meant), and a secret never
appears in a message.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError, PydanticKnownError

from monitor.errors import Problem
from monitor.models.values import Location, got


def problems_of(
    error: ValidationError,
    model: type[BaseModel],
    *,
    locate: Callable[[Location], tuple[int | None, str | None]] | None = None,
) -> list[Problem]:
    """Given a ValidationError of ``model``, return one Problem per error, in file order.

    ``locate`` gives a location's line in the file and the id of the order it is in."""
    found = []
    for e in error.errors(include_url=False):
        line, order_id = locate(e["loc"]) if locate is not None else (None, None)
        found.append(
            Problem(
                toml_path(e["loc"]),
                _message(model, list(e["loc"]), e),
                line=line,
                order_id=order_id,
            )
        )
    return found


def unknown_key(key: str, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.5)
    hint = f'did you mean "{close[0]}"? ' if close else ""
    listing = f"allowed keys: {', '.join(allowed)}" if allowed else "no keys are allowed here"
    return f'unknown key "{key}"; {hint}{listing}'


def unknown_name(kind: str, name: str, known: Iterable[str], hint: str) -> str:
    """Return ``unknown shop "jdd"; did you mean "jd"? known shops: ...`` and a way out."""
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1)
    mean = f'did you mean "{close[0]}"? ' if close else ""
    return f'unknown {kind} "{name}"; {mean}known {kind}s: {", ".join(names)} ({hint})'


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_path(parts: Sequence[str | int]) -> str:
    """Format a location like ("orders", 2, "paid") as the TOML path ``orders[2].paid``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = part if _BARE_KEY.match(part) else f'"{part}"'
            out += f".{key}" if out else key
    return out


def again(
    error: ValidationError,
    more: Sequence[tuple[Location, str]],
    *,
    keep: Callable[[ErrorDetails], bool],
) -> ValidationError:
    """Return ``error``'s errors that ``keep`` keeps, plus a problem per (location, message) in
    ``more``: for a validator that adds its own findings to what the fields reported."""
    details: list[InitErrorDetails] = []
    for e in error.errors(include_url=False):
        if not keep(e):
            continue
        if _known(e["type"]):
            details.append(
                InitErrorDetails(
                    type=e["type"], loc=e["loc"], input=e["input"], ctx=e.get("ctx", {})
                )
            )
        else:  # raised by one of our readers: its message is already worded
            kind = PydanticCustomError(e["type"], "{message}", {"message": e["msg"]})
            details.append(InitErrorDetails(type=kind, loc=e["loc"], input=e["input"]))
    for loc, message in more:
        kind = PydanticCustomError("cross_field", "{message}", {"message": message})
        details.append(InitErrorDetails(type=kind, loc=loc, input=None))
    return ValidationError.from_exception_data(error.title, details)


def _known(kind: str) -> bool:
    """Return True for one of pydantic's own error types (as against one of our readers')."""
    try:
        PydanticKnownError(kind)  # type: ignore[arg-type]
    except KeyError:
        return False
    except (TypeError, ValueError):
        return True  # a known type that wants its context
    return True


# Hints for values whose expected shape the generic messages would not say well.
_MISSING: dict[str, Callable[[Any], str]] = {
    "currency": lambda order: (
        f'required: shop "{_shop_of(order)}" has no default currency; add e.g. currency = "EUR"'
    ),
    "window_days": lambda order: (
        f'required: shop "{_shop_of(order)}" has no default price-protection window; '
        "give the number of days, e.g. window_days = 14"
    ),
}


_TABLES = {"shops": "[shops.NAME]", "orders": "[[orders]]"}


def _shop_of(order: Any) -> str:
    return str(order.get("shop")) if isinstance(order, dict) else "?"


def _message(model: type[BaseModel], loc: list[Any], error: ErrorDetails) -> str:
    kind: str = error["type"]
    value = error.get("input")
    if kind == "missing":
        if len(loc) == 3 and loc[0] == "orders" and loc[2] in _MISSING:
            return _MISSING[loc[2]](value)
        return "required key is missing"
    if kind == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        fields = owner.model_fields if owner else {}
        # A field read as "@name" (a shop's key, an order's window_source) is the program's.
        allowed = [
            name
            for name, info in fields.items()
            if not str(info.validation_alias or "").startswith("@")
        ]
        return unknown_key(str(loc[-1]), allowed)
    if kind in ("model_type", "dict_type") and len(loc) == 1:
        return f"expected a table ([{loc[0]}]), got {got(value)}"
    if kind in ("model_type", "dict_type") and len(loc) == 2 and loc[0] in _TABLES:
        return f"expected a table ({_TABLES[loc[0]]}), got {got(value)}"
    if kind in ("tuple_type", "list_type") and loc == ["orders"]:
        return "expected [[orders]] tables, one per purchased item"
    ctx = error.get("ctx") or {}
    messages: dict[str, Callable[[], str]] = {
        "string_type": lambda: f"expected text in quotes, got {got(value)}",
        "int_type": lambda: f"expected a whole number, got {got(value)}",
        "int_from_float": lambda: f"expected a whole number, got {got(value)}",
        "int_parsing": lambda: f"expected a whole number, got {got(value)}",
        "bool_type": lambda: f"expected true or false, got {got(value)}",
        "bool_parsing": lambda: f"expected true or false, got {got(value)}",
        "list_type": lambda: f'expected an array like ["a", "b"], got {got(value)}',
        "tuple_type": lambda: f'expected an array like ["a", "b"], got {got(value)}',
        "dict_type": lambda: f"expected a table, got {got(value)}",
        "model_type": lambda: f"expected a table, got {got(value)}",
        "string_too_short": lambda: "must not be empty",
        "too_short": lambda: "must not be empty",
        "greater_than_equal": lambda: f"must be at least {ctx.get('ge')}, got {got(value)}",
        "less_than_equal": lambda: f"must be at most {ctx.get('le')}, got {got(value)}",
        "literal_error": lambda: f"expected one of {ctx.get('expected')}, got {got(value)}",
        "enum": lambda: f"expected one of {ctx.get('expected')}, got {got(value)}",
    }
    if kind in messages:
        return messages[kind]()
    return str(error["msg"])


def _model_at(model: type[BaseModel], loc: Sequence[Any]) -> type[BaseModel] | None:
    """Follow a pydantic error location through the model's field types to the model there."""
    annotation: Any = model
    for part in loc:
        annotation = _step(_bare(annotation), part)
        if annotation is None:
            return None
    found = _bare(annotation)
    return found if isinstance(found, type) and issubclass(found, BaseModel) else None


def _step(annotation: Any, part: str | int) -> Any:
    """Return the type found one step into ``annotation``: a field, an item, a table's value."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return field.annotation if field is not None else None
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (dict, Mapping) and len(args) == 2:
        return args[1]
    if origin in (list, tuple) and args:
        return args[0]
    return None


def _bare(annotation: Any) -> Any:
    """Return a type without ``Annotated`` and ``| None``."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _bare(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _bare(options[0]) if len(options) == 1 else annotation
    return annotation
