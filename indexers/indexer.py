"""Build or update a root's index: walk, re-read what changed, chunk, write in transactions."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import NamedTuple

from . import sqlite_driver, tokens
from .backends import backend
from .catalog import index_path, write_problem
from .chunks import chunk_file, split_lines
from .errors import IndexProblem
from .imports import manifest
from .languages import language_of
from .store import FileRecord, FileUpdate, Store
from .vectors import VectorSummary, available, resolve, update_vectors
from .walk import FileEntry, Walker

log = logging.getLogger(__name__)

BATCH_FILES = 200  # files per write transaction: a crash loses at most one batch of progress
PARALLEL_THRESHOLD = 64  # below this many files to read, worker processes cost more than they save
MINIFIED_AVG_LINE = 300  # average line length (chars) above which a code file is treated as minified
LONGEST_LINE = 20_000

Progress = Callable[[int, int, str], None]  # (done, total, current path)


@dataclass
class IndexOptions:
    excludes: tuple[str, ...] = ()
    includes: tuple[str, ...] = ()
    max_file_bytes: int = 1_000_000
    workers: int = field(default_factory=lambda: max(1, min(os.cpu_count() or 1, 8)))
    vectors: str = "auto"  # auto, fast, quality or off (see embeddings.py)
    secret_files: tuple[str, ...] = ()  # patterns added to walk.SECRET_FILES
    allow_secret_files: tuple[str, ...] = ()  # patterns let through the deny-list


@dataclass
class IndexSummary:
    root: Path
    index: Path | str  # the SQLite file, or the shared database (see backends.py)
    files: int = 0
    chunks: int = 0
    symbols: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    touched: int = 0  # stat changed, content did not
    removed: int = 0
    seconds: float = 0.0
    index_bytes: int = 0
    languages: dict[str, int] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    repaired: str | None = None
    vectors: VectorSummary | None = None

    @property
    def changed(self) -> int:
        return self.added + self.updated + self.removed


class _Skip(NamedTuple):
    rel: str
    reason: str


class _Same(NamedTuple):
    rel: str
    size: int
    mtime_ns: int


class _Read(NamedTuple):
    update: FileUpdate
    warning: str | None


def _process(root: str, entry: FileEntry, old_hash: str | None) -> _Skip | _Same | _Read:
    """Read, hash and chunk one file. Runs in worker processes: pure, no store access."""
    try:
        data = (Path(root) / entry.rel).read_bytes()
    except OSError as exc:
        return _Skip(entry.rel, f"unreadable ({exc.strerror or exc})")
    if b"\0" in data[:8192]:
        return _Skip(entry.rel, "binary")
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    if digest == old_hash:
        return _Same(entry.rel, entry.size, entry.mtime_ns)
    warning = None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        warning = f"{entry.rel}: not valid UTF-8; undecodable bytes shown as U+FFFD"
    text = text.removeprefix("\ufeff")
    lines = split_lines(text)
    language = language_of(entry.rel)
    prose = language in ("text", "markdown", "json", "csv")
    if lines and not prose and len(text) / len(lines) > MINIFIED_AVG_LINE and len(text) > 4000:
        return _Skip(entry.rel, "minified")
    if any(len(line) > LONGEST_LINE for line in lines):
        return _Skip(entry.rel, "minified")
    try:
        result = chunk_file(text, language)
    except Exception as exc:  # a parser bug must not stop the run: fall back to line windows
        log.warning("chunking %s failed (%s); using line windows", entry.rel, exc)
        result = chunk_file(text, "text")
        warning = f"{entry.rel}: syntax chunking failed ({exc}); indexed as plain text"
    record = FileRecord(
        entry.rel, language, entry.size, entry.mtime_ns, digest, len(lines), tokens.count(text), result.parsed
    )
    imports = [*result.imports, *manifest(entry.rel, text)]
    return _Read(FileUpdate(record, result.chunks, result.symbols, imports), warning)


def _process_star(args: tuple[str, FileEntry, str | None]) -> _Skip | _Same | _Read:
    return _process(*args)


class Indexer:
    """Keeps one root's index in step with the files on disk."""

    def __init__(self, root: Path, index_dir: Path | str | None = None, options: IndexOptions | None = None):
        if not root.exists():
            raise IndexProblem(f"root {root} does not exist: give the path of a repository or folder")
        if not root.is_dir():
            raise IndexProblem(f"root {root} is not a directory: give the folder to index")
        self.root = root.resolve()
        self.index_dir = index_dir
        self.options = options or IndexOptions()
        self.backend = backend(index_dir)  # a directory of SQLite files or a postgresql:// URL
        self.path = index_path(self.root, index_dir) if self.backend.kind == "sqlite" else None
        self.location = self.backend.location(self.root)

    def run(
        self,
        progress: Progress | None = None,
        only: Iterable[str] | None = None,
        rebuild: bool = False,
        lock_timeout: float = 0,
        with_vectors: bool = True,
    ) -> IndexSummary:
        """Update the index, then (unless told not to) embed what has no vector yet.

        `only` limits the work to these relative paths (a freshness check). The embedding pass runs
        after the lock is released: it only adds vectors, checks each chunk still exists when it
        writes, and would otherwise keep every other update waiting.
        """
        try:
            return self._run(progress, only, rebuild, lock_timeout, with_vectors)
        except (OSError, *sqlite_driver.errors()) as exc:
            raise self._write_problem(exc) from exc

    def _run(
        self,
        progress: Progress | None,
        only: Iterable[str] | None,
        rebuild: bool,
        lock_timeout: float,
        with_vectors: bool,
    ) -> IndexSummary:
        started = time.perf_counter()
        # The backend serialises writers of a root (IndexBusy after lock_timeout) and commits.
        with self.backend.writer(self.root, lock_timeout, rebuild) as store:
            summary = self._update(store, progress, None if only is None else set(only))
        if with_vectors:
            summary.vectors = self.vectorize(progress)
            store = self.backend.open(self.root)
            try:
                summary.index_bytes = store.stats().bytes_on_disk
            finally:
                store.close()
        summary.seconds = time.perf_counter() - started
        return summary

    def _write_problem(self, exc: BaseException) -> IndexProblem:
        return write_problem(exc, self.root, self.path.parent if self.path else Path(self.location))

    def vectorize(self, progress: Progress | None = None) -> VectorSummary:
        """Embed what has no vector yet; `auto` quietly does nothing where vectors cannot be built."""
        setting = self.options.vectors
        sqlite = self.backend.kind == "sqlite"  # PostgreSQL holds vectors itself (pgvector)
        profile = resolve(setting, sqlite)
        if profile == "off":
            return VectorSummary(
                "off", skipped=available("fast", sqlite) if setting == "auto" else "turned off"
            )
        store = self.backend.open(self.root)
        try:
            return update_vectors(store, profile, progress)
        finally:
            store.close()

    def _update(self, store: Store, progress: Progress | None, only: set[str] | None) -> IndexSummary:
        summary = IndexSummary(self.root, self.path or self.location)
        summary.repaired = store.get_meta("repaired_from")
        if summary.repaired:
            summary.warnings.append(
                f"the previous index was damaged ({store.get_meta('repair_reason')}); "
                f"it was moved to {summary.repaired} and the index was rebuilt"
            )
        walker = Walker(
            self.root,
            excludes=self.options.excludes,
            includes=self.options.includes,
            secret_files=self.options.secret_files,
            allow_secret_files=self.options.allow_secret_files,
            max_file_bytes=self.options.max_file_bytes,
        )
        states = store.file_states()
        entries = [e for e in walker if only is None or e.rel in only]
        summary.skipped.update(walker.report.skipped)
        seen = {e.rel for e in entries}
        scope = states.keys() if only is None else (only & states.keys())
        deletions = sorted(p for p in scope if p not in seen)
        todo: list[tuple[str, FileEntry, str | None]] = []
        for entry in entries:
            state = states.get(entry.rel)
            if state and state.size == entry.size and state.mtime_ns == entry.mtime_ns:
                summary.unchanged += 1
            else:
                todo.append((str(self.root), entry, state.hash if state else None))
        total = len(todo)
        if progress:
            progress(0, total, "")
        updates: list[FileUpdate] = []
        touches: list[tuple[str, int, int]] = []
        for done, result in enumerate(self._results(todo), start=1):
            if isinstance(result, _Skip):
                summary.skipped[result.reason.split(" (")[0]] += 1
                if result.rel in states:
                    deletions.append(result.rel)  # was indexed, now unreadable/binary: drop it
            elif isinstance(result, _Same):
                touches.append((result.rel, result.size, result.mtime_ns))
                summary.touched += 1
            else:
                updates.append(result.update)
                if result.warning:
                    summary.warnings.append(result.warning)
                if result.update.record.path in states:
                    summary.updated += 1
                else:
                    summary.added += 1
            if len(updates) + len(touches) >= BATCH_FILES:
                store.apply(updates, touches, [])
                updates, touches = [], []
            if progress:
                progress(done, total, todo[done - 1][1].rel)
        store.apply(updates, touches, deletions)
        store.resolve_imports()
        summary.removed = len(deletions)
        store.set_meta({"last_update": str(time.time()), "root": str(self.root)})
        stats = store.stats()
        summary.files, summary.chunks, summary.symbols = stats.files, stats.chunks, stats.symbols
        summary.languages = stats.languages
        summary.index_bytes = stats.bytes_on_disk
        return summary

    def _results(self, todo: list[tuple[str, FileEntry, str | None]]) -> Iterator[_Skip | _Same | _Read]:
        workers = self.options.workers
        if workers <= 1 or len(todo) < PARALLEL_THRESHOLD:
            for item in todo:
                yield _process(*item)
            return
        # Spawned (not forked) workers: the server calling this may hold threads and locks.
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            try:
                yield from pool.map(_process_star, todo, chunksize=16)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
