"""The decision: given one strategy's candidates and what the order says, a price or why not.

More than one distinct price with no SKU to choose between them is ``unknown`` with the
prices listed: never the lowest, never the first. A price in another currency than the
order's is ``unknown`` too, but carried as ``foreign`` (worth a "needs review").
"""

from __future__ import annotations

from decimal import Decimal

from monitor.extract import prices
from monitor.extract.document import clip
from monitor.extract.request import Request
from monitor.models import Availability, Candidate, Extraction, Money, Status

# No price of anything bought online reaches this many units of any currency (a car costs
# about 10^9 Vietnamese dong): a number this large is a misread page or a JSON typo.
PRICE_CEILING = Decimal(10) ** 10


def unusable(amount: Decimal) -> str | None:
    """Say why an amount cannot be a price (not a number, 0 or below, absurdly large), or None
    when it can."""
    if not amount.is_finite():
        return "not a number"
    if amount <= 0:
        return "0 or below"
    if amount >= PRICE_CEILING:
        return f"far too large ({amount:.3E})"
    return None


def decide(
    strategy: str, candidates: list[Candidate], request: Request, *, lang: str = ""
) -> Extraction:
    """Given one strategy's candidates, return a price, or unknown saying why not."""
    refused = next((c.refused for c in candidates if c.refused), None)
    if refused is not None:  # a price we cannot read: no other one is known to be the price
        return Extraction(Status.UNKNOWN, strategy=strategy, reason=refused)
    usable = [c for c in candidates if unusable(c.amount) is None]
    if not usable:
        return Extraction(
            Status.UNKNOWN,
            strategy=strategy,
            reason=f"no valid price: the price found is {unusable(candidates[0].amount)}",
        )
    variant_confirmed = True
    if request.sku:
        with_sku = [c for c in usable if c.sku is not None]
        # Nothing on the page names a SKU: the price is the variant's only if the URL is.
        variant_confirmed = bool(with_sku) or request.sku.lower() in request.product_url.lower()
        if with_sku:
            usable = [c for c in with_sku if _same_sku(c.sku, request.sku)]
            if not usable:
                skus = ", ".join(sorted({c.sku for c in with_sku if c.sku}))
                return Extraction(
                    Status.UNKNOWN,
                    strategy=strategy,
                    reason=f"no offer for sku {request.sku} (the page offers {clip(skus)})",
                )
    amounts = sorted({c.amount for c in usable})
    if len(amounts) > 1:
        listed = ", ".join(f"{a:f}" for a in amounts[:8])
        why = "and none has the order's sku" if request.sku else "and no sku to choose one"
        return Extraction(
            Status.UNKNOWN, strategy=strategy, reason=f"several prices ({listed}) {why}"
        )
    chosen = usable[0]
    currency = _currency(usable, request.currency, lang)
    if currency is None:
        stated = ", ".join(sorted({c.currency or "?" for c in usable}))
        expected = request.currency or "one currency (give the order's currency)"
        foreign = _currency(usable, None, lang)
        notes = sorted({n for c in usable if c.currency and (n := prices.sign_note(c.currency))})
        return Extraction(
            Status.UNKNOWN,
            strategy=strategy,
            reason=f"the price is in {stated}, not {expected}"
            + (f" ({'; '.join(notes)})" if notes else ""),
            foreign=Money(chosen.amount, foreign) if foreign and request.currency else None,
        )
    availability = next(
        (c.availability for c in usable if c.availability is not Availability.UNSTATED),
        Availability.UNSTATED,
    )
    return Extraction(
        Status.PRICE,
        price=Money(chosen.amount, currency),
        strategy=strategy,
        availability=availability,
        variant_confirmed=variant_confirmed,
    )


def _same_sku(found: str | None, wanted: str) -> bool:
    return found is not None and found.strip().lower() == wanted.strip().lower()


def _currency(candidates: list[Candidate], expected: str | None, lang: str = "") -> str | None:
    """Return the currency of the price: the order's, when the page agrees with it.

    Without an order (a probe of a page from no known shop) an ambiguous sign is read the
    way the page's language suggests: ``¥`` is yuan on a Chinese page and yen on a Japanese
    one; ``$`` is US dollars unless the page says another dollar country.
    """
    stated = {c.currency for c in candidates if c.currency}
    if expected is not None:
        return expected if all(prices.currency_agrees(s, expected) for s in stated) else None
    if len(stated) != 1:
        return None
    (sign,) = stated
    codes = prices.currencies_for(sign)
    if len(codes) == 1:
        return next(iter(codes))
    return prices.likely_currency(sign, lang)
