"""A copy of the state database that writes nothing beside the original: ``check --dry-run``.

The dry run works on the copy exactly as a check works on the database (orders stored,
looks recorded, alerts enqueued, drops left waiting), and throws it away: the database
file is left byte for byte as it was, and nothing is created beside it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from monitor.errors import StateError
from monitor.private import private_file


def copy_database(path: Path, target: Path) -> None:
    """Copy the database at ``path``, with what its write-ahead log holds, to the new file
    ``target`` (mode 0600), reading ``path`` only. Raise StateError if it cannot be read.

    A database in WAL mode opened read-only makes SQLite create its ``-wal`` and ``-shm``
    files when they are missing, and leave them there. They are missing only when no other
    process has it open and the last one checkpointed it all into the file: the file is then
    read as it is (``immutable``), without them. When they exist (the daemon is running),
    they are read as well, and what the daemon wrote since its last checkpoint is copied.
    """
    log = path.with_name(path.name + "-wal")
    query = "mode=ro" if log.exists() else "mode=ro&immutable=1"
    try:
        source = sqlite3.connect(f"{path.resolve().as_uri()}?{query}", uri=True)
        try:
            private_file(target)
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)
            finally:
                copy.close()
        finally:
            source.close()
    except (OSError, sqlite3.Error) as exc:
        raise StateError(f"cannot read the database {path}: {exc}") from exc
