"""The real program, run the way a user runs it: ``price-monitor run`` as a process of its own,
and one-shot commands in-process through click's runner."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from click.testing import CliRunner, Result


class DaemonProcess:
    """The real `price-monitor run` (``python -m monitor``), its output kept in a file."""

    def __init__(self, config: Path, log: Path, env: Mapping[str, str] | None = None) -> None:
        self.log_path = log
        self._log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "-c", str(config), "run"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        """SIGTERM, as systemd stops the service; return the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()


def run_cli(config: Path, *args: str, code: int = 0) -> Result:
    """Run `price-monitor -c CONFIG ARGS...` in-process; assert its exit code; return it."""
    from monitor.cli import cli

    result = CliRunner().invoke(cli, ["-c", str(config), *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result
