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
