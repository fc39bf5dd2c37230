"""Which store holds the indexes: one SQLite file per root (the default) or a shared PostgreSQL.

A location is a directory of SQLite indexes or a postgresql:// URL. Without one, $TOKENLEAN_STORE
(a URL) is used if set, else the SQLite default ($TOKENLEAN_INDEX_DIR or the user cache). Callers
above the store get a `Backend` and never look at which kind it is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .catalog import ENV_STORE, index_path, open_store
from .errors import IndexBusy
from .pg_base import is_store_url, redact
from .store import Backend, Store


def backend(location: Path | str | None = None) -> Backend:
    """The backend of a location (see the module docstring)."""
    if location is None and os.environ.get(ENV_STORE):
        location = os.environ[ENV_STORE]
    if is_store_url(location):
        return PostgresBackend(str(location))
    if isinstance(location, str) and "://" in location:
        raise ValueError(f"unsupported store {location!r}: give a postgresql:// URL or a directory")
    return SQLiteBackend(location)


class SQLiteBackend:
    """One SQLite file per root under an index directory; a lock file next to it for writers."""

    kind = "sqlite"

    def __init__(self, index_dir: Path | str | None = None) -> None:
        self.index_dir = index_dir

    def path(self, root: Path) -> Path:
        return index_path(root, self.index_dir)

    def location(self, root: Path) -> str:
        return str(self.path(root))

    def exists(self, root: Path) -> bool:
        return self.path(root).exists()

    def open(self, root: Path, *, repair: bool = True) -> Store:
        return open_store(root, self.index_dir, repair=repair)

    @contextmanager
    def writer(self, root: Path, timeout: float = 0, rebuild: bool = False) -> Iterator[Store]:
        import filelock

        path = self.path(root)
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(f"{path}.lock", timeout=timeout)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise IndexBusy(
                f"another tokenlean process is updating the index of {root} (lock {lock.lock_file}); "
                "wait for it to finish and retry"
            ) from None
        try:
            if rebuild:
                from .sqlite_store import remove_index

                remove_index(path)
            store = self.open(root)
            try:
                yield store
            finally:
                store.close()
        finally:
            lock.release()


class PostgresBackend:
    """Every root a namespace in one PostgreSQL database; writers of a root take its advisory lock."""

    kind = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url

    def location(self, root: Path) -> str:
        return redact(self.url)

    def exists(self, root: Path) -> bool:
        from .pg_base import check_version, connect

        db = connect(self.url)
        try:
            check_version(db, self.url)
            row = db.execute(
                "SELECT 1 FROM roots r JOIN meta m ON m.root_id = r.id AND m.key = 'last_update' "
                "WHERE r.path = %s",
                (str(root.resolve()),),
            ).fetchone()
            return row is not None
        finally:
            db.close()

    def open(self, root: Path, *, repair: bool = True) -> Store:
        from .postgres_store import PostgresStore

        return PostgresStore(self.url, root.resolve())

    @contextmanager
    def writer(self, root: Path, timeout: float = 0, rebuild: bool = False) -> Iterator[Store]:
        from .postgres_store import PostgresStore

        store = PostgresStore(self.url, root.resolve())
        try:
            with store.writing(timeout, rebuild):
                yield store
        finally:
            store.close()
