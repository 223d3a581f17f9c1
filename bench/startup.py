"""Start-up cost of the command line: CPU time of short commands, and what a pure import loads.

    python bench/startup.py [--runs 5] [--orders 200]

Runs ``price-monitor --help`` and ``price-monitor status`` (on a generated config of
``--orders`` orders, its database synced once beforehand) ``--runs`` times each, and prints
the median CPU time (user + system) of the child process. Then it imports ``monitor.rules`` in
a fresh interpreter and lists which heavy libraries came with it: the pure modules must load
none of them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = (
    "apprise",
    "selectolax",
    "httpx",
    "httpcore",
    "sqlite_utils",
    "apscheduler",
    "click",
    "price_parser",
)


def cpu_seconds(command: list[str], env: dict[str, str]) -> float:
    """Run ``command`` once and return the CPU time (user + system) it used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_cpu(command: list[str], env: dict[str, str], runs: int) -> float:
    return statistics.median(cpu_seconds(command, env) for _ in range(runs))


def write_config(path: Path, orders: int) -> None:
    ordered = datetime.now(UTC).date() - timedelta(days=1)
    lines = [
        "[monitor]",
        f'database = "{path.parent / "state.db"}"',
        "",
        "[notify]",
        'urls = ["json://127.0.0.1:9/alerts"]',
        "",
    ]
    for index in range(orders):
        lines += [
            "[[orders]]",
            f'id = "S{index:05d}"',
            'shop = "jd"',
            f'url = "https://item.jd.com/{100000 + index}.html"',
            f'title = "Product {index}"',
            f'paid = "{1000 + index}.00"',
            f"ordered = {ordered}",
            "",
        ]
    path.write_text("\n".join(lines), "utf-8")
    path.chmod(0o600)  # as the README asks of a file that holds notification URLs


def imported_by(module: str) -> list[str]:
    """Return the heavy top-level packages that ``import module`` loads."""
    code = (
        f"import json, sys; import {module}; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT
    )
    loaded = set(json.loads(done.stdout))
    return [name for name in HEAVY if name in loaded]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--orders", type=int, default=200)
    args = parser.parse_args()
    program = [sys.executable, "-m", "monitor"]
    with tempfile.TemporaryDirectory(prefix="price-monitor-startup-") as tmp:
        config = Path(tmp) / "config.toml"
        write_config(config, args.orders)
        env = {**os.environ, "PRICE_MONITOR_CONFIG": str(config)}
        cpu_seconds([*program, "status"], env)  # creates and syncs the database once
        help_cpu = median_cpu([*program, "--help"], env, args.runs)
        status_cpu = median_cpu([*program, "status"], env, args.runs)
    print(f"price-monitor --help: {help_cpu:.2f} s CPU (median of {args.runs})")
    print(
        f"price-monitor status, {args.orders} orders: {status_cpu:.2f} s CPU (median of {args.runs})"
    )
    heavy = imported_by("monitor.rules")
    print(
        f"import monitor.rules loads: {', '.join(heavy) if heavy else 'none of ' + ', '.join(HEAVY)}"
    )


if __name__ == "__main__":
    main()
