"""The layout checks itself: arrows point down, pure modules stay pure, commands start light.

The nouns (``monitor.models``) are at the bottom; the pure modules (rules, ledger, messages,
extraction) import only nouns and the standard library; nothing below ``check`` imports
``check``; and the heavy libraries load only in the commands that use them.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "monitor"
HEAVY = (
    "apprise",
    "selectolax",
    "httpx",
    "httpcore",
    "sqlite_utils",
    "apscheduler",
    "click",
    "babel",
    "rich",  # colours and progress, on a terminal only
    "matplotlib",  # charts: history --plot, and drop alerts' attachments
    "numpy",  # matplotlib's; sqlite-utils imports it whenever it is installed
)


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def monitor_imports(path: Path) -> set[str]:
    """The monitor modules a file imports, at its top level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("monitor"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("monitor"))
    return {name for name in found if name in modules()}


# What each layer may import from the project, besides itself.
ALLOWED = {
    "monitor.models": {"monitor.models"},
    "monitor.rules": {"monitor.models", "monitor.backoff", "monitor.ledger"},
    "monitor.ledger": {"monitor.models"},
    "monitor.messages": {"monitor.models", "monitor.messages", "monitor.errors"},
    "monitor.extract": {"monitor.models", "monitor.extract", "monitor.shops"},
    "monitor.shops": {"monitor.models", "monitor.shops"},
}


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_pure_layers_import_only_what_is_below_them(layer: str) -> None:
    for name, path in modules().items():
        if name == layer or name.startswith(layer + "."):
            for imported in monitor_imports(path) - {"monitor"}:  # the package: its version
                assert any(
                    imported == allowed or imported.startswith(allowed + ".")
                    for allowed in ALLOWED[layer]
                ), f"{name} imports {imported}"


def test_nothing_below_check_imports_check() -> None:
    above = {"monitor.check", "monitor.daemon", "monitor.cli", "monitor.demo", "monitor.testing"}
    for name, path in modules().items():
        if any(name == a or name.startswith(a + ".") for a in above):
            continue
        assert "monitor.check" not in monitor_imports(path), f"{name} imports monitor.check"


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_module_is_over_500_lines(name: str) -> None:
    lines = len(modules()[name].read_text("utf-8").splitlines())
    assert lines <= 500, f"{name} has {lines} lines: is it still one noun?"


def loaded_after(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter; return the heavy libraries it loaded."""
    report = "import json, sys; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\n{report}"], capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    return [name for name in HEAVY if name in loaded]


@pytest.mark.parametrize(
    "module", ["monitor.rules", "monitor.ledger", "monitor.models", "monitor.messages"]
)
def test_a_pure_module_loads_no_heavy_library(module: str) -> None:
    assert loaded_after(f"import {module}") == []


def test_help_loads_only_click() -> None:
    code = (
        "from click.testing import CliRunner\nfrom monitor.cli import cli\n"
        "assert CliRunner().invoke(cli, ['--help']).exit_code == 0"
    )
    assert loaded_after(code) == ["click"]


def test_the_page_readers_load_no_pydantic() -> None:
    """A shop reaches them as a View of its fields (monitor.models.view): pydantic's import
    and the models' building were most of every fork server's start."""
    import pickle

    from monitor.reader import _viewed
    from monitor.shops import catalogue

    views = pickle.dumps([_viewed(shop) for shop in catalogue().values()])
    code = (
        "import pickle, sys\n"
        "import monitor.fork_server, monitor.extract.read, monitor.extract.explain\n"
        "shops = pickle.loads(sys.stdin.buffer.read())\n"
        "assert shops and all(shop.name for shop in shops)\n"
        "assert 'pydantic' not in sys.modules, sorted(m for m in sys.modules if 'pydantic' in m)"
    )
    subprocess.run([sys.executable, "-c", code], input=views, check=True, capture_output=True)


def test_the_database_loads_no_numpy_though_it_is_installed() -> None:
    """numpy's import starts OpenBLAS's spinning threads: 0.14 s of every check's CPU."""
    pytest.importorskip("numpy")  # installed with the test extra's matplotlib
    code = "import monitor.history\nimport sqlite_utils.db\nassert sqlite_utils.db.np is None"
    assert "numpy" not in loaded_after(code)
    # Kept out of sqlite-utils only: anything else still imports it.
    assert "numpy" in loaded_after(f"{code}\nimport numpy")


def test_the_alerts_command_offers_every_outbox_status() -> None:
    from monitor.cli.alerts import STATUSES
    from monitor.models import OutboxStatus

    assert tuple(s.value for s in OutboxStatus) == STATUSES


def test_the_refunded_command_offers_every_refund_form() -> None:
    from monitor.cli.orders import FORMS
    from monitor.models import RefundForm

    assert tuple(f.value for f in RefundForm) == FORMS


def test_status_loads_neither_apprise_nor_the_fetch_and_parse_libraries(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[monitor]\ndatabase = "{tmp_path / "state.db"}"\n[notify]\nurls = ["json://127.0.0.1:9/x"]\n'
        '[[orders]]\nid = "1"\nshop = "jd"\nurl = "https://item.jd.com/1.html"\ntitle = "Phone"\n'
        'paid = 4999.00\nordered = 2026-11-20\nselector = ".price"\n'
    )
    code = (
        "from click.testing import CliRunner\nfrom monitor.cli import cli\n"
        f"result = CliRunner().invoke(cli, ['-c', {str(config)!r}, 'status'])\n"
        "assert result.exit_code == 0, result.output\nassert 'Phone' in result.output"
    )
    assert loaded_after(code) == ["sqlite_utils", "click"]


def test_a_check_that_only_prints_its_alerts_never_loads_apprise(tmp_path: Path) -> None:
    """console:// is the project's own scheme: sending to it needs none of Apprise's plugins,
    which Apprise imports all at once to look up any scheme."""
    from monitor.testing.shop import LoopbackShop

    with LoopbackShop() as shop:
        url = shop.add("/p.html", "89.00", currency="USD", title="Phone")
        config = tmp_path / "config.toml"
        config.write_text(
            f'[monitor]\ndatabase = "{tmp_path / "state.db"}"\nconfirm = "0s"\n'
            '[notify]\nurls = ["console://"]\n'
            f'[[orders]]\nid = "1"\nshop = "generic"\nurl = "{url}"\ntitle = "Phone"\n'
            f'paid = 99.00\ncurrency = "USD"\nordered = {datetime.now(UTC).date()}\nwindow_days = 30\n'
        )
        code = (
            "from click.testing import CliRunner\nfrom monitor.cli import cli\n"
            f"result = CliRunner().invoke(cli, ['-c', {str(config)!r}, 'check'])\n"
            "assert result.exit_code == 0, result.output\n"
            "assert 'Phone' in result.output and '10.00' in result.output, result.output"
        )
        loaded = loaded_after(code)
        assert "apprise" not in loaded
        # Nor the HTML parser: the page readers have it, and the check's process reads no page;
        # nor httpx: a GET without a proxy is sent on our own transport.
        assert "selectolax" not in loaded
        assert "httpx" not in loaded
