"""What every tokenlean SQLite database shares: WAL connections per thread, write transactions,
and numbered migrations recorded in a `meta` table."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from . import sqlite_driver
from .errors import TokenleanError
from .migrations import Migrations

_BUSY_TIMEOUT = 30.0  # seconds a connection waits for another process's lock


def _enable_wal(db: sqlite3.Connection) -> None:
    """Put the file in WAL mode, waiting out other processes that hold it.

    Switching a fresh file to WAL needs a write lock, and SQLite answers "database is locked" at
    once, without calling the busy handler, when another connection holds a read or reserved lock
    on it (several servers opening one new ledger together: 1 of 6 failed on a 2-core CI run).
    Once the file is in WAL mode the switch is a no-op, so this loop only ever runs on a new file.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT
    pause = 0.005
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite_driver.errors() as exc:
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


class SQLiteDatabase:
    """A SQLite file opened in WAL mode, one connection per thread, migrated on open."""

    migrations: Migrations  # set by subclasses
    what = "database"  # how messages name this file

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.location = str(db_path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._migrate()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite_driver.connect(
            str(self.db_path), isolation_level=None, check_same_thread=False, timeout=_BUSY_TIMEOUT
        )
        _enable_wal(db)
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA temp_store=MEMORY")
        # No mmap: each thread's connection mapped the file again, and the mapped pages count in the
        # process's RSS once per mapping (8 threads searching the stdlib index: peak RSS 682 MB with a
        # 256 MB mmap, 222 MB without). It costs the brute-force vector scan ~16 ms (stdlib: vector
        # p50 30 -> 46 ms, fused 52 -> 69 ms), well inside the 100 ms target; BM25 is unchanged.
        return db

    @property
    def db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._connect()
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    def close(self) -> None:
        with self._lock:
            for db in self._connections:
                with suppress(*sqlite_driver.errors()):
                    db.close()
            self._connections.clear()
        self._local = threading.local()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        self._local.dirty = True
        try:
            yield db
        except BaseException:
            # SQLite has already rolled back after a full disk or an I/O error: ROLLBACK would fail
            # and hide the error that matters.
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _migrate(self) -> None:
        version = self.schema_version()
        latest = self.migrations.latest
        if version > latest:
            raise self.version_error(
                f"the {self.what} at {self.db_path} has schema version {version}, newer than this tokenlean "
                f"understands ({latest}): upgrade tokenlean, or move the file aside"
            )
        for number, name, fn in self.migrations.after(version):
            with self._write() as w:
                # Another process may have opened the same fresh file at the same moment (two servers
                # started together): the version is read again under the write lock.
                if self.schema_version() >= number:
                    continue
                fn(w)
                w.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?), ('migration', ?)",
                    (str(number), name),
                )

    def version_error(self, message: str) -> Exception:
        return TokenleanError(message)

    def schema_version(self) -> int:
        db = self.db
        if not db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone():
            return 0
        row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0]) if row else 0

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, values: dict[str, str]) -> None:
        with self._write() as db:
            db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", values.items())
