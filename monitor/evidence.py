"""Evidence: the page a drop was seen on, kept gzipped beside the database.

Named by product, time and SHA-256, so the alert can name it and a support agent can be
shown exactly what was seen.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
from datetime import UTC
from pathlib import Path

from monitor.models import Evidence, Observation

logger = logging.getLogger(__name__)


def keep_page(folder: Path, product_id: int, observation: Observation) -> Evidence | None:
    """Save the page of ``observation`` in ``folder``; return where, or None if it cannot."""
    if observation.body is None:
        return None
    digest = hashlib.sha256(observation.body).hexdigest()
    when = observation.seen_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"product-{product_id}-{when}-{digest[:12]}.html.gz"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            with gzip.open(path, "wb") as out:
                out.write(observation.body)
    except OSError as exc:
        logger.warning("product %d: could not keep the page as evidence: %s", product_id, exc)
        return None
    return Evidence(str(path), digest)
