"""Pages written the way real shops write them, each with the verdict a careful person reaches.

``tests/fixtures/corpus/<case>.html`` sits beside ``<case>.toml``: the order's side
(``[request]``: the URL, which picks the shop as ``probe`` does, the currency, a sku, the
day it is read on) and the verdict (``[expect]``): a price, an unknown with the words its
reason must hold, or a "needs review" with both of the page's prices. The corpus covers
what real pages get wrong (JSON-LD written loosely, small static pages, several products on
one page, legacy and lower-case currency codes, structured data gone stale), written from
the schema.org vocabulary, not from the extractor.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from monitor.extract import Request, extract
from monitor.models import Status
from monitor.probe import pick_shop
from monitor.shops import catalogue

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"


@dataclass(frozen=True)
class Case:
    name: str
    page: Path
    request: dict[str, Any]
    expect: dict[str, Any]


def cases() -> list[Case]:
    found = []
    for spec in sorted(CORPUS.glob("*.toml")):
        data = tomllib.loads(spec.read_text("utf-8"))
        found.append(Case(spec.stem, spec.with_suffix(".html"), data["request"], data["expect"]))
    return found


CASES = cases()


def test_the_corpus_covers_every_kind_of_verdict() -> None:
    kinds = {c.expect["status"] for c in CASES} | {
        "review" for c in CASES if c.expect.get("review")
    }
    assert kinds == {"price", "unknown", "review"}
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_verdict(case: Case) -> None:
    url = case.request["url"]
    today = case.request.get("today")
    request = Request(
        sku=case.request.get("sku"),
        currency=case.request["currency"],
        product_url=url,
        today=today if isinstance(today, dt.date) else None,
    )
    shop = pick_shop(url, catalogue(), None)
    result = extract(case.page.read_text("utf-8"), request, shop=shop, url=url)
    expect = case.expect
    got = (result.status.value, result.price, result.strategy, result.reason)
    assert result.status is Status(expect["status"]), got
    if result.status is Status.PRICE:
        assert result.price is not None
        assert result.price.amount == Decimal(expect["amount"]), got
        assert result.price.currency == expect["currency"], got
    if "strategy" in expect:
        assert result.strategy == expect["strategy"], got
    if "reason" in expect:
        assert expect["reason"] in result.reason, got
    if "page" in expect:
        assert result.page.value == expect["page"], got
    assert result.needs_review is bool(expect.get("review")), got
    if expect.get("review"):
        assert result.disagreement is not None
        assert result.disagreement.shown.amount == Decimal(expect["shown"]), got
        assert result.disagreement.structured.amount == Decimal(expect["structured"]), got
