"""The roots an agent works in, their indexes, and keeping those indexes fresh."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tokenlean.indexers.catalog import index_path, open_store
from tokenlean.indexers.errors import IndexBusy, IndexProblem, TokenleanError
from tokenlean.indexers.indexer import Indexer, IndexOptions, IndexSummary, Progress
from tokenlean.indexers.store import FileRow, Store
from tokenlean.indexers.walk import Walker

from .paths import PathRefused, Roots

ProgressFactory = Callable[[Path], Progress | None]


@dataclass
class WorkspaceOptions:
    index_dir: Path | str | None = None  # a folder of SQLite indexes, or a postgresql:// URL
    index: IndexOptions | None = None
    auto_index: bool = True  # build a missing index on first use instead of failing
    refresh_seconds: float = 0.0  # re-walk a root before a query when its last walk is older
    inline_vectors: bool = True  # embed during updates (CLI); a server embeds in the background
    max_read_bytes: int = 2_000_000


class Workspace:
    """Roots, their stores, and freshness. Thread-safe; shared by the CLI and the server."""

    def __init__(
        self,
        roots: list[Path],
        options: WorkspaceOptions | None = None,
        progress: ProgressFactory | None = None,
        why_no_roots: str = "",
    ) -> None:
        for root in roots:
            if not root.exists():
                raise IndexProblem(f"root {root} does not exist: give the path of a repository or folder")
            if not root.is_dir():
                raise IndexProblem(f"root {root} is not a directory: give a folder")
        self.roots = Roots(roots, why_no_roots)
        self.options = options or WorkspaceOptions()
        self._progress = progress
        self._stores: dict[Path, Store] = {}
        self._walked: dict[Path, float] = {}
        self._lock = threading.RLock()
        self._index_locks = {root: threading.Lock() for root in self.roots}
        self._vector_locks = {root: threading.Lock() for root in self.roots}
        self.last_summaries: dict[Path, IndexSummary] = {}

    def indexer(self, root: Path) -> Indexer:
        return Indexer(root, self.options.index_dir, self.options.index)

    def index_file(self, root: Path) -> Path:
        return index_path(root, self.options.index_dir)

    def store(self, root: Path) -> Store:
        """The store of a root, building the index first when no update ever completed."""
        with self._lock:
            store = self._stores.get(root)
            if store is not None:
                return store
            store = open_store(root, self.options.index_dir)
            if store.get_meta("last_update") is None:
                if not self.options.auto_index:
                    store.close()
                    raise IndexProblem(f"no index for {root}: run 'tokenlean index {root}'")
                self.update(root)
            self._stores[root] = store
            return store

    def update(self, root: Path, only: list[str] | None = None, lock_timeout: float = 60) -> IndexSummary:
        """Run the indexer on a root (all files, or `only` these relative paths)."""
        with self._index_locks[root]:
            progress = self._progress(root) if (self._progress and only is None) else None
            try:
                summary = self.indexer(root).run(
                    progress=progress,
                    only=only,
                    lock_timeout=lock_timeout,
                    with_vectors=self.options.inline_vectors and only is None,
                )
            finally:
                getattr(progress, "close", lambda: None)()
            if only is None:
                self._walked[root] = time.monotonic()
                self.last_summaries[root] = summary
            return summary

    def vectorize(self, root: Path):
        """Embed the chunks of a root that have no vector yet (a no-op when vectors are off)."""
        with self._vector_locks[root]:
            return self.indexer(root).vectorize()

    def refresh(self, root: Path, max_age: float | None = None) -> IndexSummary | None:
        """Re-walk a root if its last walk is older than `max_age` seconds (cheap stat pass)."""
        age = self.options.refresh_seconds if max_age is None else max_age
        last = self._walked.get(root)
        if last is not None and time.monotonic() - last < age:
            return None
        self.store(root)
        try:
            return self.update(root, lock_timeout=0)
        except IndexBusy:
            return None  # another process is updating it right now; its result will do

    def ensure_fresh(self, root: Path, files: list[FileRow]) -> tuple[set[str], set[str]]:
        """Re-index those of `files` that changed on disk since they were indexed.

        Returns (re-indexed paths, still-stale paths). Stale paths are those that could not be
        re-indexed (e.g. another process holds the index): callers must not serve their stored text.
        """
        changed = [f.path for f in files if _changed(root, f)]
        if not changed:
            return set(), set()
        try:
            self.update(root, only=changed, lock_timeout=5)
        except (IndexBusy, IndexProblem, OSError):
            return set(), set(changed)
        store = self.store(root)
        stale = {p for p in changed if (row := store.file(p)) is not None and _changed(root, row)}
        return set(changed) - stale, stale

    def read_text(self, root: Path, rel: str) -> str:
        """A file's current text, for an agent: refuses secrets, binaries and huge files."""
        walker = Walker(root)
        if walker.is_secret(rel) or any(walker.is_secret(p, True) for p in _parents(rel)):
            raise PathRefused(f"{rel} looks like a secrets file; tokenlean never returns those")
        path = root / rel
        if path.is_dir():
            raise PathRefused(f"{rel} is a directory: give a file inside it")
        try:
            size = path.stat().st_size
            if size > self.options.max_read_bytes:
                raise TokenleanError(
                    f"{rel} is {size:,} bytes (limit {self.options.max_read_bytes:,}): read a symbol or "
                    "a line range of it instead"
                )
            data = path.read_bytes()
        except PermissionError as exc:
            raise TokenleanError(f"cannot read {rel}: permission denied ({exc.strerror})") from exc
        except OSError as exc:
            raise TokenleanError(f"cannot read {rel}: {exc.strerror or exc}") from exc
        if b"\0" in data[:8192]:
            raise TokenleanError(f"{rel} is a binary file; tokenlean returns text only")
        return data.decode("utf-8", errors="replace").removeprefix("\ufeff")

    def close(self) -> None:
        with self._lock:
            for store in self._stores.values():
                store.close()
            self._stores.clear()


def _changed(root: Path, row: FileRow) -> bool:
    try:
        st = os.stat(root / row.path)
    except OSError:
        return True
    return st.st_size != row.size or st.st_mtime_ns != row.mtime_ns


def _parents(rel: str) -> list[str]:
    parts = rel.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]
