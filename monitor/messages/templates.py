"""Message templates: the packaged ones, a user's own folder of replacements, and a check.

Templates are plain text with ``{field}`` placeholders, one file per message and language
(``support.zh.txt``, ``drop.en.txt``, …) in ``monitor/messages/templates/``; the fields each
may use are defined in ``fields.py``. A user's
``[notify] templates = "DIR"`` holds replacements with the same names; each is checked when
the config is loaded, so a typo in a placeholder fails ``config check``, not the alert.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from monitor.messages.fields import FIELDS, Fields, as_mapping
from monitor.models import Language

LANGUAGES = tuple(Language)
PACKAGE = "monitor.messages"


@dataclass(frozen=True, slots=True)
class TemplateFolder:
    """A user's folder of replacement templates, read and checked once, with the config: an
    edit after that waits for the next reload, so a message never meets an unchecked one."""

    path: Path
    texts: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (name, language)


class TemplateStore:
    """Finds the template for a message and language: the user's, else the packaged one."""

    def __init__(self, folder: TemplateFolder | None = None) -> None:
        self.folder = folder

    def get(self, name: str, language: str) -> str:
        mine = self.folder.texts.get((name, language)) if self.folder else None
        return mine if mine is not None else packaged(name, language)

    def render(self, name: str, language: str, fields: Fields) -> str:
        """Fill a template. A line whose placeholders are all empty is left out: a field the
        user left empty ("Delivered: {delivered}") is not written as "not recorded"."""
        values = as_mapping(fields)
        lines = []
        for line in self.get(name, language).splitlines():
            used = [field for _, field, _, _ in string.Formatter().parse(line) if field]
            if used and not any(values[field].strip() for field in used):
                continue
            lines.append(line.format_map(values))
        return "\n".join(lines).rstrip() + "\n"


@cache
def packaged(name: str, language: str) -> str:
    """Return a packaged template (``name`` as in FIELDS, ``language`` zh or en)."""
    return (resources.files(PACKAGE) / "templates" / f"{name}.{language}.txt").read_text("utf-8")


def read_folder(folder: Path) -> tuple[TemplateFolder, list[str]]:
    """Read a folder of user templates; return them and their problems (empty when all is
    well). A template with a problem is left out of what is returned."""
    if not folder.is_dir():
        return TemplateFolder(folder), [f"{folder} is not a folder"]
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        return TemplateFolder(folder), [f"cannot list {folder}: {exc.strerror or exc}"]
    texts: dict[tuple[str, str], str] = {}
    problems = []
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
        found = [f"{path.name}: {p}" for p in check_text(text, FIELDS[name])]
        problems += found
        if not found:
            texts[(name, language)] = text
    return TemplateFolder(folder, texts), problems


def check_text(text: str, allowed: frozenset[str]) -> list[str]:
    """Return what is wrong with a template's placeholders: unknown names, bad braces."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        return [f"bad braces: {exc} (write {{{{ and }}}} for literal braces)"]
    problems = []
    for _, name, spec, _ in parsed:
        if name is None:
            continue
        if name not in allowed:
            problems.append(f"unknown field {{{name}}}; fields: {', '.join(sorted(allowed))}")
        elif spec:
            problems.append(f"{{{name}:{spec}}}: format specs are not supported")
    return problems
