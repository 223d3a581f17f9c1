"""The price-protection window a product page advertises: JD's "15天价保" under 服务支持.

A shop profile's ``window_label`` is a regular expression whose one group is the number of
days; it is searched in the page's visible text (not in its scripts, where a member offer's
"PLUS会员享30天价保" may sit). A check that reads an HTML page
carries what it found in ``Extraction.window_days``, and ``probe`` shows it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from monitor.extract.document import Document
from monitor.extract.verdicts import visible_text

if TYPE_CHECKING:  # config models reach the page readers as Views (monitor.models.view)
    from monitor.models import Shop


# The days a label may give: what an order's window_days may be (``WindowDays``).
MIN_DAYS, MAX_DAYS = 1, 365


def window_label(page: Document, shop: Shop) -> int | None:
    """Return the window the page advertises in days, when the shop has such a label and
    the page shows one; None otherwise (a JSON body, no label, or a number no window has)."""
    if shop.window_label is None or page.is_json:
        return None
    match = re.search(shop.window_label, visible_text(page.tree))
    if match is None or not match.groups() or match.group(1) is None:
        return None
    try:
        days = int(match.group(1))
    except ValueError:
        return None
    return days if MIN_DAYS <= days <= MAX_DAYS else None
