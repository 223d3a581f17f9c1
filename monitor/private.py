"""Private by default: the state the program keeps is readable by its user only.

The database holds order numbers and claim history, and a kept page may show an address, so
whatever the umask:

- a directory the program creates (with any missing parents) is made ``0700``;
- a file it creates (the database, a kept page) is made ``0600``;
- an existing file of its own with looser bits (made by an older version, or under a looser
  umask) is tightened to ``0600``-or-less, when this process owns it;
- an existing directory is tightened to ``0700``-or-less only when it is *ours*: one whose
  place the program chose itself (the default state directory, the ``evidence`` folder beside
  the database), and only when this process owns it. A directory the user named that
  already exists (``database = "/srv/x/state.db"``: ``/srv/x``) is left as the user set it;
  only the program's files in it are tightened.

Nothing is ever loosened: tightening only clears the group and other bits.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def private_dir(path: Path, *, ours: bool) -> bool:
    """Make sure the directory ``path`` exists and, if the program created it or it is
    ``ours``, that only its user may enter it. Return True when it was tightened.

    Missing directories, ``path`` and its parents, are created ``0700``. Raise OSError if
    ``path`` cannot be created.
    """
    missing = []
    here = path
    while not here.exists() and here != here.parent:
        missing.append(here)
        here = here.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            folder.mkdir(mode=DIR_MODE)
            folder.chmod(DIR_MODE)  # mkdir's mode passes through the umask
    if missing:
        return False
    return ours and tighten(path)


def tighten(path: Path) -> bool:
    """Clear the group and other bits of ``path`` if this process owns it; return True when
    it changed. A path that is gone or not ours to change is left alone."""
    try:
        info = path.stat()
        if info.st_uid != os.geteuid() or not info.st_mode & _OTHERS:
            return False
        path.chmod(stat.S_IMODE(info.st_mode) & ~_OTHERS)
    except OSError:
        return False
    return True


def private_file(path: Path) -> None:
    """Create the file ``path`` empty with mode ``0600`` if it does not exist; else tighten it.

    Raise OSError if it cannot be created.
    """
    try:
        os.close(create_private(path))
    except FileExistsError:
        tighten(path)


def create_private(path: Path) -> int:
    """Open a new file ``path`` for writing with mode ``0600``; return its descriptor.

    Raise FileExistsError if it exists, OSError if it cannot be made.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # os.open's mode passes through the umask
    except OSError:
        os.close(fd)
        raise
    return fd
