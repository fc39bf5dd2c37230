"""The store interface: the records the index holds and the questions it answers.

Everything above this module talks to an index only through `Store`; SQL lives in the backends
(`sqlite_store.py`, `postgres_store.py` for teams), so a backend can change without touching
search, tools or server.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import NamedTuple, Protocol

from .chunks import Chunk, Symbol
from .imports import Import


class FileState(NamedTuple):
    """What the indexer needs to decide whether a file changed."""

    id: int
    size: int
    mtime_ns: int
    hash: str


class FileRecord(NamedTuple):
    path: str  # relative to the root, posix separators
    language: str
    size: int
    mtime_ns: int
    hash: str
    lines: int
    tokens: int  # o200k tokens of the whole file: what reading it costs an agent
    parsed: bool  # chunked by syntax (True) or by line windows


class FileUpdate(NamedTuple):
    """A file's new content: replaces whatever the index held for that path."""

    record: FileRecord
    chunks: list[Chunk]
    symbols: list[Symbol]
    imports: Sequence[Import] = ()


class FileRow(NamedTuple):
    id: int
    path: str
    language: str
    size: int
    mtime_ns: int
    hash: str
    lines: int
    tokens: int


class ChunkRow(NamedTuple):
    id: int
    file_id: int
    path: str
    language: str
    start_line: int
    end_line: int
    kind: str
    symbol: str
    parent: str
    signature: str
    text: str


class SymbolRow(NamedTuple):
    id: int
    file_id: int
    path: str
    name: str
    kind: str
    parent: str
    signature: str
    start_line: int
    end_line: int
    chunk_id: int | None


class ImportRow(NamedTuple):
    """An import statement of a file, as written, and whether it names an indexed file."""

    id: int
    file_id: int
    line: int
    kind: str
    spec: str
    names: str
    resolved: bool  # False: external (standard library, installed package) or not found


class EdgeRow(NamedTuple):
    """File `src` imports file `dst` (at `line` of src, as `spec`, the names `names`)."""

    src: int
    dst: int
    line: int
    spec: str
    names: str  # the names src imports from dst, comma-separated; "" for the whole module


class IndexStats(NamedTuple):
    files: int
    chunks: int
    symbols: int
    languages: dict[str, int]  # files per language
    bytes_on_disk: int
    last_update: float | None  # unix time of the last completed update


class Store(Protocol):
    """An index of one root. Readers may run while one writer updates (writes are transactional)."""

    root: Path
    location: str  # where the index lives, for messages

    # -- lifecycle and metadata
    def close(self) -> None: ...
    def get_meta(self, key: str) -> str | None: ...
    def stats(self) -> IndexStats: ...

    # -- writing (only the indexer calls these)
    def file_states(self) -> dict[str, FileState]: ...
    def apply(
        self,
        updates: list[FileUpdate],
        touches: list[tuple[str, int, int]],
        deletions: list[str],
    ) -> None:
        """Replace, re-stat (path, size, mtime_ns) and delete files, all in one transaction."""
        ...

    def set_meta(self, values: dict[str, str]) -> None: ...
    def prepare_vectors(self, model: str, dims: int) -> None:
        """Make the store hold `model`'s vectors: a new model or a stale table starts over."""

    def vector_counts(self) -> tuple[int, int]: ...  # (chunks embedded, all chunks)
    def chunks_to_embed(self, limit: int) -> list[tuple[int, str]]: ...
    def put_vectors(self, rows: list[tuple[int, bytes]]) -> None: ...
    def finish_vectors(self) -> None:
        """After the last put_vectors of an update: build what a bulk load deferred."""

    def resolve_imports(self) -> int:
        """Link the import specs written since the last call to the files they name (all of them
        when files came or went); returns how many specs were resolved."""
        ...

    # -- reading
    def file(self, path: str) -> FileRow | None: ...
    def files(self, ids: list[int]) -> dict[int, FileRow]: ...
    def chunks(self, ids: list[int], text: bool = True) -> dict[int, ChunkRow]:
        """Chunks by id; `text=False` leaves their text empty (ranking needs only their places)."""

    def chunks_of_file(self, file_id: int) -> list[ChunkRow]: ...
    def chunk_spans(self, file_ids: list[int]) -> dict[int, list[tuple[int, int, int, str]]]:
        """Per file, its chunks as (chunk id, start line, end line, kind) in line order (no text)."""
        ...

    def lexical(self, terms: list[str], limit: int) -> list[tuple[int, float]]:
        """Chunk ids ranked by BM25 over any of `terms` (index terms, see `terms.py`), best first."""
        ...

    def chunk_count(self) -> int: ...
    def document_frequencies(self, terms: list[str]) -> dict[str, int]:
        """How many chunks contain each term (terms absent from the index are left out)."""
        ...

    def vector_model(self) -> str | None:
        """'model:dims' of the chunk vectors the index holds, or None."""
        ...

    def nearest(self, vector: bytes, limit: int) -> list[tuple[int, float]]:
        """Chunk ids by cosine similarity to `vector` (float32 bytes), best first."""
        ...

    def symbols_exact(self, names: list[str], limit: int) -> list[SymbolRow]:
        """Symbols whose name equals one of `names`, case-insensitively."""
        ...

    def symbols_prefix(self, prefix: str, limit: int) -> list[SymbolRow]: ...
    def symbols_similar(self, name: str, limit: int) -> list[SymbolRow]:
        """Candidates sharing character trigrams with `name`, for fuzzy matching by the caller."""
        ...

    def symbols_in_file(self, file_id: int) -> list[SymbolRow]: ...
    def paths(self, terms: list[str], substrings: list[str], limit: int) -> list[tuple[int, float]]:
        """File ids whose path matches any term (BM25) or contains a substring, best first."""
        ...

    # -- the import graph
    def imports_of(self, file_id: int) -> list[ImportRow]:
        """A file's import statements in line order, resolved or not."""
        ...

    def edges(self, file_ids: list[int], direction: str) -> list[EdgeRow]:
        """Import edges out of ('out': what they import) or into ('in': who imports them) the files."""
        ...

    def graph(self) -> list[tuple[int, int, int]]:
        """Every (importing file, imported file, import statements) pair of the root."""
        ...


class Backend(Protocol):
    """Where the indexes of roots live (a SQLite file per root, or a shared PostgreSQL), how to open
    one, and how an indexer gets the exclusive right to update one (see `backends.py`)."""

    kind: str  # "sqlite" or "postgresql"

    def location(self, root: Path) -> str:
        """Where the root's index is, for messages (never with a password)."""
        ...

    def exists(self, root: Path) -> bool: ...
    def open(self, root: Path, *, repair: bool = True) -> Store: ...
    def writer(self, root: Path, timeout: float = 0, rebuild: bool = False) -> AbstractContextManager[Store]:
        """The root's store for one update, once other writers of the root are done (waiting up to
        `timeout` s, then IndexBusy); `rebuild` starts from an empty index. Readers see each write
        transaction whole: per batch of files on SQLite, the whole update on PostgreSQL."""
        ...
