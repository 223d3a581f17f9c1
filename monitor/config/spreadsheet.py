"""Orders from a spreadsheet (``price-monitor import``): CSV rows to ``[[orders]]`` tables,
each checked by the config's own schema, each bad row named by its line.

The columns are the config's keys (``id``, ``url``, ``paid``, ``ordered``, ``title``, and any
of the optional ones); a blank cell is a key left out, and a row without a shop gets the one
whose domains cover its URL, else ``generic``. Rows are checked as the config file would be
with them appended, so every rule of the schema holds for them as for an order written by
hand; an id already in the config, or on an earlier row, is a bad row too.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from monitor.config.edit import TableValue, with_orders
from monitor.config.load import parse_config
from monitor.config.schema import Config
from monitor.errors import ConfigError, MonitorError
from monitor.models import Order, Shop
from monitor.shops import shop_for_host

REQUIRED = ("id", "url", "title", "paid", "ordered")
# The order's keys in the order a table writes them (the Order model's, less what the
# config sets itself).
KEYS = tuple(name for name in Order.model_fields if name != "window_source")
_NUMBERS = ("paid", "threshold")
_WHOLE = ("quantity", "window_days", "installments")
_DAYS = ("ordered", "delivered")
_PLAIN_NUMBER = re.compile(r"\d+(\.\d+)?")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class Row:
    """One row of the spreadsheet, as the ``[[orders]]`` table it becomes."""

    line: int  # where the row starts in the file, from 1 (the header is line 1)
    table: dict[str, TableValue]

    @property
    def order_id(self) -> str:
        return str(self.table.get("id", ""))


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    order_id: str
    problems: tuple[str, ...]

    def lines(self) -> list[str]:
        """One line per problem: ``line 9 (id A-4): paid: expected a number like ...``."""
        named = f" (id {self.order_id})" if self.order_id else ""
        return [f"line {self.line}{named}: {problem}" for problem in self.problems]


@dataclass(frozen=True, slots=True)
class Checked:
    """What an import would do: the orders it adds (as the config reads them, with their
    rows) and the rows it refuses."""

    added: tuple[tuple[Row, Order], ...]
    bad: tuple[BadRow, ...]
    text: str  # the config file with the good rows appended
    config: Config  # that file, read


def read_rows(text: str, *, shops: Mapping[str, Shop]) -> tuple[list[Row], list[BadRow]]:
    """Given a CSV file's text, return its rows as order tables, and the rows that cannot be
    one (more cells than columns). Raise MonitorError if the header lacks a required column."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), _dialect(text))
    header = next(reader, None)
    if header is None:
        raise MonitorError("the file is empty: expected a header row with id, url, paid, ...")
    columns = [_column(name) for name in header]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise MonitorError(
            f"the header has no {', '.join(missing)} column{'s' * (len(missing) != 1)}; "
            f"the columns are the config's keys: {', '.join(KEYS)}"
        )
    rows: list[Row] = []
    bad: list[BadRow] = []
    line = reader.line_num + 1
    for cells in _cells(reader):
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        extra = [c for c in cells[len(columns) :] if c.strip()]
        row = Row(start, table_of(dict(zip(columns, cells, strict=False)), shops=shops))
        if extra:
            problem = f"{len(cells)} cells, but the header has {len(columns)} columns"
            bad.append(BadRow(start, row.order_id, (problem,)))
        else:
            rows.append(row)
    return rows, bad


def _cells(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    """The reader's rows; a row the csv module cannot read (a cell over its 128 KiB limit)
    stops the import with its line, as a file that is not CSV at all does."""
    try:
        yield from reader
    except csv.Error as exc:
        line = getattr(reader, "line_num", 0)
        raise MonitorError(f"line {line}: cannot read the file as CSV: {exc}") from None


_WHOLE_NUMBER = re.compile(r"[0-9]+")


def table_of(cells: Mapping[str, str], *, shops: Mapping[str, Shop]) -> dict[str, TableValue]:
    """Return a row's cells as an ``[[orders]]`` table: blank cells left out, numbers,
    whole numbers and dates as TOML writes them when they read as such (else as text, for
    the schema to say what is wrong), tags split at commas; the shop from the URL when
    the row names none."""
    table: dict[str, TableValue] = {}
    values = {key: value.strip() for key, value in cells.items() if key and value.strip()}
    if "shop" not in values and "url" in values:
        found = shop_for_host(urlsplit(values["url"]).hostname or "", shops)
        values["shop"] = found.key if found is not None else "generic"
    ordered = [k for k in KEYS if k in values] + [k for k in values if k not in KEYS]
    for key in ordered:
        table[key] = _value(key, values[key])
    return table


def check_rows(
    rows: Sequence[Row], bad: Sequence[BadRow], *, text: str, path: Path, existing: Sequence[str]
) -> Checked:
    """Return what appending ``rows`` to the config file (its ``text``, at ``path``, holding
    the orders ``existing``) would add, and every row that is wrong, with why.

    Raise ConfigError if the file itself does not load once the bad rows are left out
    (a problem no row is to blame for).
    """
    refused = {b.line: b for b in bad}
    seen = {order_id: "in the config" for order_id in existing}
    candidates: list[Row] = []
    for row in rows:
        where = seen.get(row.order_id)
        if where is not None and row.order_id:
            refused[row.line] = BadRow(
                row.line, row.order_id, (f'id "{row.order_id}" is already {where}',)
            )
            continue
        if row.order_id:
            seen[row.order_id] = f"on line {row.line}"
        candidates.append(row)
    while True:  # each pass leaves out the rows the schema refused, until the rest loads
        new = with_orders(text, [row.table for row in candidates])
        try:
            config = parse_config(new, path=path)
        except ConfigError as exc:
            blamed = _blame(exc, candidates, len(existing))
            if not blamed:
                raise
            for line, problems in blamed.items():
                row = next(r for r in candidates if r.line == line)
                refused[line] = BadRow(line, row.order_id, tuple(problems))
            candidates = [r for r in candidates if r.line not in blamed]
            continue
        added = tuple(zip(candidates, config.orders[len(existing) :], strict=True))
        return Checked(added, tuple(sorted(refused.values(), key=lambda b: b.line)), new, config)


_ORDER_PATH = re.compile(r"orders\[(\d+)\]\.?(.*)")


def _blame(error: ConfigError, rows: Sequence[Row], existing: int) -> dict[int, list[str]]:
    """The problems of a config with ``rows`` appended after ``existing`` orders, by the line
    of the row each is in; empty when one is not in a row."""
    blamed: dict[int, list[str]] = {}
    for problem in error.problems:
        match = _ORDER_PATH.fullmatch(problem.path)
        index = int(match.group(1)) - existing if match else -1
        if not 0 <= index < len(rows):
            return {}
        key = match.group(2) if match else ""
        blamed.setdefault(rows[index].line, []).append(
            f"{key}: {problem.message}" if key else problem.message
        )
    return blamed


def _value(key: str, text: str) -> TableValue:
    if key in _NUMBERS and _PLAIN_NUMBER.fullmatch(text):
        return Decimal(text)
    if key in _WHOLE and _WHOLE_NUMBER.fullmatch(text):  # not isdigit(): "²" is a digit
        return int(text)
    if key in _DAYS and _DAY.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            return text  # 2026-02-30: the schema says it is no date
    if key == "tags":
        return [tag.strip() for tag in re.split(r"[,;]", text) if tag.strip()]
    return text


def _column(name: str) -> str:
    """A header cell as the key it names: ``Window days`` is ``window_days``."""
    return re.sub(r"[\s-]+", "_", name.strip().lower())


def _dialect(text: str) -> type[csv.Dialect]:
    """Excel's CSV with commas, unless the header is written with semicolons or tabs (a
    spreadsheet saved in a locale whose decimal mark is a comma)."""
    header = text.removeprefix("\ufeff").partition("\n")[0]
    chosen = max(",;\t", key=header.count) if any(c in header for c in ",;\t") else ","

    class Dialect(csv.excel):
        delimiter = chosen

    return Dialect
