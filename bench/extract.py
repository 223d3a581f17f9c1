"""Extraction speed: pages/s and ms/page, beside selectolax's bare parse of the same pages.

    python bench/extract.py [--seconds 3]

Prints the figures for a generated 150 KB product page and for every fixture page in
tests/fixtures/shops. Extraction should be parse-bound: within 2x of the bare parse.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import product_page  # noqa: E402
from monitor.charset import decode  # noqa: E402
from monitor.extract import Request, extract  # noqa: E402
from monitor.shops import catalogue  # noqa: E402


def rate(work: Callable[[], object], seconds: float) -> float:
    """Return how many times per second ``work`` runs (on one core), after a warm-up."""
    for _ in range(3):
        work()
    count, started = 0, time.process_time()
    while (elapsed := time.process_time() - started) < seconds:
        work()
        count += 1
    return count / elapsed


def report(label: str, pages: list[tuple[str, Callable[[], object]]], seconds: float) -> None:
    def parse_all() -> None:
        for text, _ in pages:
            LexborHTMLParser(text).body  # noqa: B018 - parse only

    def extract_all() -> None:
        for _, run in pages:
            run()

    bare = rate(parse_all, seconds) * len(pages)
    full = rate(extract_all, seconds) * len(pages)
    print(
        f"{label:<34} extract {full:8.0f} pages/s {1000 / full:6.2f} ms/page | "
        f"bare parse {bare:8.0f} pages/s {1000 / bare:6.2f} ms/page | ratio {bare / full:4.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="CPU seconds per measurement")
    args = parser.parse_args()

    page = product_page(1, Decimal("4999.00"))
    request = Request(currency="CNY")
    print(f"generated page: {len(page.encode()) / 1024:.0f} KB")
    report("150 KB product page", [(page, lambda: extract(page, request))], args.seconds)

    fixtures: list[tuple[str, Callable[[], object]]] = []
    for spec in sorted((ROOT / "tests" / "fixtures" / "shops").glob("*/*.html")):
        text = decode(spec.read_bytes(), "text/html")
        shop = catalogue().get(spec.parent.name, catalogue()["generic"])
        fixtures.append((text, lambda text=text, shop=shop: extract(text, Request(), shop=shop)))
    if fixtures:
        size = sum(len(t.encode()) for t, _ in fixtures) / len(fixtures) / 1024
        report(f"{len(fixtures)} fixture pages (avg {size:.0f} KB)", fixtures, args.seconds)


if __name__ == "__main__":
    main()
