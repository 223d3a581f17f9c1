"""The strategy registry checks itself: every entry is well-formed and has its own tests."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from monitor.extract import STRATEGIES, Request, Strategy
from tests.extract.pages import GENERIC, document, page

HERE = Path(__file__).parent


@pytest.mark.parametrize("strategy", STRATEGIES, ids=[s.name for s in STRATEGIES])
def test_every_strategy_is_a_module_with_its_name_and_its_own_tests(strategy: Strategy) -> None:
    module = importlib.import_module(strategy.find.__module__)
    assert strategy.name == module.NAME
    stem = module.__name__.rsplit(".", 1)[1]
    assert (HERE / f"test_{stem}.py").is_file(), f"no tests/extract/test_{stem}.py"
    assert strategy.find(document(page()), Request(), GENERIC) == []  # a page without prices


def test_the_strategies_run_in_their_order_of_trust() -> None:
    assert [s.name for s in STRATEGIES] == [
        "script-json",
        "selector",
        "json-ld",
        "microdata",
        "rdfa",
        "opengraph",
        "regex",
    ]
    assert len({s.name for s in STRATEGIES}) == len(STRATEGIES)
