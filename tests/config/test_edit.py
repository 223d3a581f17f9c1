"""Editing the config as text: an order appended or taken out with every other byte kept,
and the file replaced atomically with its mode, its link and the edits of others kept."""

from __future__ import annotations

import os
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from monitor.config.edit import example_text, with_orders, without_order, write_atomically
from monitor.daemon import _stamp
from monitor.errors import MonitorError

ORDER = {
    "id": "N-1",
    "shop": "jd",
    "url": "https://item.jd.com/1.html",
    "title": '耳机 "Pro"',
    "paid": Decimal("2299.00"),
    "ordered": date(2026, 11, 20),
    "tags": ["family"],
}


def data(text: str) -> dict[str, object]:
    return tomllib.loads(text, parse_float=Decimal)


def test_an_order_is_appended_after_every_byte_of_the_file() -> None:
    text = example_text()
    new = with_orders(text, [ORDER])
    assert new == text + (
        "\n[[orders]]\n"
        'id = "N-1"\n'
        'shop = "jd"\n'
        'url = "https://item.jd.com/1.html"\n'
        'title = "耳机 \\"Pro\\""\n'
        "paid = 2299.00\n"  # as written: never a float's digits
        "ordered = 2026-11-20\n"
        'tags = ["family"]\n'
    )
    assert data(new)["orders"][-1] == ORDER  # type: ignore[index]
    assert with_orders("", [ORDER]).startswith("[[orders]]\n")
    assert with_orders('a = "no newline"', [ORDER]).startswith('a = "no newline"\n\n[[orders]]')
    assert with_orders(text, []) == text


def test_orders_written_as_an_inline_array_are_not_appended_to() -> None:
    with pytest.raises(MonitorError, match="write its orders as \\[\\[orders\\]\\] tables"):
        with_orders('orders = [{ id = "1" }]\n', [ORDER])


def test_an_order_goes_with_the_comment_right_above_it_and_nothing_else() -> None:
    text = example_text()
    jd_comment = '# A JD order with a delivery date and a 15-day 价保 shown on the product page ("15天价保").\n'
    generic_comment = (
        "# Any other shop: the generic profile reads JSON-LD, microdata or OpenGraph prices, or the\n"
        "# CSS selector you give. It has no default window, so the order states it.\n"
    )
    new = without_order(text, "298765432101")
    assert jd_comment not in new and generic_comment in new
    start = text.index(jd_comment)
    end = text.index("\n" + generic_comment)
    assert new == text[:start] + text[end + 1 :]
    assert [o["id"] for o in data(new)["orders"]] == ["5231120712345678", "A-100231"]  # type: ignore[attr-defined]

    # All of them: the documentation of the keys above the first one stays.
    for order_id in ("5231120712345678", "298765432101", "A-100231"):
        text = without_order(text, order_id)
    assert "orders" not in data(text)
    assert "# --- Orders: one [[orders]] table per purchased item" in text
    assert "# notes        optional: anything for yourself\n" in text
    assert "A Xiaomi Mall phone" not in text and "Any other shop" not in text
    with pytest.raises(KeyError):
        without_order(text, "A-100231")


def test_a_numeric_id_is_found_as_the_config_reads_it() -> None:
    text = '[[orders]]\nid = 1001\ntitle = "a"\n\n# about the next\n[[orders]]\nid = "B"\n'
    assert without_order(text, "1001") == '# about the next\n[[orders]]\nid = "B"\n'


def test_the_file_is_replaced_with_its_mode_and_its_link_kept(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "config.toml"
    real.parent.mkdir()
    real.write_text("a = 1\n")
    real.chmod(0o640)
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    write_atomically(link, "a = 2\n", expected=b"a = 1\n")
    assert link.is_symlink() and real.read_text() == "a = 2\n"
    assert real.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in real.parent.iterdir()) == ["config.toml"]

    new = tmp_path / "new.toml"
    write_atomically(new, "b = 1\n")
    assert new.stat().st_mode & 0o777 == 0o600


def test_an_edit_made_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("a = 1\n")
    path.write_text("a = 1\n# edited by hand meanwhile\n")
    with pytest.raises(
        MonitorError, match="changed while it was being edited; nothing was written"
    ):
        write_atomically(path, "a = 2\n", expected=b"a = 1\n")
    assert path.read_text() == "a = 1\n# edited by hand meanwhile\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_the_daemon_notices_a_file_renamed_over_the_config(tmp_path: Path) -> None:
    """Same size, same mtime (a coarse clock, or an editor that keeps it): a new inode."""
    path = tmp_path / "config.toml"
    path.write_text("a = 1\n")
    before = path.stat()
    seen = _stamp(path)
    write_atomically(path, "a = 2\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert _stamp(path) != seen
