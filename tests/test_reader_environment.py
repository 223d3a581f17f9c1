"""What the page readers' fork server is started with: none of the daemon's secrets, and a
malloc that keeps its free heap between pages."""

from __future__ import annotations

import pytest

from monitor.reader import _reader_environment


def test_the_readers_keep_what_python_needs_and_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_TOKEN", "123456:secret")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.check=3")
    environment = _reader_environment()
    assert "TELEGRAM_TOKEN" not in environment
    assert environment["LC_ALL"] == "C.UTF-8"
    # Ours, not the daemon's: glibc keeps up to 16 MiB of a reader's heap between pages.
    assert environment["GLIBC_TUNABLES"] == (
        "glibc.malloc.trim_threshold=16777216:glibc.malloc.mmap_threshold=4194304"
    )


def test_a_shop_crosses_to_a_reader_as_a_view_of_its_fields_made_once() -> None:
    import pickle

    from monitor.models.view import View
    from monitor.reader import _viewed
    from monitor.shops import catalogue

    shop = catalogue()["xiaomi"]
    view = _viewed(shop)
    assert isinstance(view, View) and _viewed(shop) is view
    assert (view.name, view.currency, view.selector) == (shop.name, shop.currency, shop.selector)
    assert shop.api is not None and isinstance(view.api, View)
    assert view.api.items == shop.api.items and view.api.price == shop.api.price
    again = pickle.loads(pickle.dumps(view))
    assert type(again) is View and again.api.item_id == shop.api.item_id
