"""The systemd units in systemd/: they load cleanly and keep their sandbox tight.

These run the real `systemd-analyze` (no running systemd needed: `verify` starts a manager
in test mode, `security --offline=yes` reads the file) and skip only where it isn't installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNIT_DIR = Path(__file__).resolve().parent.parent / "systemd"
SYSTEM_UNITS = (
    "price-monitor.service",
    "price-monitor-check.service",
    "price-monitor-check.timer",
)
USER_UNITS = tuple(f"user/{name}" for name in SYSTEM_UNITS)
SANDBOXED = ("price-monitor.service", "price-monitor-check.service")
MAX_EXPOSURE = 1.5

# The only verify complaint we accept: the program isn't installed on the test machine.
MISSING_BINARY = re.compile(
    r"(?P<unit>[\w.@-]+): Command (?P<path>\S+) is not executable: No such file or directory"
)
EXPOSURE = re.compile(r"Overall exposure level for (?P<unit>\S+): (?P<level>\d+(?:\.\d+)?)")

# Settings that differ between the daemon and the one-shot check by design; everything
# else (user, directories, credentials, sandbox) must be the same in both.
LIFECYCLE = {
    "Type",
    "NotifyAccess",
    "ExecStart",
    "ExecReload",
    "WatchdogSec",
    "Restart",
    "RestartSec",
    "TimeoutStartSec",
    "TimeoutStopSec",
}

Unit = dict[str, dict[str, list[str]]]


@pytest.fixture(scope="module")
def systemd_analyze() -> str:
    path = shutil.which("systemd-analyze")
    if path is None:
        pytest.skip("systemd-analyze is not on PATH")
    return path


def analyze_env(tmp_path: Path) -> dict[str, str]:
    """An environment that makes systemd-analyze's output the same on every machine.

    A plain function, not a fixture: pytest prints a failing test's arguments, and this
    holds the whole environment.
    """
    home = tmp_path / "home"  # %h: so an installed ~/.local/bin/price-monitor doesn't matter
    runtime = tmp_path / "runtime"  # --user needs $XDG_RUNTIME_DIR, even as root
    home.mkdir()
    runtime.mkdir(mode=0o700)
    # The caller's SYSTEMD_* (unit paths, log level) and XDG_* (user unit paths) must not leak in.
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SYSTEMD_", "XDG_", "JOURNAL_"))
    }
    env.update(
        HOME=str(home),
        XDG_RUNTIME_DIR=str(runtime),
        TMPDIR=str(tmp_path),
        # Warnings (unknown keys, bad values) and errors, on stderr, never to the journal.
        SYSTEMD_LOG_LEVEL="notice",
        SYSTEMD_LOG_TARGET="console",
        SYSTEMD_LOG_COLOR="0",
        SYSTEMD_LOG_TIME="0",
        SYSTEMD_LOG_LOCATION="0",
        SYSTEMD_COLORS="0",
    )
    return env


def parse_unit(path: Path) -> Unit:
    """Return {section: {key: [values]}}; keys like SystemCallFilter= may repeat."""
    sections: Unit = {}
    current: dict[str, list[str]] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not a key=value line: {raw!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(unit: Unit, section: str, key: str) -> str:
    values = unit.get(section, {}).get(key, [])
    assert len(values) == 1, f"[{section}] {key}= should be set once, got {values}"
    return values[0]


def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("name", SYSTEM_UNITS + USER_UNITS)
def test_unit_verifies_clean(name: str, systemd_analyze: str, tmp_path: Path) -> None:
    env = analyze_env(tmp_path)
    path = UNIT_DIR / name
    user = name.startswith("user/")
    exec_start = parse_unit(path).get("Service", {}).get("ExecStart", [""])[0]
    binary = exec_start.split()[0].replace("%h", env["HOME"]) if exec_start else None

    cmd = [systemd_analyze, *(["--user"] if user else []), "verify", "--man=no", str(path)]
    result = run(cmd, env)

    lines = result.stdout.splitlines()
    accepted = [
        line
        for line in lines
        if (m := MISSING_BINARY.fullmatch(line))
        and m["unit"] == path.name
        and binary is not None
        and m["path"] == binary
    ]
    problems = [line for line in lines if line not in accepted]
    shown = f"$ {' '.join(cmd)}\n(exit {result.returncode})\n{result.stdout}"
    assert not problems, f"systemd-analyze verify complained:\n{shown}"
    # A failure exit must be explained by the missing binary, nothing silent.
    assert result.returncode == 0 or accepted, f"systemd-analyze verify failed:\n{shown}"


@pytest.mark.parametrize("name", SANDBOXED)
def test_system_service_exposure(name: str, systemd_analyze: str, tmp_path: Path) -> None:
    cmd = [systemd_analyze, "security", "--offline=yes", "--no-pager", str(UNIT_DIR / name)]
    result = run(cmd, analyze_env(tmp_path))
    shown = f"$ {' '.join(cmd)}\n(exit {result.returncode})\n{result.stdout}"
    assert result.returncode == 0, shown
    match = EXPOSURE.search(result.stdout)
    assert match is not None, f"no overall exposure level in the output:\n{shown}"
    assert match["unit"] == name
    assert float(match["level"]) <= MAX_EXPOSURE, shown


def test_system_daemon_unit() -> None:
    unit = parse_unit(UNIT_DIR / "price-monitor.service")
    service = unit["Service"]
    assert one(unit, "Service", "Type") == "notify"
    assert one(unit, "Service", "NotifyAccess") == "main"
    assert one(unit, "Service", "ExecStart") == "/usr/local/bin/price-monitor run"
    assert "-HUP $MAINPID" in one(unit, "Service", "ExecReload")
    assert one(unit, "Service", "WatchdogSec") not in ("", "0", "infinity")
    assert one(unit, "Service", "Restart") == "on-failure"
    assert one(unit, "Service", "DynamicUser") == "yes"
    assert one(unit, "Service", "StateDirectory") == "price-monitor"
    assert one(unit, "Service", "ConfigurationDirectory") == "price-monitor"
    assert "PYTHONUNBUFFERED=1" in service["Environment"]
    # It must still reach shops, DNS and mail servers, and the notify socket.
    assert set(one(unit, "Service", "RestrictAddressFamilies").split()) >= {
        "AF_UNIX",
        "AF_INET",
        "AF_INET6",
    }
    assert "PrivateNetwork" not in service
    assert "IPAddressDeny" not in service
    assert one(unit, "Install", "WantedBy") == "multi-user.target"


def test_user_daemon_unit() -> None:
    unit = parse_unit(UNIT_DIR / "user" / "price-monitor.service")
    assert one(unit, "Service", "Type") == "notify"
    assert one(unit, "Service", "ExecStart") == "%h/.local/bin/price-monitor run"
    assert "-HUP $MAINPID" in one(unit, "Service", "ExecReload")
    assert one(unit, "Service", "WatchdogSec") not in ("", "0", "infinity")
    assert one(unit, "Service", "Restart") == "on-failure"
    assert one(unit, "Service", "ConfigurationDirectory") == "price-monitor"
    assert "DynamicUser" not in unit["Service"]  # system services only
    assert one(unit, "Install", "WantedBy") == "default.target"


@pytest.mark.parametrize("prefix", ["", "user/"])
def test_check_service_matches_daemon(prefix: str) -> None:
    daemon = parse_unit(UNIT_DIR / f"{prefix}price-monitor.service")["Service"]
    check = parse_unit(UNIT_DIR / f"{prefix}price-monitor-check.service")
    assert one(check, "Service", "Type") == "oneshot"
    assert one(check, "Service", "ExecStart").endswith("/price-monitor check")
    # Same user, directories and sandbox: the two must be able to share one database.
    shared = {k: v for k, v in check["Service"].items() if k not in LIFECYCLE}
    assert shared == {k: v for k, v in daemon.items() if k not in LIFECYCLE}


@pytest.mark.parametrize("prefix", ["", "user/"])
def test_check_timer(prefix: str) -> None:
    timer = parse_unit(UNIT_DIR / f"{prefix}price-monitor-check.timer")
    assert one(timer, "Timer", "OnCalendar") == "hourly"
    assert one(timer, "Timer", "Persistent") == "true"
    assert "RandomizedDelaySec" in timer["Timer"]
    assert one(timer, "Install", "WantedBy") == "timers.target"
    # verify doesn't notice a timer whose service is missing, so check it here.
    assert (UNIT_DIR / f"{prefix}price-monitor-check.service").is_file()


def megabytes(size: str) -> int:
    """``384M`` as 384; ``1G`` as 1024."""
    match = re.fullmatch(r"(\d+)([MG])", size)
    assert match is not None, f"expected a size like 384M, got {size!r}"
    return int(match[1]) * (1024 if match[2] == "G" else 1)


@pytest.mark.parametrize("name", (*SANDBOXED, *(f"user/{n}" for n in SANDBOXED)))
def test_memory_is_bounded_and_a_killed_page_reader_does_not_stop_the_service(name: str) -> None:
    unit = parse_unit(UNIT_DIR / name)
    high = megabytes(one(unit, "Service", "MemoryHigh"))
    hard = megabytes(one(unit, "Service", "MemoryMax"))
    # The bench's daemon with 10,000 products and its readers use about 155 MB: the bounds
    # leave room for that and a page, and throttle before they kill.
    assert 256 <= high < hard <= 1024
    assert one(unit, "Service", "OOMPolicy") == "continue"


def test_the_browser_drop_in_relaxes_only_what_chromium_needs(
    systemd_analyze: str, tmp_path: Path
) -> None:
    drop_in = parse_unit(UNIT_DIR / "browser.conf")
    assert {key for section in drop_in.values() for key in section} == {
        "MemoryDenyWriteExecute",
        "MemoryHigh",
        "MemoryMax",
    }
    assert one(drop_in, "Service", "MemoryDenyWriteExecute") == "no"
    # The unit with the drop-in applied, as systemd merges it: the last setting wins.
    unit = (UNIT_DIR / "price-monitor.service").read_text("utf-8")
    merged = tmp_path / "price-monitor.service"
    merged.write_text(unit + "\n" + (UNIT_DIR / "browser.conf").read_text("utf-8"), "utf-8")
    cmd = [systemd_analyze, "security", "--offline=yes", "--no-pager", str(merged)]
    result = run(cmd, analyze_env(tmp_path))
    assert result.returncode == 0, result.stdout
    assert "✗ MemoryDenyWriteExecute=" in result.stdout
    match = EXPOSURE.search(result.stdout)
    assert match is not None, result.stdout
    assert float(match["level"]) <= MAX_EXPOSURE, result.stdout
