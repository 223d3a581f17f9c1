"""Private by default: the state is readable by its user only, whatever the umask, and a
webhook's secret never reaches a log line, the CLI's output or the outbox.

Modes are read from real files; the umask is set to a common loose one (022) and put back.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from monitor.evidence import keep_page
from monitor.history import History
from monitor.models import AlertKind, Extraction, Message, Money, Observation, Status
from monitor.private import private_dir, private_file, tighten
from monitor.testing import JsonReceiver, order_table, run_cli, write_config

T0 = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
SECRET = "Zq8HookSecret4711"
API_KEY = "K3yValue9000secret"


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The umask most desktops run with outside systemd: files 0644, folders 0755."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def sidecars(database: Path) -> list[Path]:
    return [database.with_name(database.name + s) for s in ("-wal", "-shm")]


def observation(body: bytes) -> Observation:
    extraction = Extraction(Status.PRICE, price=Money(Decimal("1.00"), "CNY"))
    return Observation("https://shop/p", T0, extraction, body=body)


@pytest.mark.usefixtures("loose_umask")
def test_a_new_database_is_0600_in_a_0700_folder(tmp_path: Path) -> None:
    database = tmp_path / "new" / "state" / "state.db"
    history = History.open(database)
    try:
        history.product_id("https://shop/p", None, now=T0)  # a write: the WAL is in use
        assert [mode(p) for p in sidecars(database)] == [0o600, 0o600]
    finally:
        history.close()
    assert mode(tmp_path / "new") == 0o700  # a missing parent, made by the program too
    assert mode(database.parent) == 0o700
    assert mode(database) == 0o600


@pytest.mark.usefixtures("loose_umask")
def test_sqlite_gives_the_wal_and_shm_files_it_creates_the_database_files_mode(
    tmp_path: Path,
) -> None:
    # Not History's doing: a plain sqlite3 connection, such as `sqlite3 state.db` run by
    # hand, recreates -wal and -shm once the last one closed; SQLite copies the db's mode.
    database = tmp_path / "state.db"
    History.open(database).close()
    assert [p.exists() for p in sidecars(database)] == [False, False]  # removed on close
    conn = sqlite3.connect(database)
    try:
        conn.execute("INSERT INTO products (url, sku, created_at) VALUES ('u', '', 'now')")
        conn.commit()
        assert [mode(p) for p in sidecars(database)] == [0o600, 0o600]
    finally:
        conn.close()


LEFT_BY_AN_OLD_VERSION = """
import os, sqlite3, sys
os.umask(0o022)
os.makedirs(sys.argv[1], mode=0o755)
conn = sqlite3.connect(os.path.join(sys.argv[1], "state.db"))
conn.execute("PRAGMA journal_mode = wal")
conn.execute("CREATE TABLE old (x)")
conn.execute("INSERT INTO old VALUES (1)")
conn.commit()
os._exit(0)  # killed: the -wal and -shm files stay, 0644 like the database
"""


def test_an_old_loose_database_is_tightened_and_a_folder_the_user_named_is_not(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "srv"  # as in database = "/srv/x/state.db": the user's folder
    subprocess.run([sys.executable, "-c", LEFT_BY_AN_OLD_VERSION, str(folder)], check=True)
    database = folder / "state.db"
    assert [mode(p) for p in (folder, database, *sidecars(database))] == [0o755] + [0o644] * 3
    history = History.open(database)
    try:
        assert [mode(p) for p in (database, *sidecars(database))] == [0o600] * 3
        assert mode(folder) == 0o755  # not the program's to change
        assert history.db.execute("SELECT x FROM old").fetchall() == [(1,)]  # nothing lost
    finally:
        history.close()


def test_tightening_only_clears_group_and_other_bits_and_never_loosens(tmp_path: Path) -> None:
    stricter = tmp_path / "page.html.gz"
    stricter.write_bytes(b"")
    stricter.chmod(0o400)  # the user made it read-only
    shared = tmp_path / "state.db"
    shared.write_bytes(b"")
    shared.chmod(0o664)
    assert (tighten(stricter), tighten(shared)) == (False, True)
    assert (mode(stricter), mode(shared)) == (0o400, 0o600)
    private_file(stricter)  # an existing file is only tightened, never made 0600
    assert mode(stricter) == 0o400
    folder = tmp_path / "evidence"
    folder.mkdir()
    folder.chmod(0o511)
    assert private_dir(folder, ours=True) is True
    assert mode(folder) == 0o500
    folder.chmod(0o755)
    assert private_dir(folder, ours=False) is False  # the user's folder: left as it is
    assert mode(folder) == 0o755


DEFAULT_PLACE = """
import os, sys
from pathlib import Path
os.umask(0o022)
from monitor.config import default_database_path
from monitor.history import History
database = default_database_path()
assert str(database).startswith(sys.argv[1]), database
database.parent.mkdir(parents=True, mode=0o755)  # left by an older version
History.open(database).close()
print(oct(database.parent.stat().st_mode & 0o777), oct(database.stat().st_mode & 0o777))
"""


def test_the_default_state_folder_is_the_programs_and_is_tightened(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "STATE_DIRECTORY"}
    env["XDG_STATE_HOME"] = str(tmp_path / "xdg")
    done = subprocess.run(
        [sys.executable, "-c", DEFAULT_PLACE, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["0o700", "0o600"]
    assert mode(tmp_path / "xdg") == 0o755  # $XDG_STATE_HOME itself existed: not ours


@pytest.mark.usefixtures("loose_umask")
def test_kept_pages_are_0600_in_a_0700_folder_and_old_ones_are_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "evidence"
    kept = keep_page(folder, 1, observation(b"<html>Shipping to: 1 Main St</html>"))
    assert kept is not None
    assert (mode(folder), mode(Path(kept.path))) == (0o700, 0o600)

    old = tmp_path / "old-evidence"  # as an older version left it
    old.mkdir()
    (old / "product-1-20261101T000000Z-000000000000.html.gz").write_bytes(b"\x1f\x8b")
    assert (mode(old), mode(next(old.iterdir()))) == (0o755, 0o644)
    kept = keep_page(old, 2, observation(b"<html>2</html>"))
    assert kept is not None
    assert mode(old) == 0o700
    assert sorted(mode(p) for p in old.iterdir()) == [0o600, 0o600]


# --- a webhook's secret, from the config to everywhere it could be shown --------------------


def all_text(database: Path) -> str:
    """Every value of every row of every table, and the database files' raw bytes."""
    with sqlite3.connect(database) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        values = [repr(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in tables]
    raw = [p.read_bytes().decode("latin-1") for p in (database, *sidecars(database)) if p.exists()]
    return "\n".join(values + raw)


@pytest.mark.usefixtures("loose_umask")
@pytest.mark.parametrize("how", ["down", "500"])
def test_a_failing_webhooks_secret_is_shown_nowhere(
    how: str, tmp_path: Path, flaky_receiver: Callable[..., JsonReceiver]
) -> None:
    receiver = flaky_receiver()
    if how == "500":
        receiver.up()
        receiver.fail_with = 500
    url = f"json://127.0.0.1:{receiver.port}/hook/{SECRET}?+X-Api-Key={API_KEY}"
    order = order_table("http://127.0.0.1:9/phone", "PHONE")
    path = write_config(tmp_path / "config.toml", orders=[order], urls=[url])
    path.chmod(0o600)
    database = tmp_path / "state.db"
    history = History.open(database)
    try:  # an alert owed, as a check would have left it
        message = Message("test:privacy", "PHONE", AlertKind.TEST, "Price drop", "Body")
        assert history.outbox.enqueue([message], now=datetime.now(UTC)) == 1
    finally:
        history.close()

    outputs = {
        "config check": run_cli(path, "config", "check").output,
        # -vv: Apprise's debug lines too, which name the URL it posts to, and the log lines
        "alerts --retry": run_cli(path, "-vv", "alerts", "--retry").output,
        "alerts": run_cli(path, "alerts").output,
        "notify-test": run_cli(path, "-vv", "notify-test", code=1).output,
    }
    shown = f"json://127.0.0.1:{receiver.port}/hook/Z...1"
    assert f"notify: {shown}\n" in outputs["config check"]
    posted = f"JSON POST URL: http://127.0.0.1:{receiver.port}/hook/Z...1 "
    assert posted in outputs["alerts --retry"]  # Apprise's own line, masked
    assert f"alert 1 not sent ({shown}: failure" in outputs["alerts --retry"]  # the log line
    assert "retried: 0 sent, 1 failed" in outputs["alerts --retry"]
    assert f"— {shown}: failure" in outputs["alerts"]  # the stored error
    assert f"FAIL {shown}  (failure" in outputs["notify-test"]
    for command, output in outputs.items():
        assert SECRET not in output and API_KEY not in output, command
    stored = all_text(database)
    assert f"{shown}: failure" in stored  # the outbox's last error, masked
    assert SECRET not in stored and API_KEY not in stored
