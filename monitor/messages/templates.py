"""Message templates: the packaged ones, a user's own folder of replacements, and a check.

Templates are plain text with ``{field}`` placeholders, one file per message and language
(``support.zh.txt``, ``drop.en.txt``, …) in ``monitor/messages/templates/``; the fields each
may use are defined in ``fields.py``. A user's
``[notify] templates = "DIR"`` holds replacements with the same names; each is checked when
the config is loaded, so a typo in a placeholder fails ``config check``, not the alert.
"""

from __future__ import annotations

import string
from functools import cache
from importlib import resources
from pathlib import Path

from monitor.messages.fields import FIELDS, Fields, as_mapping
from monitor.models import Language

LANGUAGES = tuple(Language)
PACKAGE = "monitor.messages"


class TemplateStore:
    """Finds the template for a message and language: the user's, else the packaged one."""

    def __init__(self, override_dir: Path | None = None) -> None:
        self.override_dir = override_dir
        self._texts: dict[tuple[str, str], str] = {}  # each template is read once

    def get(self, name: str, language: str) -> str:
        key = (name, language)
        if key not in self._texts:
            mine = self.override_dir / f"{name}.{language}.txt" if self.override_dir else None
            self._texts[key] = (
                mine.read_text("utf-8") if mine and mine.is_file() else packaged(name, language)
            )
        return self._texts[key]

    def render(self, name: str, language: str, fields: Fields) -> str:
        """Fill a template. A line that is only one placeholder whose value is empty is dropped."""
        values = as_mapping(fields)
        lines = []
        for line in self.get(name, language).splitlines():
            filled = line.format_map(values)
            if not filled.strip() and line.strip().startswith("{") and line.strip().endswith("}"):
                continue
            lines.append(filled)
        return "\n".join(lines).rstrip() + "\n"


@cache
def packaged(name: str, language: str) -> str:
    """Return a packaged template (``name`` as in FIELDS, ``language`` zh or en)."""
    return (resources.files(PACKAGE) / "templates" / f"{name}.{language}.txt").read_text("utf-8")


def check_folder(folder: Path) -> list[str]:
    """Return the problems of a folder of user templates (empty when all is well)."""
    if not folder.is_dir():
        return [f"{folder} is not a folder"]
    problems = []
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        return [f"cannot list {folder}: {exc.strerror or exc}"]
    for path in entries:
        name, _, rest = path.name.partition(".")
        language = rest.removesuffix(".txt")
        if name not in FIELDS or language not in LANGUAGES or not rest.endswith(".txt"):
            known = ", ".join(f"{n}.{{zh,en}}.txt" for n in FIELDS)
            problems.append(f"{path.name}: not a template name ({known})")
            continue
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path.name}: cannot read it: {exc}")
            continue
        problems += [f"{path.name}: {p}" for p in check_text(text, FIELDS[name])]
    return problems


def check_text(text: str, allowed: frozenset[str]) -> list[str]:
    """Return what is wrong with a template's placeholders: unknown names, bad braces."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        return [f"bad braces: {exc} (write {{{{ and }}}} for literal braces)"]
    problems = []
    for _, field, spec, _ in parsed:
        if field is None:
            continue
        if field not in allowed:
            problems.append(f"unknown field {{{field}}}; fields: {', '.join(sorted(allowed))}")
        elif spec:
            problems.append(f"{{{field}:{spec}}}: format specs are not supported")
    return problems
