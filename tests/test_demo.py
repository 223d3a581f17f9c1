"""`price-monitor demo` as a user runs it: the real console script, start to finish."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.demo import DATABASE, demo_config


def price_monitor() -> list[str]:
    script = Path(sys.executable).parent / "price-monitor"
    return [str(script)] if script.exists() else [shutil.which("price-monitor") or "price-monitor"]


def test_the_demo_prints_both_alerts_with_their_support_requests(tmp_path: Path) -> None:
    done = subprocess.run(
        [*price_monitor(), "demo", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    # The Chinese alert, with the support request for the installment order.
    for fragment in (
        "可申请退差价 ¥400.00：Xiaomi 14 Pro（订单 5231120712345678）",
        "订单号：5231120712345678",
        "实付单价：¥4,999.00",
        "差价：¥400.00 × 1 = ¥400.00",
        "支付方式：分期付款（花呗，12 期）",
        "本单为 12 期分期付款（花呗）：请将差价原路退回分期账户（冲抵分期本金）",
    ):
        assert fragment in out, fragment
    # The English one, for two headphones.
    for fragment in (
        "Price drop: claim $100.00 on Quiet Comfort ANC Headphones (order BBY01-806512345)",
        "Order number: BBY01-806512345",
        "Difference: $50.00 × 2 = $100.00",
    ):
        assert fragment in out, fragment
    assert "2 alerts sent." in out
    assert (tmp_path / "config.toml").exists() and (tmp_path / "price-monitor.db").exists()

    # Run again in the same folder: it starts afresh, and its alerts are sent again.
    evidence = set((tmp_path / "evidence").iterdir())
    assert evidence
    again = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path)], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith(f"Starting afresh: the earlier demo's files in {tmp_path}")
    assert "Order number: BBY01-806512345" in again.stdout and "2 alerts sent." in again.stdout
    assert not evidence & set((tmp_path / "evidence").iterdir())  # the old pages went
    with sqlite3.connect(tmp_path / "price-monitor.db") as conn:
        assert conn.execute("SELECT count(*) FROM alerts").fetchone()[0] == 2


def test_the_demo_refuses_a_folder_that_holds_what_it_did_not_write(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "config.toml").write_text("[monitor]\n", "utf-8")
    result = CliRunner().invoke(cli, ["demo", "--dir", str(mine)])
    assert result.exit_code == 2
    assert "holds no config.toml written by the demo" in result.stderr
    assert (mine / "config.toml").read_text("utf-8") == "[monitor]\n"

    # The demo's own folder, with a file of the user's among its evidence: nothing goes.
    demo = tmp_path / "demo"
    (demo / "evidence").mkdir(parents=True)
    (demo / "config.toml").write_text(
        demo_config("http://127.0.0.1:9", demo / DATABASE, date(2026, 11, 20))
    )
    (demo / DATABASE).write_bytes(b"")
    (demo / "evidence" / "product-1-20261202T071912Z-a327217b6d1d.html.gz").write_bytes(b"")
    (demo / "evidence" / "receipt.pdf").write_bytes(b"%PDF")
    result = CliRunner().invoke(cli, ["demo", "--dir", str(demo)])
    assert result.exit_code == 2
    assert "holds files the demo did not write (evidence/receipt.pdf)" in result.stderr
    assert sorted(p.name for p in demo.rglob("*")) == [
        "config.toml",
        "evidence",
        DATABASE,
        "product-1-20261202T071912Z-a327217b6d1d.html.gz",
        "receipt.pdf",
    ]


@pytest.mark.parametrize("args", [["--help"], ["-m", "monitor", "--help"]])
def test_the_cli_starts_both_ways(args: list[str]) -> None:
    command = [*price_monitor(), *args] if args[0] != "-m" else [sys.executable, *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0
    assert "Watch the prices of things you already bought" in done.stdout
