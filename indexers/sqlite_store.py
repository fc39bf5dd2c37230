"""The embedded index: one SQLite file per root (WAL, FTS5), behind the `Store` interface."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import suppress
from pathlib import Path

from . import sqlite_driver
from .chunks import Chunk, Symbol
from .embeddings import chunk_text
from .errors import IndexProblem
from .imports import PACKAGE
from .migrations import INDEX
from .resolve import Resolver
from .sqlite_base import SQLiteDatabase
from .store import (
    ChunkRow,
    EdgeRow,
    FileRow,
    FileState,
    FileUpdate,
    ImportRow,
    IndexStats,
    SymbolRow,
)
from .terms import TERMS_VERSION, index_text

# bm25 column weights of chunks_fts (name, path, body): a hit in a symbol's name says more than
# one in its body.
LEXICAL_WEIGHTS = (4.0, 1.5, 1.0)
TIE_MARGIN = 50  # extra rows fetched so that ties at the cut-off are broken by place, not row id
_CHUNK_COLUMNS = (
    "c.id, c.file_id, f.path, f.language, c.start_line, c.end_line, c.kind, c.symbol, c.parent, "
    "c.signature, c.text"
)
_SYMBOL_COLUMNS = (
    "s.id, s.file_id, f.path, s.name, s.kind, s.parent, s.signature, s.start_line, s.end_line, s.chunk_id"
)
# Definitions an agent usually means when it names a symbol come before declarations/constants.
_KIND_ORDER = (
    "CASE s.kind WHEN 'class' THEN 0 WHEN 'function' THEN 0 WHEN 'method' THEN 1 WHEN 'struct' THEN 1 "
    "WHEN 'interface' THEN 1 WHEN 'trait' THEN 1 WHEN 'enum' THEN 1 WHEN 'section' THEN 2 ELSE 3 END"
)


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _chunk_terms(path_terms: str, chunk: Chunk | ChunkRow) -> tuple[str, str, str]:
    name = index_text(f"{chunk.symbol} {chunk.parent}") if chunk.symbol else ""
    return name, path_terms, index_text(chunk.text)


class SQLiteStore(SQLiteDatabase):
    """Index of one root in one SQLite file. Thread-safe: one connection per thread."""

    migrations = INDEX
    what = "index"

    def __init__(self, db_path: Path, root: Path, *, create: bool = True) -> None:
        if not db_path.exists() and not create:
            raise IndexProblem(f"no index at {db_path}")
        self.root = root
        self.vectors_supported = sqlite_driver.driver().vectors
        super().__init__(db_path)
        if self.get_meta("terms_version") not in (None, TERMS_VERSION):
            self._rebuild_lexical()
        if self.get_meta("terms_version") is None:
            self.set_meta({"terms_version": TERMS_VERSION})

    def version_error(self, message: str) -> Exception:
        return IndexProblem(message)

    def _rebuild_lexical(self) -> None:
        """Re-derive the lexical index from stored chunks (after the term expansion changed)."""
        with self._write() as db:
            db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('delete-all')")
            db.execute("INSERT INTO files_fts(files_fts) VALUES ('delete-all')")
            paths = dict(db.execute("SELECT id, path FROM files"))
            path_terms = {fid: index_text(p) for fid, p in paths.items()}
            db.executemany("INSERT INTO files_fts(rowid, path) VALUES (?, ?)", path_terms.items())
            rows = db.execute(f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN files f ON f.id = c.file_id")
            db.executemany(
                "INSERT INTO chunks_fts(rowid, name, path, body) VALUES (?, ?, ?, ?)",
                ((r.id, *_chunk_terms(path_terms[r.file_id], r)) for r in map(ChunkRow._make, rows)),
            )
            db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('terms_version', ?)", (TERMS_VERSION,)
            )

    # -- metadata

    def stats(self) -> IndexStats:
        db = self.db
        files = db.execute("SELECT count(*) FROM files").fetchone()[0]
        chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        symbols = db.execute("SELECT count(*) FROM symbols").fetchone()[0]
        languages = dict(
            db.execute("SELECT language, count(*) FROM files GROUP BY language ORDER BY count(*) DESC")
        )
        size = sum(
            p.stat().st_size
            for p in (self.db_path, Path(f"{self.db_path}-wal"), Path(f"{self.db_path}-shm"))
            if p.exists()
        )
        last = self.get_meta("last_update")
        return IndexStats(files, chunks, symbols, languages, size, float(last) if last else None)

    # -- writing

    def file_states(self) -> dict[str, FileState]:
        rows = self.db.execute("SELECT path, id, size, mtime_ns, hash FROM files")
        return {path: FileState(fid, size, mtime, h) for path, fid, size, mtime, h in rows}

    def apply(
        self,
        updates: list[FileUpdate],
        touches: list[tuple[str, int, int]],
        deletions: list[str],
    ) -> None:
        with self._write() as db:
            # Files that come or go (or a manifest that changes) can change what any import means:
            # every import is resolved again. A changed file only needs its importers relinked.
            relink = False
            for path in deletions:
                relink |= self._delete_file(db, path) is not None
            db.executemany(
                "UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?",
                ((size, mtime, path) for path, size, mtime in touches),
            )
            for update in updates:
                carried = self._delete_file(db, update.record.path)
                relink |= carried is None or any(i.kind == PACKAGE for i in update.imports)
                self._insert_file(db, update, carried or {})
            if relink:
                db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('relink', '1')")

    def _delete_file(self, db: sqlite3.Connection, path: str) -> dict[str, bytes] | None:
        """Remove a file from every table; returns its chunks' vectors by embedding hash, for reuse,
        or None when the index did not hold the file."""
        row = db.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()
        if row is None:
            return None
        fid = row[0]
        carried = self._drop_vectors(db, fid)
        self._unlink(db, fid)
        path_terms = index_text(path)
        old = [
            ChunkRow._make(r)
            for r in db.execute(
                f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.file_id = ?",
                (fid,),
            )
        ]
        # Contentless FTS5 forgets a row only when given the exact terms it was indexed with.
        db.executemany(
            "INSERT INTO chunks_fts(chunks_fts, rowid, name, path, body) VALUES ('delete', ?, ?, ?, ?)",
            ((c.id, *_chunk_terms(path_terms, c)) for c in old),
        )
        db.execute("INSERT INTO files_fts(files_fts, rowid, path) VALUES ('delete', ?, ?)", (fid, path_terms))
        db.execute(
            "INSERT INTO symbols_trigrams(symbols_trigrams, rowid, lname) "
            "SELECT 'delete', id, lname FROM symbols WHERE file_id = ?",
            (fid,),
        )
        db.execute("DELETE FROM symbols WHERE file_id = ?", (fid,))
        db.execute("DELETE FROM chunks WHERE file_id = ?", (fid,))
        db.execute("DELETE FROM files WHERE id = ?", (fid,))
        return carried

    def _drop_vectors(self, db: sqlite3.Connection, fid: int) -> dict[str, bytes]:
        if not self._has_vector_table(db):
            return {}
        if not self.vectors_supported:
            # This SQLite cannot open the vector table: mark it out of date so a build that can
            # rebuilds it, rather than leave vectors of chunks that no longer exist.
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('vectors_invalid', '1')")
            return {}
        rows = db.execute(
            "SELECT id, vec_hash FROM chunks WHERE file_id = ? AND embedded = 1", (fid,)
        ).fetchall()
        if not rows:
            return {}
        ids = [cid for cid, _ in rows]
        hashes = dict(rows)
        carried: dict[str, bytes] = {}
        for batch in _batches(ids):
            marks = ",".join("?" * len(batch))
            for cid, vector in db.execute(
                f"SELECT rowid, embedding FROM chunk_vectors WHERE rowid IN ({marks})", batch
            ):
                carried[hashes[cid]] = vector
            db.execute(f"DELETE FROM chunk_vectors WHERE rowid IN ({marks})", batch)
        return carried

    @staticmethod
    def _unlink(db: sqlite3.Connection, fid: int) -> None:
        """Drop a file's imports and every edge touching it; its importers are resolved again."""
        if db.execute("SELECT 1 FROM imports WHERE file_id = ? AND kind = ?", (fid, PACKAGE)).fetchone():
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('relink', '1')")
        db.execute(
            "UPDATE imports SET state = 0 WHERE id IN (SELECT import_id FROM edges WHERE dst = ?)", (fid,)
        )
        db.execute("DELETE FROM edges WHERE dst = ? OR src = ?", (fid, fid))
        db.execute("DELETE FROM imports WHERE file_id = ?", (fid,))

    @staticmethod
    def _has_vector_table(db: sqlite3.Connection) -> bool:
        return db.execute("SELECT 1 FROM sqlite_master WHERE name = 'chunk_vectors'").fetchone() is not None

    def _insert_file(self, db: sqlite3.Connection, update: FileUpdate, carried: dict[str, bytes]) -> None:
        r = update.record
        fid = db.execute(
            "INSERT INTO files(path, language, size, mtime_ns, hash, lines, tokens, parsed, indexed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (r.path, r.language, r.size, r.mtime_ns, r.hash, r.lines, r.tokens, int(r.parsed), time.time()),
        ).lastrowid
        path_terms = index_text(r.path)
        db.execute("INSERT INTO files_fts(rowid, path) VALUES (?, ?)", (fid, path_terms))
        starts: list[tuple[int, int, int]] = []  # (start, end, chunk id) for mapping symbols
        for chunk in update.chunks:
            vec_hash = _vec_hash(r.path, chunk)
            reused = carried.get(vec_hash)
            cid = db.execute(
                "INSERT INTO chunks(file_id, start_line, end_line, kind, symbol, parent, signature, text, "
                "vec_hash, embedded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    fid,
                    chunk.start_line,
                    chunk.end_line,
                    chunk.kind,
                    chunk.symbol,
                    chunk.parent,
                    chunk.signature,
                    chunk.text,
                    vec_hash,
                    int(reused is not None),
                ),
            ).lastrowid
            if reused is not None:  # same text as before the file changed: keep its vector
                db.execute("INSERT INTO chunk_vectors(rowid, embedding) VALUES (?, ?)", (cid, reused))
            starts.append((chunk.start_line, chunk.end_line, cid))
            db.execute(
                "INSERT INTO chunks_fts(rowid, name, path, body) VALUES (?, ?, ?, ?)",
                (cid, *_chunk_terms(path_terms, chunk)),
            )
        db.executemany(
            "INSERT INTO symbols(file_id, chunk_id, name, lname, kind, parent, signature, start_line, "
            "end_line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    fid,
                    _chunk_for(starts, s),
                    s.name,
                    s.name.lower(),
                    s.kind,
                    s.parent,
                    s.signature,
                    s.start_line,
                    s.end_line,
                )
                for s in update.symbols
            ),
        )
        db.execute(
            "INSERT INTO symbols_trigrams(rowid, lname) SELECT id, lname FROM symbols WHERE file_id = ?",
            (fid,),
        )
        db.executemany(
            "INSERT INTO imports(file_id, line, kind, spec, names, state) VALUES (?, ?, ?, ?, ?, ?)",
            ((fid, i.line, i.kind, i.spec, i.names, int(i.kind == PACKAGE)) for i in update.imports),
        )

    # -- the import graph

    def resolve_imports(self) -> int:
        with self._write() as db:
            everything = db.execute("SELECT 1 FROM meta WHERE key = 'relink'").fetchone() is not None
            where = "i.kind != ?" if everything else "i.state = 0 AND i.kind != ?"
            rows = db.execute(
                "SELECT i.id, i.file_id, f.path, f.language, i.kind, i.spec, i.names FROM imports i "
                f"JOIN files f ON f.id = i.file_id WHERE {where}",
                (PACKAGE,),
            ).fetchall()
            if rows:
                ids = dict(db.execute("SELECT path, id FROM files"))
                packages = db.execute(
                    "SELECT f.path, i.spec, i.names FROM imports i JOIN files f ON f.id = i.file_id "
                    "WHERE i.kind = ?",
                    (PACKAGE,),
                ).fetchall()
                resolver = Resolver(ids, packages)
                if everything:
                    db.execute("DELETE FROM edges")
                else:
                    db.executemany("DELETE FROM edges WHERE import_id = ?", ((r[0],) for r in rows))
                edges: list[tuple[int, int, int, str]] = []
                states: list[tuple[int, int]] = []
                for iid, fid, path, language, kind, spec, names in rows:
                    targets = resolver.resolve(path, language, kind, spec, names)
                    edges += [(iid, fid, ids[t.path], t.names) for t in targets if t.path != path]
                    states.append((1 if targets else 2, iid))  # an import of its own items is no edge
                db.executemany("INSERT INTO edges(import_id, src, dst, names) VALUES (?, ?, ?, ?)", edges)
                db.executemany("UPDATE imports SET state = ? WHERE id = ?", states)
            db.execute("DELETE FROM meta WHERE key = 'relink'")
            return len(rows)

    def imports_of(self, file_id: int) -> list[ImportRow]:
        rows = self.db.execute(
            "SELECT id, file_id, line, kind, spec, names, state = 1 FROM imports "
            "WHERE file_id = ? AND kind != ? ORDER BY line, id",
            (file_id, PACKAGE),
        )
        return [ImportRow(*r[:6], bool(r[6])) for r in rows]

    def edges(self, file_ids: list[int], direction: str) -> list[EdgeRow]:
        column = {"out": "src", "in": "dst"}[direction]
        out: list[EdgeRow] = []
        for batch in _batches(sorted(set(file_ids))):
            rows = self.db.execute(
                "SELECT e.src, e.dst, i.line, i.spec, e.names FROM edges e "
                f"JOIN imports i ON i.id = e.import_id WHERE e.{column} IN ({','.join('?' * len(batch))})",
                batch,
            )
            out += map(EdgeRow._make, rows)
        return sorted(out, key=lambda e: (e.src, e.line, e.dst))

    def graph(self) -> list[tuple[int, int, int]]:
        return self.db.execute(
            "SELECT src, dst, count(*) FROM edges GROUP BY src, dst ORDER BY src, dst"
        ).fetchall()

    # -- vectors (the embedding pass runs after the lexical update, so search never waits for it)

    def prepare_vectors(self, model: str, dims: int) -> None:
        """Make the vector table hold `model`'s vectors: a new model or a stale table starts over."""
        if not self.vectors_supported:
            raise IndexProblem(
                f"vectors need a SQLite that loads sqlite-vec: {sqlite_driver.driver().problem}"
            )
        with self._write() as db:
            current = db.execute("SELECT value FROM meta WHERE key = 'vector_model'").fetchone()
            invalid = db.execute("SELECT value FROM meta WHERE key = 'vectors_invalid'").fetchone()
            if current and current[0] == f"{model}:{dims}" and not invalid and self._has_vector_table(db):
                return
            db.execute("DROP TABLE IF EXISTS chunk_vectors")
            db.execute(
                "CREATE VIRTUAL TABLE chunk_vectors USING "
                f"vec0(embedding float[{dims}] distance_metric=cosine)"
            )
            db.execute("UPDATE chunks SET embedded = 0 WHERE embedded = 1")
            db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('vector_model', ?)", (f"{model}:{dims}",)
            )
            db.execute("DELETE FROM meta WHERE key = 'vectors_invalid'")

    def vector_model(self) -> str | None:
        """'model:dims' of the vectors held, or None (none built, or this SQLite cannot read them)."""
        if not self.vectors_supported or not self._has_vector_table(self.db):
            return None
        if self.get_meta("vectors_invalid"):
            return None
        return self.get_meta("vector_model")

    def vector_counts(self) -> tuple[int, int]:
        """(chunks embedded, chunks in all)."""
        done, total = self.db.execute("SELECT coalesce(sum(embedded), 0), count(*) FROM chunks").fetchone()
        return int(done), int(total)

    def chunks_to_embed(self, limit: int) -> list[tuple[int, str]]:
        """(chunk id, text to embed) for chunks without a vector."""
        rows = self.db.execute(
            "SELECT c.id, f.path, c.symbol, c.parent, c.signature, c.text FROM chunks c "
            "JOIN files f ON f.id = c.file_id WHERE c.embedded = 0 LIMIT ?",
            (limit,),
        )
        return [(cid, chunk_text(path, sym, parent, sig, text)) for cid, path, sym, parent, sig, text in rows]

    def put_vectors(self, rows: list[tuple[int, bytes]]) -> None:
        with self._write() as db:
            live = {
                cid
                for batch in _batches([cid for cid, _ in rows])
                for (cid,) in db.execute(
                    f"SELECT id FROM chunks WHERE embedded = 0 AND id IN ({','.join('?' * len(batch))})",
                    batch,
                )
            }
            keep = [(cid, vec) for cid, vec in rows if cid in live]  # a chunk may have gone meanwhile
            db.executemany("INSERT INTO chunk_vectors(rowid, embedding) VALUES (?, ?)", keep)
            db.executemany("UPDATE chunks SET embedded = 1 WHERE id = ?", ((cid,) for cid, _ in keep))

    def finish_vectors(self) -> None:
        """Nothing deferred: sqlite-vec's table is searched by a scan, with no graph to build."""

    def nearest(self, vector: bytes, limit: int) -> list[tuple[int, float]]:
        """Chunk ids by cosine similarity to `vector` (float32 bytes), best first."""
        rows = self.db.execute(
            "SELECT rowid, distance FROM chunk_vectors WHERE embedding MATCH ? AND k = ?",
            (vector, limit + TIE_MARGIN),
        ).fetchall()
        # A zero vector (a query of words the model does not know) has no cosine distance at all.
        return self._by_place([(cid, 1.0 - dist) for cid, dist in rows if dist is not None])[:limit]

    # -- reading

    def file(self, path: str) -> FileRow | None:
        row = self.db.execute(
            "SELECT id, path, language, size, mtime_ns, hash, lines, tokens FROM files WHERE path = ?",
            (path,),
        ).fetchone()
        return FileRow._make(row) if row else None

    def files(self, ids: list[int]) -> dict[int, FileRow]:
        out: dict[int, FileRow] = {}
        for batch in _batches(ids):
            rows = self.db.execute(
                "SELECT id, path, language, size, mtime_ns, hash, lines, tokens FROM files "
                f"WHERE id IN ({','.join('?' * len(batch))})",
                batch,
            )
            out.update((r[0], FileRow._make(r)) for r in rows)
        return out

    def chunks(self, ids: list[int], text: bool = True) -> dict[int, ChunkRow]:
        out: dict[int, ChunkRow] = {}
        columns = _CHUNK_COLUMNS if text else _CHUNK_COLUMNS.replace("c.text", "''")
        for batch in _batches(ids):
            rows = self.db.execute(
                f"SELECT {columns} FROM chunks c JOIN files f ON f.id = c.file_id "
                f"WHERE c.id IN ({','.join('?' * len(batch))})",
                batch,
            )
            out.update((r[0], ChunkRow._make(r)) for r in rows)
        return out

    def chunks_of_file(self, file_id: int) -> list[ChunkRow]:
        rows = self.db.execute(
            f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN files f ON f.id = c.file_id "
            "WHERE c.file_id = ? ORDER BY c.start_line",
            (file_id,),
        )
        return [ChunkRow._make(r) for r in rows]

    def chunk_spans(self, file_ids: list[int]) -> dict[int, list[tuple[int, int, int, str]]]:
        out: dict[int, list[tuple[int, int, int, str]]] = {fid: [] for fid in file_ids}
        for batch in _batches(file_ids):
            rows = self.db.execute(
                "SELECT file_id, id, start_line, end_line, kind FROM chunks "
                f"WHERE file_id IN ({','.join('?' * len(batch))}) ORDER BY file_id, start_line",
                batch,
            )
            for fid, cid, start, end, kind in rows:
                out[fid].append((cid, start, end, kind))
        return out

    def lexical(self, terms: list[str], limit: int) -> list[tuple[int, float]]:
        if not terms:
            return []
        match = " OR ".join(_quote(t) for t in terms)
        w = LEXICAL_WEIGHTS
        rows = self.db.execute(
            f"SELECT rowid, bm25(chunks_fts, {w[0]}, {w[1]}, {w[2]}) AS score FROM chunks_fts "
            "WHERE chunks_fts MATCH ? ORDER BY score LIMIT ?",
            (match, limit + TIE_MARGIN),
        ).fetchall()
        return self._by_place([(rowid, -score) for rowid, score in rows])[:limit]

    def _by_place(self, scored: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """Best score first; equal scores by path and line, never by row id (which depends on the
        order files happened to be indexed in, so results would differ between equal indexes)."""
        spans = {}
        for batch in _batches([cid for cid, _ in scored]):
            spans.update(
                (cid, (path, start))
                for cid, path, start in self.db.execute(
                    "SELECT c.id, f.path, c.start_line FROM chunks c JOIN files f ON f.id = c.file_id "
                    f"WHERE c.id IN ({','.join('?' * len(batch))})",
                    batch,
                )
            )
        return sorted(scored, key=lambda cs: (-round(cs[1], 9), spans.get(cs[0], ("", 0))))

    def document_frequencies(self, terms: list[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for batch in _batches(terms):
            rows = self.db.execute(
                f"SELECT term, doc FROM chunks_vocab WHERE term IN ({','.join('?' * len(batch))})", batch
            )
            out.update(rows)
        return out

    def chunk_count(self) -> int:
        # Cached per connection until any connection commits a change (PRAGMA data_version moves;
        # our own writes are covered by counting again after them).
        db = self.db
        version = db.execute("PRAGMA data_version").fetchone()[0]
        cached = getattr(self._local, "chunk_count", None)
        if cached is None or cached[0] != version or getattr(self._local, "dirty", False):
            self._local.chunk_count = (version, db.execute("SELECT count(*) FROM chunks").fetchone()[0])
            self._local.dirty = False
        return self._local.chunk_count[1]

    def _symbols(self, where: str, params: Iterable[object], limit: int) -> list[SymbolRow]:
        rows = self.db.execute(
            f"SELECT {_SYMBOL_COLUMNS} FROM symbols s JOIN files f ON f.id = s.file_id "
            f"WHERE {where} ORDER BY {_KIND_ORDER}, length(f.path), f.path, s.start_line LIMIT ?",
            (*params, limit),
        )
        return [SymbolRow._make(r) for r in rows]

    def symbols_exact(self, names: list[str], limit: int) -> list[SymbolRow]:
        lowered = sorted({n.lower() for n in names})
        if not lowered:
            return []
        return self._symbols(f"s.lname IN ({','.join('?' * len(lowered))})", lowered, limit)

    def symbols_prefix(self, prefix: str, limit: int) -> list[SymbolRow]:
        low = prefix.lower()
        return self._symbols("s.lname >= ? AND s.lname < ?", (low, low + "\U0010ffff"), limit)

    def symbols_similar(self, name: str, limit: int) -> list[SymbolRow]:
        low = name.lower()
        grams = sorted({low[i : i + 3] for i in range(len(low) - 2)})
        if not grams:
            return []
        match = " OR ".join(_quote(g) for g in grams)
        ids = [
            r[0]
            for r in self.db.execute(
                "SELECT rowid FROM symbols_trigrams WHERE symbols_trigrams MATCH ? ORDER BY rank LIMIT ?",
                (match, limit),
            )
        ]
        if not ids:
            return []
        return self._symbols(f"s.id IN ({','.join('?' * len(ids))})", ids, limit)

    def symbols_in_file(self, file_id: int) -> list[SymbolRow]:
        rows = self.db.execute(
            f"SELECT {_SYMBOL_COLUMNS} FROM symbols s JOIN files f ON f.id = s.file_id "
            "WHERE s.file_id = ? ORDER BY s.start_line",
            (file_id,),
        )
        return [SymbolRow._make(r) for r in rows]

    def paths(self, terms: list[str], substrings: list[str], limit: int) -> list[tuple[int, float]]:
        scored: dict[int, float] = {}
        for sub in substrings:
            like = "%" + sub.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            for fid, path in self.db.execute(
                "SELECT id, path FROM files WHERE lower(path) LIKE ? ESCAPE '\\' "
                "ORDER BY length(path), path LIMIT ?",
                (like, limit),
            ):
                # A substring that ends the path (a file name) beats one in a directory name.
                bonus = 2.0 if path.lower().endswith(sub.lower()) else 1.0
                scored[fid] = max(scored.get(fid, 0.0), 100.0 * bonus)
        if terms:
            match = " OR ".join(_quote(t) for t in terms)
            for fid, score in self.db.execute(
                "SELECT rowid, bm25(files_fts) AS s FROM files_fts WHERE files_fts MATCH ? "
                "ORDER BY s LIMIT ?",
                (match, limit + TIE_MARGIN),
            ):
                scored[fid] = scored.get(fid, 0.0) + -score
        paths = {fid: row.path for fid, row in self.files(list(scored)).items()}
        ranked = sorted(scored.items(), key=lambda kv: (-round(kv[1], 9), paths.get(kv[0], "")))
        return ranked[:limit]


def _vec_hash(path: str, chunk: Chunk) -> str:
    text = chunk_text(path, chunk.symbol, chunk.parent, chunk.signature, chunk.text)
    return hashlib.blake2b(text.encode("utf-8", errors="replace"), digest_size=12).hexdigest()


def _chunk_for(starts: list[tuple[int, int, int]], symbol: Symbol) -> int | None:
    """The chunk holding a symbol's definition: the first chunk (in line order) overlapping it."""
    for start, end, cid in starts:
        if start <= symbol.end_line and end >= symbol.start_line:
            return cid
    return None


def _batches(items: list, size: int = 500) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def quarantine(db_path: Path) -> Path:
    """Move a damaged index file (and its WAL) aside so a fresh one can be built; returns the new name."""
    target = db_path.with_name(f"{db_path.name}.damaged-{int(time.time())}")
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{db_path}{suffix}")
        if src.exists():
            shutil.move(src, Path(f"{target}{suffix}"))
    return target


def remove_index(db_path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with suppress(FileNotFoundError):
            os.remove(f"{db_path}{suffix}")
