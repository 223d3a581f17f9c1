"""`price-monitor demo` as a user runs it: the real console script, start to finish."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest


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


@pytest.mark.parametrize("args", [["--help"], ["-m", "monitor", "--help"]])
def test_the_cli_starts_both_ways(args: list[str]) -> None:
    command = [*price_monitor(), *args] if args[0] != "-m" else [sys.executable, *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0
    assert "Watch the prices of things you already bought" in done.stdout
