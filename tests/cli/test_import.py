"""`price-monitor import FILE.csv`: a preview, every bad row by its line, a write only with
--yes; and `export --what orders` is a spreadsheet that import reads back."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from monitor.config import load_config
from monitor.testing import order_table, run_cli, write_config

HEADER = "id,url,title,paid,ordered,shop,quantity,tags,notes\n"
MY_COMMENT = "# my config: keep this line\n"
URLS = 'urls = ["json://127.0.0.1:9/alerts", { url = "json://127.0.0.1:9/f", tags = ["family"] }]'


def config(path: Path, orders: Sequence[dict[str, object]]) -> Path:
    """A 0600 config with a comment of the user's, an untagged notification URL and one
    tagged "family"."""
    path.parent.mkdir(exist_ok=True)
    write_config(path, orders=orders, urls=[])
    text = path.read_text("utf-8").replace("urls = []", URLS)
    path.write_text(MY_COMMENT + text, "utf-8")
    path.chmod(0o600)
    return path


def test_import_reports_every_bad_row_by_its_line_and_writes_nothing(tmp_path: Path) -> None:
    jd = order_table("https://item.jd.com/1.html", "JD-1", shop="jd")
    path = config(tmp_path / "config.toml", [jd])
    before = path.read_bytes()
    sheet = tmp_path / "orders.csv"
    sheet.write_text(
        HEADER
        + "A-1,https://item.jd.com/2.html,Phone,4999.00,2026-11-20,,2,family,\n"  # 2: good
        + 'A-2,https://item.jd.com/3.html,Case,"4,999",2026-11-20,,,,\n'  # 3: a comma
        + 'A-3,https://item.jd.com/4.html,Cable,19.90,2026-11-20,,,,"two\nlines"\n'  # 4-5: good
        + "JD-1,https://item.jd.com/5.html,Again,10,2026-11-20,,,,\n"  # 6: in the config
        + "A-1,https://item.jd.com/6.html,Twice,10,2026-11-20,,,,\n"  # 7: as on line 2
        + "\n"  # 8: blank, passed over
        + "A-4,https://item.jd.com/7.html,Mug,10,2026-02-30,jdd,two,,\n"  # 9: three wrongs
        + "A-5,https://item.jd.com/8.html,Lamp,10,2026-11-20,,,,,surplus\n"  # 10: a cell more
        + "A-6,https://item.jd.com/9.html,Pen,10,2026-11-20,,,work,\n",  # 11: a tag no URL has
        "utf-8",
    )
    result = run_cli(path, "import", str(sheet), "--yes", code=2)
    lines = result.stdout.splitlines()
    assert lines[0] == "orders.csv: 2 orders to add, 6 bad rows"
    assert [line.split()[:3] for line in lines[1:]] == [
        ["line", "id", "shop"],
        ["2", "A-1", "jd"],  # the shop from the URL's domain
        ["4", "A-3", "jd"],
    ]
    printed = [line.strip() for line in result.stderr.splitlines()]
    bad = printed[printed.index("bad rows:") :]  # after the config's own warnings
    assert bad[1] == (
        "orders.csv: line 3 (id A-2): paid: expected a number like 4999.00 (no currency sign "
        'or thousands separator), got "4,999"'
    )
    assert bad[2] == 'orders.csv: line 6 (id JD-1): id "JD-1" is already in the config'
    assert bad[3] == 'orders.csv: line 7 (id A-1): id "A-1" is already on line 2'
    assert sorted(bad[4:7]) == [  # one line per problem
        'orders.csv: line 9 (id A-4): ordered: expected a date like 2026-11-20, got "2026-02-30"',
        'orders.csv: line 9 (id A-4): quantity: expected a whole number, got "two"',
        'orders.csv: line 9 (id A-4): shop: unknown shop "jdd"; did you mean "jd"? known shops: '
        + bad[6].split("known shops: ")[1],
    ]
    assert bad[7] == "orders.csv: line 10 (id A-5): 10 cells, but the header has 9 columns"
    assert bad[8].startswith('orders.csv: line 11 (id A-6): tags: unknown tag "work"')
    assert bad[9:] == ["Nothing was written: correct those rows and run again."]
    assert path.read_bytes() == before


def test_import_previews_then_writes_with_yes_keeping_the_file(tmp_path: Path) -> None:
    path = config(tmp_path / "config.toml", [])
    before = path.read_text("utf-8")
    sheet = tmp_path / "orders.csv"
    sheet.write_text(
        "\ufeff"  # as a spreadsheet saves it
        + HEADER
        + "A-1,https://item.jd.com/2.html,Phone,4999.00,2026-11-20,,2,family,\n"
        + "A-2,https://www.mi.com/shop/buy/detail?product_id=1,Pad,1999,2026-11-21,,,,note\n",
        "utf-8",
    )
    preview = run_cli(path, "import", str(sheet))
    assert preview.stdout.splitlines() == [
        "orders.csv: 2 orders to add",
        "line  id   shop    product  paid       qty  ordered",
        "2     A-1  jd      Phone    ¥4,999.00  2    2026-11-20",
        "3     A-2  xiaomi  Pad      ¥1,999.00  1    2026-11-21",
        f"Nothing written yet: run again with --yes to add them to {path}.",
    ]
    assert path.read_text("utf-8") == before

    written = run_cli(path, "import", str(sheet), "--yes")
    assert f"added 2 orders to {path}" in written.stdout
    after = path.read_text("utf-8")
    assert after.startswith(before) and after.startswith(MY_COMMENT)
    assert tomllib.loads(after, parse_float=Decimal)["orders"] == [
        {
            "id": "A-1",
            "shop": "jd",
            "url": "https://item.jd.com/2.html",
            "title": "Phone",
            "paid": Decimal("4999.00"),
            "ordered": date(2026, 11, 20),
            "quantity": 2,
            "tags": ["family"],
        },
        {
            "id": "A-2",
            "shop": "xiaomi",
            "url": "https://www.mi.com/shop/buy/detail?product_id=1",
            "title": "Pad",
            "paid": 1999,
            "ordered": date(2026, 11, 21),
            "notes": "note",
        },
    ]
    assert path.stat().st_mode & 0o777 == 0o600
    again = run_cli(path, "import", str(sheet), code=2)  # the ids are in the config now
    assert 'line 2 (id A-1): id "A-1" is already in the config' in again.stderr


def test_an_export_of_the_orders_imports_back_as_the_same_orders(tmp_path: Path) -> None:
    orders = [
        order_table("https://item.jd.com/1.html", "JD-1", shop="jd"),
        order_table(
            "https://item.jd.com/100012043978.html",
            "298765432101",
            shop="jd",
            title="索尼 WH-1000XM5, 降噪耳机",  # a comma inside a cell
            delivered=date(2026, 11, 19),
            ordered=date(2026, 11, 18),
            quantity=2,
            window_days=20,
            payment="installments",
            installments=6,
            installment_provider="京东白条",
            threshold="2%",
            interval="3h",
            sku="100012043978",
            variant="黑色",
            selector="span.price",
            tags=["family"],
            notes='line one\nline "two"',
        ),
    ]
    source = config(tmp_path / "config.toml", orders)
    sheet = tmp_path / "orders.csv"
    run_cli(source, "export", "--what", "orders", "-o", str(sheet))
    assert sheet.stat().st_mode & 0o777 == 0o600
    target = config(tmp_path / "other" / "config.toml", [])
    run_cli(target, "import", str(sheet), "--yes")
    exported, imported = load_config(source).orders, load_config(target).orders
    assert len(imported) == 2
    assert [o.model_dump(exclude={"window_source"}) for o in imported] == [
        o.model_dump(exclude={"window_source"}) for o in exported
    ]


def test_cells_that_trip_the_readers_are_bad_rows_or_a_clear_refusal(tmp_path: Path) -> None:
    path = config(tmp_path / "config.toml", [])
    before = path.read_bytes()
    sheet = tmp_path / "orders.csv"
    # "²" is a digit to str.isdigit() and no number to int()
    sheet.write_text(HEADER + "A-1,https://item.jd.com/2.html,Phone,10,2026-11-20,,²,,\n", "utf-8")
    result = run_cli(path, "import", str(sheet), code=2)
    assert "orders.csv: line 2 (id A-1): quantity:" in result.stderr
    # A cell over the csv module's limit: the line it is on, not a traceback
    sheet.write_text(
        HEADER + "A-1,https://item.jd.com/2.html,Phone,10,2026-11-20,,,," + "x" * 200_000 + "\n",
        "utf-8",
    )
    result = run_cli(path, "import", str(sheet), code=1)
    assert "line 2: cannot read the file as CSV: field larger than field limit" in result.stderr
    assert path.read_bytes() == before
