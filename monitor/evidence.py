"""Evidence: the page a drop was seen on, kept gzipped beside the database, and the chart of
the price drawn beside it (when matplotlib is installed); and their pruning.

Named by product, time and SHA-256, so the alert can name it and a support agent can be
shown exactly what was seen. A page may show the buyer's address: the folder is 0700 and
each page 0600, whatever the umask (``monitor.private``). A page and its chart are deleted
``[monitor] keep_evidence`` (30 days) after the last window of their product's orders
closed; never while an alert that attaches them is still to be sent.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import logging
import os
import re
import sqlite3
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.errors import MonitorError
from monitor.models import DropAlert, Evidence, Observation, Order, PriceAlert, Product, window_for
from monitor.private import create_private, private_dir, tighten

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.history import History

logger = logging.getLogger(__name__)

PAGE, CHART, SCREENSHOT = ".html.gz", ".png", ".screen.png"
# What ``keep_page`` names a file: product id, when (UTC), the start of the page's SHA-256.
KEPT_NAME = re.compile(
    r"^product-(\d+)-(\d{8}T\d{6}Z)-([0-9a-f]{12})(\.html\.gz|\.png|\.screen\.png)$"
)


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


def with_screenshot(evidence: Evidence | None, png: bytes | None) -> Evidence | None:
    """Given the page kept for a drop and a screenshot of it, return the page with the
    screenshot kept beside it (``.screen.png``, mode 0600), for the drop alerts to attach;
    the page alone when there is no screenshot or it cannot be written."""
    if evidence is None or not png:
        return evidence
    path = Path(evidence.path)
    path = path.with_name(path.name.removesuffix(PAGE) + SCREENSHOT)
    try:
        _write_new(path, png)
    except OSError as exc:
        logger.warning("could not keep the screenshot as evidence: %s", exc)
        return evidence
    return replace(evidence, screenshot=str(path))


def chart_path(page: Path) -> Path:
    """The chart kept beside a page: the same name, ``.png``."""
    return page.with_name(page.name.removesuffix(PAGE) + CHART)


async def with_chart(
    evidence: Evidence | None,
    config: Config,
    history: History,
    product: Product,
    observation: Observation,
    owed: Sequence[tuple[Order, PriceAlert]],
) -> Evidence | None:
    """Given the page kept for a drop, return it with a chart of the product's price drawn
    beside it (the reading and the alerts of this check included), for the drop alerts to
    attach; the page alone when matplotlib is not installed, when no notification URL shows
    pictures (drawing one takes a few tenths of a second), or when it cannot be drawn."""
    from monitor.channels import shows_pictures
    from monitor.plot import plotting_available

    orders = list({o.id: o for o, a in owed if isinstance(a, DropAlert)}.values())
    if evidence is None or not orders:
        return evidence
    if not any(shows_pictures(t.url) for t in config.notify.urls) or not plotting_available():
        return evidence
    from monitor.plot import draw_chart
    from monitor.timeline import read_timeline, with_reading

    path = chart_path(Path(evidence.path))
    try:
        timeline = await history.run(read_timeline, history, product.id, orders, product.shop)
        timeline = with_reading(timeline, observation, owed)
        png = await asyncio.to_thread(draw_chart, timeline, tz=config.timezone)
        await asyncio.to_thread(_write_new, path, png)
    except Exception as exc:  # a chart is a convenience: the alert goes out without it
        logger.warning("%s: could not draw the price chart: %s", product.label, exc)
        return evidence
    return replace(evidence, chart=str(path))


def _write_new(path: Path, data: bytes) -> None:
    """Write ``data`` to the new file ``path``, mode 0600 (the first writer wins)."""
    try:
        fd = create_private(path)
    except FileExistsError:
        return
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    except OSError:
        path.unlink(missing_ok=True)
        raise


# --- pruning ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeptFile:
    """A page or chart in the evidence folder, as its name describes it."""

    path: Path
    product_id: int
    kept_at: datetime
    size: int

    @property
    def stem(self) -> str:
        """The name a page and its chart share."""
        return _stem(self.path.name)


@dataclass(frozen=True, slots=True)
class Pruned:
    files: int = 0
    size: int = 0  # bytes freed


def kept_files(folder: Path) -> list[KeptFile]:
    """Return the pages and charts in ``folder`` (none when it does not exist); files that
    ``keep_page`` did not name are none of ours and left out."""
    found = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    for entry in entries:
        match = KEPT_NAME.match(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        try:
            size = entry.stat(follow_symlinks=False).st_size
        except FileNotFoundError:  # pruned meanwhile by another process
            continue
        kept_at = datetime.strptime(match[2], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        found.append(KeptFile(Path(entry.path), int(match[1]), kept_at, size))
    return found


def disk_use(folder: Path) -> tuple[int, int]:
    """Return how many pages and charts ``folder`` holds, and their size in bytes."""
    files = kept_files(folder)
    return len(files), sum(f.size for f in files)


def prunable(
    files: Iterable[KeptFile],
    *,
    deadlines: Mapping[int, datetime],
    unsent: Collection[str],
    keep: timedelta,
    now: datetime,
) -> list[KeptFile]:
    """Given the kept files, the deadline of each product's last window, and the files that
    alerts not yet sent attach, return the files to delete now: those ``keep`` past their
    product's deadline. A product no order in the config has any more (it was removed)
    counts from when the file was kept. A page and its chart stay while either is attached
    to an unsent alert."""
    held = {_stem(Path(path).name) for path in unsent}
    return [
        f
        for f in files
        if f.stem not in held and now >= deadlines.get(f.product_id, f.kept_at) + keep
    ]


def product_deadlines(config: Config, history: History) -> dict[int, datetime]:
    """Return each product's latest window deadline among the config's orders (with the
    windows page labels gave them); products the database has not seen are left out."""
    product_ids = history.product_ids_of(config.orders)
    deadlines: dict[int, datetime] = {}
    for order in history.labels.apply(config.orders):
        product_id = product_ids.get(order.id)
        if product_id is None:
            continue
        deadline = window_for(order, config.shop_of(order)).deadline
        deadlines[product_id] = max(deadline, deadlines.get(product_id, deadline))
    return deadlines


def prune(config: Config, history: History, *, now: datetime) -> Pruned:
    """Delete the pages and charts kept longer than ``[monitor] keep_evidence`` after their
    orders' windows closed (``prunable``); return what went. Housekeeping never fails a
    command or the daemon: what goes wrong is logged."""
    folder = config.evidence_dir
    try:
        files = kept_files(folder)
        if not files:
            return Pruned()
        old = prunable(
            files,
            deadlines=product_deadlines(config, history),
            unsent=history.outbox.unsent_attachments(),
            keep=config.monitor.keep_evidence,
            now=now,
        )
    except (OSError, sqlite3.Error, MonitorError) as exc:
        logger.warning("could not prune the evidence in %s: %s", folder, exc)
        return Pruned()
    removed = size = 0
    for kept in old:
        try:
            kept.path.unlink()
        except FileNotFoundError:  # another process pruned it first
            continue
        except OSError as exc:
            logger.warning("could not delete %s: %s", kept.path, exc)
            continue
        removed += 1
        size += kept.size
    if removed:
        logger.info(
            "evidence: deleted %d file%s (%d bytes) kept %s past their orders' windows",
            removed,
            "s" * (removed != 1),
            size,
            config.monitor.keep_evidence,
        )
    return Pruned(removed, size)


def _stem(name: str) -> str:
    return name.split(".", 1)[0]
