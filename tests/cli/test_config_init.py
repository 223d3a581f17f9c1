"""`price-monitor config init`: the packaged example, written once, never over a file."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli
from monitor.cli.edit import PAYMENTS
from monitor.config.edit import example_text
from monitor.models import Payment

ROOT = Path(__file__).resolve().parents[2]


def invoke(*args: str, env: dict[str, str | None]) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_init_writes_the_example_that_config_check_accepts_and_never_overwrites(
    tmp_path: Path,
) -> None:
    env: dict[str, str | None] = {
        "PRICE_MONITOR_CONFIG": None,
        "CONFIGURATION_DIRECTORY": None,
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    path = tmp_path / "xdg" / "price-monitor" / "config.toml"
    code, out, _ = invoke("config", "init", env=env)
    assert code == 0
    assert out == (
        f"wrote {path} (mode 0600): the example's notification URLs and its 3 orders "
        "(5231120712345678, 298765432101, A-100231) are to be replaced with yours, then run "
        "`price-monitor config check`\n"
    )
    assert path.read_text("utf-8") == example_text()
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700

    # As it is, with its example orders and URLs, the file is a valid config.
    code, out, err = invoke("config", "check", env=env)
    assert code == 0, err
    assert out.startswith(f"{path}: OK, 3 orders (")  # how many are watched: by today's date

    path.write_text("# mine\n", "utf-8")
    code, out, err = invoke("config", "init", env=env)
    assert code == 1
    assert (
        err
        == f"price-monitor: {path} exists already; it was left as it is (-c NEW_PATH writes another)\n"
    )
    assert path.read_text("utf-8") == "# mine\n"


def test_init_writes_where_c_says(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "config.toml"
    code, out, _ = invoke("-c", str(path), "config", "init", env={})
    assert code == 0 and out.startswith(f"wrote {path} (mode 0600)")
    assert path.read_bytes() == (ROOT / "config.example.toml").read_bytes()


def test_a_missing_config_points_at_config_init(tmp_path: Path) -> None:
    code, _, err = invoke("-c", str(tmp_path / "nope.toml"), "config", "check", env={})
    assert code == 2
    assert "file not found; `price-monitor config init` writes an example there" in err


def test_the_packaged_example_is_the_repositorys() -> None:
    """``pip install .`` ships monitor/config/example.toml; the repository's
    config.example.toml, which the README points at, must say the same."""
    assert example_text() == (ROOT / "config.example.toml").read_text("utf-8")
    assert '"config/example.toml"' in (ROOT / "pyproject.toml").read_text("utf-8")


def test_add_offers_every_payment() -> None:
    assert tuple(p.value for p in Payment) == PAYMENTS
