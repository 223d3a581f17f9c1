"""Evidence: the page a drop was seen on, kept gzipped beside the database.

Named by product, time and SHA-256, so the alert can name it and a support agent can be
shown exactly what was seen. A page may show the buyer's address: the folder is 0700 and
each page 0600, whatever the umask (``monitor.private``).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
from datetime import UTC
from pathlib import Path

from monitor.models import Evidence, Observation
from monitor.private import create_private, private_dir, tighten

logger = logging.getLogger(__name__)


def keep_page(folder: Path, product_id: int, observation: Observation) -> Evidence | None:
    """Save the page of ``observation`` in ``folder``; return where, or None if it cannot."""
    if observation.body is None:
        return None
    digest = hashlib.sha256(observation.body).hexdigest()
    when = observation.seen_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"product-{product_id}-{when}-{digest[:12]}.html.gz"
    try:
        # The folder is always the program's own (``evidence`` beside the database): 0700.
        if private_dir(folder, ours=True):
            # It was looser, made by an older version: so may the pages in it be.
            for kept in folder.iterdir():
                tighten(kept)
        if not path.exists():
            _write_private(path, observation.body)
    except OSError as exc:
        logger.warning("product %d: could not keep the page as evidence: %s", product_id, exc)
        return None
    return Evidence(str(path), digest)


def _write_private(path: Path, body: bytes) -> None:
    """Write ``body`` gzipped to the new file ``path``, mode 0600; another process that
    kept the same page first wins (same name, same content)."""
    try:
        fd = create_private(path)
    except FileExistsError:
        return
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb") as out:
            out.write(body)
    except OSError:
        path.unlink(missing_ok=True)  # a page cut short is no evidence
        raise
