"""Every saved shop page in tests/fixtures/shops gives its expected verdict.

Each ``<shop>/<case>.html`` (or ``.json``, a shop API response) has a ``<case>.toml`` beside
it with the order's side (``[request]``) and the verdict a careful person would reach
(``[expect]``). One parametrized test runs them all, the way urlwatch tests its filters.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from monitor.charset import decode
from monitor.extract import Request, extract
from monitor.models import Status
from monitor.shops import catalogue

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "shops"


@dataclass(frozen=True)
class Case:
    shop: str
    name: str
    page: Path
    request: dict[str, Any]
    expect: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.shop}/{self.name}"


def cases() -> list[Case]:
    found = []
    for spec in sorted(FIXTURES.glob("*/*.toml")):
        pages = [
            p for p in spec.parent.glob(spec.stem + ".*") if p.suffix in (".html", ".json", ".htm")
        ]
        assert len(pages) == 1, f"{spec}: expected one page beside it, found {pages}"
        data = tomllib.loads(spec.read_text("utf-8"))
        found.append(
            Case(spec.parent.name, spec.stem, pages[0], data.get("request", {}), data["expect"])
        )
    return found


CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fixture_verdict(case: Case) -> None:
    shop = catalogue()[case.shop]
    content_type = case.request.get("content_type") or (
        "application/json" if case.page.suffix == ".json" else "text/html"
    )
    text = decode(case.page.read_bytes(), content_type)
    request = Request(
        sku=case.request.get("sku"),
        selector=case.request.get("selector"),
        currency=case.request.get("currency"),
        product_url=case.request.get("product_url", case.request.get("url", "")),
    )
    result = extract(
        text, request, shop=shop, url=case.request.get("url", ""), content_type=content_type
    )
    expect = case.expect
    got = (result.status.value, result.price.amount if result.price else None, result.reason)
    assert result.status is Status(expect["status"]), got
    if result.status is Status.PRICE:
        assert result.price is not None
        assert result.price.amount == Decimal(expect["amount"]), got
        assert result.price.currency == expect["currency"], got
    if "strategy" in expect:
        assert result.strategy == expect["strategy"], (result.strategy, got)
    if "reason" in expect:
        assert expect["reason"].lower() in result.reason.lower(), got
    # The price-protection window the page advertises (JD's "15天价保"), on the pages that show one.
    window = int(expect["window_days"]) if "window_days" in expect else None
    assert result.window_days == window, (result.window_days, got)


def test_every_builtin_shop_has_fixtures() -> None:
    covered = {c.shop for c in CASES}
    missing = sorted(set(catalogue()) - covered)
    assert not missing, f"shops without a fixture page: {missing}"


def test_fixtures_are_realistic_pages() -> None:
    sizes = [c.page.stat().st_size for c in CASES if c.page.suffix == ".html"]
    assert sum(100_000 <= s <= 300_000 for s in sizes) >= len(sizes) // 2, (
        "most pages should be 100-300 KB"
    )
