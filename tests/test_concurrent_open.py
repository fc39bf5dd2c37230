"""Several processes opening the same fresh database at once (two servers started together) must all
get a migrated database: the schema version is re-read under the write lock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

_OPEN = """
import sys, time
from pathlib import Path
start = float(sys.argv[3])
while time.time() < start:
    time.sleep(0.001)
if sys.argv[1] == "ledger":
    from tokenlean.indexers.ledger_store import LedgerStore
    LedgerStore(Path(sys.argv[2])).close()
else:
    from tokenlean.indexers.sqlite_store import SQLiteStore
    SQLiteStore(Path(sys.argv[2]), Path(sys.argv[2]).parent).close()
print("ok")
"""


@pytest.mark.parametrize("kind", ["ledger", "index"])
def test_processes_opening_one_fresh_database_together_all_succeed(tmp_path: Path, kind: str):
    import time

    path = tmp_path / kind / "db.sqlite"
    start = str(time.time() + 1.5)  # after every interpreter has started and imported
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _OPEN, kind, str(path), start],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0 and out.strip() == "ok", err[-2000:]


def test_a_fresh_database_locked_by_another_connection_is_waited_for(tmp_path: Path):
    """SQLite refuses the switch to WAL at once, without its busy timeout, while another connection
    holds a lock on a new file; opening must wait for the lock, not fail."""
    import threading
    import time

    from tokenlean.indexers import sqlite_driver
    from tokenlean.indexers.ledger_store import LedgerStore, ledger_path

    path = ledger_path(tmp_path / "db.sqlite")
    path.parent.mkdir(parents=True, exist_ok=True)
    reader = sqlite_driver.connect(str(path), isolation_level=None, check_same_thread=False)
    reader.execute("CREATE TABLE other(x)")
    reader.execute("BEGIN")
    reader.execute("SELECT * FROM other").fetchall()  # a read lock, as a process mid-migration holds
    writer = sqlite_driver.connect(str(path), isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")  # and a reserved lock
    release = threading.Timer(0.4, lambda: (reader.execute("COMMIT"), writer.execute("COMMIT")))
    release.start()
    started = time.monotonic()
    store = LedgerStore(tmp_path / "db.sqlite")
    waited = time.monotonic() - started
    release.join()
    try:
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.schema_version() == store.migrations.latest
        assert waited >= 0.3  # it waited for the locks rather than slipping past them
    finally:
        store.close()
        reader.close()
        writer.close()
