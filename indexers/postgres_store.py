"""The shared index: PostgreSQL (+ pgvector) behind the `Store` interface, one namespace per root.

Many roots live in one database; every row carries its root's id. Ranking matches the embedded
SQLite store: lexical BM25 (k1=1.2, b=0.75, FTS5's IDF and column weights) is computed in SQL from
postings of the same terms (`terms.py`), so both backends return the same hits. Writers of one root
are serialised by an advisory lock; a whole index update is one transaction, so readers see the
index before it or after it, never in between, and a killed indexer leaves the previous state.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .chunks import Chunk
from .embeddings import chunk_text
from .errors import IndexBusy
from .imports import PACKAGE
from .pg_base import PgDatabase, connection_errors, guard, redact, register_vectors
from .pg_migrations import (
    MIGRATE_LOCK,
    SCHEMA,
    add_vector_partition,
    create_hnsw,
    has_vector_partition,
    hnsw_index,
    vector_partition,
)
from .resolve import Resolver

# The embedded store's weights, tie margin, symbol order and vector hash: both backends rank alike.
from .sqlite_store import _KIND_ORDER, LEXICAL_WEIGHTS, TIE_MARGIN, _chunk_for, _vec_hash
from .store import ChunkRow, EdgeRow, FileRow, FileState, FileUpdate, ImportRow, IndexStats, SymbolRow
from .terms import TERMS_VERSION, index_text

K1, B = 1.2, 0.75
EXACT_VECTORS = 10_000  # roots up to this many chunks are searched exactly (~40 ms), beyond by HNSW
VACUUM_AFTER = 20_000  # chunks added by one update that make it vacuum and analyze what it wrote
HNSW_MARGIN = 10  # extra neighbours asked of the HNSW graph, for ties at the cut-off
BULK_VECTORS = 5_000  # this many vectors to add (and more than the root has) load before the graph
_CHUNK_COLUMNS = (
    "c.id, c.file_id, f.path, f.language, c.start_line, c.end_line, c.kind, c.symbol, c.parent, "
    "c.signature, c.text"
)
_SYMBOL_COLUMNS = (
    "s.id, s.file_id, f.path, s.name, s.kind, s.parent, s.signature, s.start_line, s.end_line, s.chunk_id"
)
_FILE_COLUMNS = "id, path, language, size, mtime_ns, hash, lines, tokens"


def _bm25(freq: str, dl: str, avgdl: str) -> str:
    """FTS5's BM25 term score as SQL over column expressions (idf multiplies it)."""
    f, d = f"{freq}::float8", f"{dl}::float8"
    return f"({f} * {K1 + 1}) / ({f} + {K1} * ({1 - B} + {B} * {d} / {avgdl}))"


def _idf(n: str, df: str) -> str:
    # FTS5: log((N - n + 0.5) / (n + 0.5)), floored at 1e-6 for terms in more than half the rows.
    return f"greatest(ln(({n} - {df}::float8 + 0.5) / ({df}::float8 + 0.5)), 1e-6)"


def _chunk_terms(path_terms: list[str], chunk: Chunk) -> tuple[dict[str, float], int]:
    """A chunk's weighted term frequencies over its name, path and body, and its length in terms."""
    name = index_text(f"{chunk.symbol} {chunk.parent}").split() if chunk.symbol else []
    body = index_text(chunk.text).split()
    freq: dict[str, float] = {}
    for words, weight in (
        (name, LEXICAL_WEIGHTS[0]),
        (path_terms, LEXICAL_WEIGHTS[1]),
        (body, LEXICAL_WEIGHTS[2]),
    ):
        for word in words:
            freq[word] = freq.get(word, 0.0) + weight
    return freq, len(name) + len(path_terms) + len(body)


# COPY's text format escapes; PostgreSQL text cannot hold NUL at all (SQLite can): U+FFFD stands in,
# as for undecodable bytes. NUL is no word character, so the indexed terms are the same.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\ufffd"})


def _field(value: object) -> str:
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def _copy(db: Any, target: str, rows: Iterable[tuple[object, ...]]) -> None:
    """COPY rows in PostgreSQL's text format, formatted here in bulk: psycopg's per-row adaptation
    cost more than the database's own work on the millions of postings of a corpus."""
    with db.cursor().copy(f"COPY {target} FROM STDIN") as copy:
        block: list[str] = []
        for row in rows:
            block.append("\t".join(map(_field, row)))
            if len(block) >= 20_000:
                copy.write("\n".join(block) + "\n")
                block = []
        if block:
            copy.write("\n".join(block) + "\n")


# A ranking query's (chunk id, score) rows with the place of each chunk, in one round trip.
_PLACED = (
    "SELECT s.*, f.path, c.start_line FROM ({found}) s "
    "JOIN chunks c ON c.id = s.chunk_id JOIN files f ON f.id = c.file_id"
)


def _by_place(rows: list[tuple[int, float, str, int]]) -> list[tuple[int, float]]:
    """Best score first; equal scores by path and line, never by row id (as the SQLite store)."""
    ordered = sorted(rows, key=lambda r: (-round(float(r[1]), 9), r[2], r[3]))
    return [(cid, float(score)) for cid, score, _, _ in ordered]


def _grams(lname: str) -> Counter[str]:
    return Counter(lname[i : i + 3] for i in range(len(lname) - 2))


class PostgresStore(PgDatabase):
    """The index of one root in a shared PostgreSQL database. Thread-safe: a connection per thread."""

    vectors_supported = True

    def __init__(self, url: str, root: Path) -> None:
        super().__init__(url)
        self.root = root
        self.location = f"{redact(url)} (root {root})"
        db = self.db
        row = db.execute("SELECT id FROM roots WHERE path = %s", (str(root),)).fetchone()
        if row is None:  # only a new root inserts: an insert would wait for a writer of an existing one
            db.execute("INSERT INTO roots(path) VALUES (%s) ON CONFLICT (path) DO NOTHING", (str(root),))
            row = db.execute("SELECT id FROM roots WHERE path = %s", (str(root),)).fetchone()
        self.root_id: int = row[0]
        if not has_vector_partition(db, self.root_id):  # a new root (or one whose opener died early)
            with db.transaction():  # schema change: serialised with other openers and migrators
                db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
                add_vector_partition(db, self.root_id)

    def _prepare(self, db: Any) -> None:
        register_vectors(db)
        # A root filter after the HNSW scan must not starve results: scan on until enough.
        db.execute("SET hnsw.iterative_scan = strict_order")

    @property
    def _lock_key(self) -> tuple[int, int]:
        return (MIGRATE_LOCK, self.root_id)

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        """A write transaction holding the root's writer lock (already held inside `writing`)."""
        db = self.db
        with db.transaction():
            if not getattr(self._local, "writing", False):
                db.execute("SELECT pg_advisory_xact_lock(%s, %s)", self._lock_key)
            yield db

    @contextmanager
    def writing(self, timeout: float = 0, rebuild: bool = False) -> Iterator[PostgresStore]:
        """One update of this root: waits up to `timeout` s for other writers of the root, then
        everything written inside commits as one transaction (or not at all)."""
        try:
            self._local.added = 0
            with self._writing(timeout, rebuild):
                yield self
            if self._local.added >= VACUUM_AFTER:
                self._vacuum()
        except connection_errors() as exc:
            if not self._lost():
                raise
            self._drop()
            raise self._unreachable(exc) from exc

    def _vacuum(self) -> None:
        """After a large update: fresh planner statistics, and the new pages marked all-visible so
        that BM25 and fuzzy-name lookups read their covering keys alone (index-only scans) at once
        rather than after autovacuum's turn. Tables another process is vacuuming are skipped."""
        self.db.execute(
            f"VACUUM (ANALYZE, SKIP_LOCKED) {SCHEMA}.postings, {SCHEMA}.symbol_grams, {SCHEMA}.terms, "
            f"{SCHEMA}.chunks, {SCHEMA}.symbols, {SCHEMA}.files, {SCHEMA}.path_postings"
        )

    @contextmanager
    def _writing(self, timeout: float, rebuild: bool) -> Iterator[None]:
        db = self.db
        with db.transaction():
            deadline = time.monotonic() + timeout
            while not db.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", self._lock_key).fetchone()[0]:
                if time.monotonic() >= deadline:
                    raise IndexBusy(
                        f"another tokenlean process is updating the index of {self.root} in "
                        f"{redact(self.url)}; wait for it to finish and retry"
                    )
                time.sleep(0.05)
            self._local.writing = True
            try:
                if rebuild:
                    self._clear(db)
                elif self.get_meta("terms_version") not in (None, TERMS_VERSION):
                    self._rebuild_lexical(db)
                self._put_meta(db, {"terms_version": TERMS_VERSION})
                yield
            finally:
                self._local.writing = False

    def _clear(self, db: Any) -> None:
        """Forget everything of this root (a rebuild), keeping its id and its lock."""
        db.execute(
            "DELETE FROM postings WHERE term_id IN (SELECT id FROM terms WHERE root_id = %s)", (self.root_id,)
        )
        for table in ("edges", "terms", "chunk_vectors", "files", "meta"):
            db.execute(f"DELETE FROM {table} WHERE root_id = %s", (self.root_id,))
        db.execute(
            "UPDATE roots SET chunks = 0, chunk_terms = 0, files = 0, path_terms = 0, symbols = 0, "
            "symbol_grams = 0 WHERE id = %s",
            (self.root_id,),
        )

    def _rebuild_lexical(self, db: Any) -> None:
        """Re-derive postings from stored chunks and paths (after the term expansion changed)."""
        rid = self.root_id
        db.execute("DELETE FROM postings WHERE term_id IN (SELECT id FROM terms WHERE root_id = %s)", (rid,))
        db.execute("DELETE FROM terms WHERE root_id = %s", (rid,))
        db.execute("DELETE FROM path_postings WHERE root_id = %s", (rid,))
        files = db.execute("SELECT id, path FROM files WHERE root_id = %s", (rid,)).fetchall()
        path_terms = {fid: index_text(path).split() for fid, path in files}
        db.cursor().executemany(
            "UPDATE files SET path_len = %s WHERE id = %s", [(len(t), f) for f, t in path_terms.items()]
        )
        self._copy_path_postings(db, path_terms)
        rows = db.execute(
            "SELECT id, file_id, start_line, end_line, kind, symbol, parent, signature, text FROM chunks "
            "WHERE root_id = %s",
            (rid,),
        ).fetchall()
        chunks = [(cid, fid, Chunk(*rest)) for cid, fid, *rest in rows]
        lengths = self._index_chunks(db, [(cid, path_terms[fid], c) for cid, fid, c in chunks])
        db.cursor().executemany(
            "UPDATE chunks SET doc_len = %s WHERE id = %s", [(n, cid) for cid, n in lengths.items()]
        )
        db.execute(
            "UPDATE roots SET chunk_terms = %s, path_terms = %s WHERE id = %s",
            (sum(lengths.values()), sum(len(t) for t in path_terms.values()), rid),
        )

    # -- metadata

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute(
            "SELECT value FROM meta WHERE root_id = %s AND key = %s", (self.root_id, key)
        ).fetchone()
        return row[0] if row else None

    def set_meta(self, values: dict[str, str]) -> None:
        with self._tx() as db:
            self._put_meta(db, values)

    def _put_meta(self, db: Any, values: dict[str, str]) -> None:
        db.cursor().executemany(
            "INSERT INTO meta(root_id, key, value) VALUES (%s, %s, %s) "
            "ON CONFLICT (root_id, key) DO UPDATE SET value = excluded.value",
            [(self.root_id, k, v) for k, v in values.items()],
        )

    def stats(self) -> IndexStats:
        db = self.db
        files, chunks, symbols = db.execute(
            "SELECT files, chunks, symbols FROM roots WHERE id = %s", (self.root_id,)
        ).fetchone()
        languages = dict(
            db.execute(
                "SELECT language, count(*) FROM files WHERE root_id = %s GROUP BY language "
                "ORDER BY count(*) DESC, language",
                (self.root_id,),
            ).fetchall()
        )
        size = db.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        last = self.get_meta("last_update")
        return IndexStats(files, chunks, symbols, languages, int(size), float(last) if last else None)

    # -- writing

    def file_states(self) -> dict[str, FileState]:
        rows = self.db.execute(
            "SELECT path, id, size, mtime_ns, hash FROM files WHERE root_id = %s", (self.root_id,)
        )
        return {path: FileState(fid, size, mtime, h) for path, fid, size, mtime, h in rows}

    def apply(
        self,
        updates: list[FileUpdate],
        touches: list[tuple[str, int, int]],
        deletions: list[str],
    ) -> None:
        with self._tx() as db:
            replaced = [u.record.path for u in updates]
            gone, carried, relink = self._delete_files(db, [*deletions, *replaced])
            db.cursor().executemany(
                "UPDATE files SET size = %s, mtime_ns = %s WHERE root_id = %s AND path = %s",
                [(size, mtime, self.root_id, path) for path, size, mtime in touches],
            )
            # New files, or a changed manifest, can change what any import means: resolve them all.
            relink |= any(p not in gone for p in replaced)
            relink |= any(i.kind == PACKAGE for u in updates for i in u.imports)
            if updates:
                self._insert_files(db, updates, carried)
            if relink:
                self._put_meta(db, {"relink": "1"})

    def _ids(self, db: Any, sequence: str, n: int) -> list[int]:
        if n == 0:
            return []
        rows = db.execute(f"SELECT nextval('{sequence}') FROM generate_series(1, %s)", (n,)).fetchall()
        return [r[0] for r in rows]

    def _delete_files(self, db: Any, paths: list[str]) -> tuple[set[str], dict[str, dict[str, Any]], bool]:
        """Remove files from every table. Returns the paths that were indexed, their chunks' vectors
        by embedding hash (kept for unchanged chunk text) and whether imports must be re-resolved."""
        rows = db.execute(
            "SELECT id, path FROM files WHERE root_id = %s AND path = ANY(%s)", (self.root_id, paths)
        ).fetchall()
        if not rows:
            return set(), {}, False
        fids = [fid for fid, _ in rows]
        paths_of = dict(rows)
        carried: dict[str, dict[str, Any]] = {}
        for fid, vec_hash, vector in db.execute(
            "SELECT c.file_id, c.vec_hash, v.embedding FROM chunks c "
            "JOIN chunk_vectors v ON v.chunk_id = c.id AND v.root_id = %s "
            "WHERE c.file_id = ANY(%s)",
            (self.root_id, fids),
        ):
            carried.setdefault(paths_of[fid], {})[vec_hash] = vector
        db.execute(
            "DELETE FROM chunk_vectors WHERE root_id = %s AND chunk_id IN "
            "(SELECT id FROM chunks WHERE file_id = ANY(%s))",
            (self.root_id, fids),
        )
        relink = (
            db.execute(
                "SELECT 1 FROM imports WHERE file_id = ANY(%s) AND kind = %s LIMIT 1", (fids, PACKAGE)
            ).fetchone()
            is not None
        )
        # Importers of these files are resolved again; edges touching them go.
        db.execute(
            "UPDATE imports SET state = 0 WHERE id IN (SELECT import_id FROM edges WHERE dst = ANY(%s))",
            (fids,),
        )
        db.execute("DELETE FROM edges WHERE dst = ANY(%s) OR src = ANY(%s)", (fids, fids))
        db.execute(
            "WITH gone AS (SELECT p.term_id, count(*) AS n FROM postings p "
            "JOIN chunks c ON c.id = p.chunk_id "
            "WHERE c.file_id = ANY(%s) GROUP BY p.term_id) "
            "UPDATE terms t SET df = t.df - gone.n FROM gone WHERE t.id = gone.term_id",
            (fids,),
        )
        db.execute(
            "DELETE FROM postings WHERE chunk_id IN (SELECT id FROM chunks WHERE file_id = ANY(%s))", (fids,)
        )
        db.execute(
            "WITH c AS (SELECT count(*) AS n, coalesce(sum(doc_len), 0) AS len FROM chunks "
            "      WHERE file_id = ANY(%(f)s)), "
            "s AS (SELECT count(*) AS n, coalesce(sum(greatest(length(lname) - 2, 0)), 0) AS grams "
            "      FROM symbols WHERE file_id = ANY(%(f)s)), "
            "p AS (SELECT count(*) AS n, coalesce(sum(path_len), 0) AS len FROM files WHERE id = ANY(%(f)s)) "
            "UPDATE roots SET chunks = chunks - c.n, chunk_terms = chunk_terms - c.len, files = files - p.n, "
            "path_terms = path_terms - p.len, symbols = symbols - s.n, symbol_grams = symbol_grams - s.grams "
            "FROM c, s, p WHERE roots.id = %(r)s",
            {"f": fids, "r": self.root_id},
        )
        db.execute("DELETE FROM files WHERE id = ANY(%s)", (fids,))  # cascades to chunks, symbols, ...
        return set(paths_of.values()), carried, relink

    def _insert_files(self, db: Any, updates: list[FileUpdate], carried: dict[str, dict[str, Any]]) -> None:
        rid, now = self.root_id, time.time()
        file_ids = self._ids(db, "files_id_seq", len(updates))
        path_terms = {
            fid: index_text(u.record.path).split() for fid, u in zip(file_ids, updates, strict=True)
        }
        _copy(
            db,
            "files (id, root_id, path, language, size, mtime_ns, hash, lines, tokens, parsed, indexed_at, "
            "path_len)",
            (
                (fid, rid, *u.record[:8], now, len(path_terms[fid]))
                for fid, u in zip(file_ids, updates, strict=True)
            ),
        )
        self._copy_path_postings(db, path_terms)
        chunk_ids = iter(self._ids(db, "chunks_id_seq", sum(len(u.chunks) for u in updates)))
        chunk_rows: list[tuple] = []
        to_index: list[tuple[int, list[str], Chunk]] = []
        reused: list[tuple[int, int, Any]] = []
        starts: dict[int, list[tuple[int, int, int]]] = {}
        for fid, u in zip(file_ids, updates, strict=True):
            vectors = carried.get(u.record.path, {})
            for chunk in u.chunks:
                cid = next(chunk_ids)
                vec_hash = _vec_hash(u.record.path, chunk)
                vector = vectors.get(vec_hash)
                if vector is not None:  # same text as before the file changed: keep its vector
                    reused.append((cid, rid, vector))
                chunk_rows.append((cid, rid, fid, *chunk[:7], vec_hash, vector is not None))
                to_index.append((cid, path_terms[fid], chunk))
                starts.setdefault(fid, []).append((chunk.start_line, chunk.end_line, cid))
        lengths = self._index_chunks(db, to_index)
        self._local.added = getattr(self._local, "added", 0) + len(chunk_rows)
        _copy(
            db,
            "chunks (id, root_id, file_id, start_line, end_line, kind, symbol, parent, signature, text, "
            "vec_hash, embedded, doc_len)",
            ((*row, lengths[row[0]]) for row in chunk_rows),
        )
        if reused:
            db.cursor().executemany(
                "INSERT INTO chunk_vectors(chunk_id, root_id, embedding) VALUES (%s, %s, %s)", reused
            )
        symbols = [(fid, s) for fid, u in zip(file_ids, updates, strict=True) for s in u.symbols]
        symbol_ids = self._ids(db, "symbols_id_seq", len(symbols))
        grams: list[tuple[int, str, int, int, int]] = []
        symbol_rows = []
        for sid, (fid, s) in zip(symbol_ids, symbols, strict=True):
            lname = s.name.lower()
            symbol_rows.append(
                (sid, rid, fid, _chunk_for(starts.get(fid, []), s), s.name, lname, s.kind, s.parent,
                 s.signature, s.start_line, s.end_line)
            )  # fmt: skip
            dl = max(len(lname) - 2, 0)
            grams += [(rid, g, sid, n, dl) for g, n in _grams(lname).items()]
        _copy(
            db,
            "symbols (id, root_id, file_id, chunk_id, name, lname, kind, parent, signature, start_line, "
            "end_line)",
            symbol_rows,
        )
        _copy(db, "symbol_grams (root_id, gram, symbol_id, tf, dl)", grams)
        imports = (
            (rid, fid, i.line, i.kind, i.spec, i.names, int(i.kind == PACKAGE))
            for fid, u in zip(file_ids, updates, strict=True)
            for i in u.imports
        )
        _copy(db, "imports (root_id, file_id, line, kind, spec, names, state)", imports)
        db.execute(
            "UPDATE roots SET files = files + %s, path_terms = path_terms + %s, chunks = chunks + %s, "
            "chunk_terms = chunk_terms + %s, symbols = symbols + %s, symbol_grams = symbol_grams + %s "
            "WHERE id = %s",
            (
                len(updates),
                sum(len(t) for t in path_terms.values()),
                len(chunk_rows),
                sum(lengths.values()),
                len(symbols),
                sum(n for *_, n, _dl in grams),
                rid,
            ),
        )

    def _copy_path_postings(self, db: Any, path_terms: dict[int, list[str]]) -> None:
        rows = (
            (self.root_id, term, fid, tf)
            for fid, words in path_terms.items()
            for term, tf in Counter(words).items()
        )
        _copy(db, "path_postings (root_id, term, file_id, tf)", rows)

    def _index_chunks(self, db: Any, chunks: list[tuple[int, list[str], Chunk]]) -> dict[int, int]:
        """Write the postings of chunks and add them to the document frequencies; returns their lengths."""
        postings: list[tuple[int, str, float]] = []
        lengths: dict[int, int] = {}
        df: Counter[str] = Counter()
        for cid, path_terms, chunk in chunks:
            freq, lengths[cid] = _chunk_terms(path_terms, chunk)
            df.update(freq.keys())
            postings += [(cid, term, f) for term, f in freq.items()]
        if not postings:
            return lengths
        words = list(df)
        ids = dict(
            db.execute(
                "INSERT INTO terms(root_id, term, df) "
                "SELECT %s, t, n FROM unnest(%s::text[], %s::int[]) AS x(t, n) "
                "ON CONFLICT (root_id, term) DO UPDATE SET df = terms.df + excluded.df RETURNING term, id",
                (self.root_id, words, [df[w] for w in words]),
            ).fetchall()
        )
        # In key order: the primary key's B-tree then fills page by page instead of at random.
        rows = sorted((ids[term], cid, f, lengths[cid]) for cid, term, f in postings)
        _copy(db, "postings (term_id, chunk_id, freq, doc_len)", rows)
        return lengths

    # -- the import graph

    def resolve_imports(self) -> int:
        with self._tx() as db:
            rid = self.root_id
            everything = self.get_meta("relink") is not None
            where = "i.kind != %s" if everything else "i.state = 0 AND i.kind != %s"
            rows = db.execute(
                "SELECT i.id, i.file_id, f.path, f.language, i.kind, i.spec, i.names FROM imports i "
                f"JOIN files f ON f.id = i.file_id WHERE i.root_id = %s AND {where}",
                (rid, PACKAGE),
            ).fetchall()
            if rows:
                ids = dict(db.execute("SELECT path, id FROM files WHERE root_id = %s", (rid,)).fetchall())
                packages = db.execute(
                    "SELECT f.path, i.spec, i.names FROM imports i JOIN files f ON f.id = i.file_id "
                    "WHERE i.root_id = %s AND i.kind = %s",
                    (rid, PACKAGE),
                ).fetchall()
                resolver = Resolver(ids, packages)
                if everything:
                    db.execute("DELETE FROM edges WHERE root_id = %s", (rid,))
                else:
                    db.execute("DELETE FROM edges WHERE import_id = ANY(%s)", ([r[0] for r in rows],))
                edges: list[tuple[int, int, int, int, str]] = []
                states: list[tuple[int, int]] = []
                for iid, fid, path, language, kind, spec, names in rows:
                    targets = resolver.resolve(path, language, kind, spec, names)
                    edges += [(rid, iid, fid, ids[t.path], t.names) for t in targets if t.path != path]
                    states.append((1 if targets else 2, iid))  # an import of its own items is no edge
                _copy(db, "edges (root_id, import_id, src, dst, names)", edges)
                db.execute(
                    "UPDATE imports i SET state = x.state "
                    "FROM unnest(%s::int[], %s::bigint[]) AS x(state, id) "
                    "WHERE i.id = x.id",
                    ([s for s, _ in states], [i for _, i in states]),
                )
            db.execute("DELETE FROM meta WHERE root_id = %s AND key = 'relink'", (rid,))
            return len(rows)

    def imports_of(self, file_id: int) -> list[ImportRow]:
        rows = self.db.execute(
            "SELECT id, file_id, line, kind, spec, names, state = 1 FROM imports "
            "WHERE file_id = %s AND kind != %s ORDER BY line, id",
            (file_id, PACKAGE),
        )
        return [ImportRow(*r) for r in rows]

    def edges(self, file_ids: list[int], direction: str) -> list[EdgeRow]:
        column = {"out": "src", "in": "dst"}[direction]
        rows = self.db.execute(
            "SELECT e.src, e.dst, i.line, i.spec, e.names FROM edges e "
            f"JOIN imports i ON i.id = e.import_id WHERE e.{column} = ANY(%s)",
            (sorted(set(file_ids)),),
        )
        return sorted(map(EdgeRow._make, rows), key=lambda e: (e.src, e.line, e.dst))

    def graph(self) -> list[tuple[int, int, int]]:
        rows = self.db.execute(
            "SELECT src, dst, count(*) FROM edges WHERE root_id = %s GROUP BY src, dst ORDER BY src, dst",
            (self.root_id,),
        )
        return [tuple(r) for r in rows]

    # -- vectors (pgvector; HNSW with cosine distance, one partial index per dimension in use)

    def prepare_vectors(self, model: str, dims: int) -> None:
        dims = int(dims)
        with self._tx() as db:
            if self.get_meta("vector_model") != f"{model}:{dims}":
                db.execute("DELETE FROM chunk_vectors WHERE root_id = %s", (self.root_id,))
                db.execute(
                    "UPDATE chunks SET embedded = false WHERE root_id = %s AND embedded", (self.root_id,)
                )
                self._put_meta(db, {"vector_model": f"{model}:{dims}"})
            todo, done = db.execute(
                "SELECT count(*) FILTER (WHERE NOT embedded), count(*) FILTER (WHERE embedded) "
                "FROM chunks WHERE root_id = %s",
                (self.root_id,),
            ).fetchone()
            if todo >= BULK_VECTORS and todo > done:
                # A bulk load (a new root, a rebuild, a new model): without the graph the inserts
                # are ~30x faster, and finish_vectors builds it in one pass. Searches meanwhile
                # scan the root's vectors exactly.
                for (name,) in db.execute(
                    "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = %s "
                    "AND indexname LIKE %s",
                    (SCHEMA, vector_partition(self.root_id), f"{vector_partition(self.root_id)}_hnsw_%"),
                ).fetchall():
                    db.execute(f"DROP INDEX {SCHEMA}.{name}")

    def finish_vectors(self) -> None:
        """Build the root's HNSW graph if a bulk load dropped it (or an indexer died before this)."""
        model = self.get_meta("vector_model")
        if not model:
            return
        dims = int(model.rsplit(":", 1)[1])
        with self._tx() as db:
            built = db.execute(
                "SELECT 1 FROM pg_indexes WHERE schemaname = %s AND indexname = %s",
                (SCHEMA, hnsw_index(self.root_id, dims)),
            ).fetchone()
            if (
                not built
                and db.execute(
                    "SELECT 1 FROM chunk_vectors WHERE root_id = %s LIMIT 1", (self.root_id,)
                ).fetchone()
            ):
                create_hnsw(db, self.root_id, dims)

    def vector_model(self) -> str | None:
        return self.get_meta("vector_model")

    def vector_counts(self) -> tuple[int, int]:
        done, total = self.db.execute(
            "SELECT count(*) FILTER (WHERE embedded), count(*) FROM chunks WHERE root_id = %s",
            (self.root_id,),
        ).fetchone()
        return int(done), int(total)

    def chunks_to_embed(self, limit: int) -> list[tuple[int, str]]:
        rows = self.db.execute(
            "SELECT c.id, f.path, c.symbol, c.parent, c.signature, c.text FROM chunks c "
            "JOIN files f ON f.id = c.file_id WHERE c.root_id = %s AND NOT c.embedded ORDER BY c.id LIMIT %s",
            (self.root_id, limit),
        )
        return [(cid, chunk_text(path, sym, parent, sig, text)) for cid, path, sym, parent, sig, text in rows]

    def put_vectors(self, rows: list[tuple[int, bytes]]) -> None:
        import numpy as np

        with self._tx() as db:
            live = {
                r[0]
                for r in db.execute(
                    "SELECT id FROM chunks WHERE id = ANY(%s) AND NOT embedded", ([cid for cid, _ in rows],)
                )
            }
            keep = [(cid, self.root_id, np.frombuffer(v, dtype=np.float32)) for cid, v in rows if cid in live]
            db.cursor().executemany(
                "INSERT INTO chunk_vectors(chunk_id, root_id, embedding) VALUES (%s, %s, %s)", keep
            )
            db.execute("UPDATE chunks SET embedded = true WHERE id = ANY(%s)", ([cid for cid, *_ in keep],))

    def nearest(self, vector: bytes, limit: int) -> list[tuple[int, float]]:
        import numpy as np

        query = np.frombuffer(vector, dtype=np.float32)
        if not query.any():  # a zero vector has no cosine distance to anything
            return []
        dims = len(query)
        k = limit + TIE_MARGIN
        db = self.db
        distance = f"v.embedding::vector({dims}) <=> %s::vector({dims})"
        # The root's own partition either way. A small root is compared with every vector: exact, as
        # sqlite-vec is, so both backends rank alike (HNSW's order differed past the first places);
        # OFFSET 0 keeps the planner from ordering that scan through the HNSW index.
        if self.chunk_count() <= EXACT_VECTORS:
            found = (
                f"SELECT chunk_id, d FROM (SELECT v.chunk_id, {distance} AS d FROM chunk_vectors v "
                f"WHERE v.root_id = %s AND vector_dims(v.embedding) = {dims} OFFSET 0) x "
                "ORDER BY d, chunk_id LIMIT %s"
            )
        else:
            # An approximate search: its order already differs from the exact one past the first
            # places, so a wide margin for exact ties buys nothing; it cost a 150-deep search for 100.
            k = limit + HNSW_MARGIN
            ef = max(100, min(2 * k, 1000))
            if getattr(self._local, "ef_search", None) != (id(db), ef):  # a round trip saved per search
                db.execute(f"SET hnsw.ef_search = {ef}")
                self._local.ef_search = (id(db), ef)
            found = (
                f"SELECT v.chunk_id, {distance} AS d FROM chunk_vectors v "
                f"WHERE v.root_id = %s AND vector_dims(v.embedding) = {dims} ORDER BY d LIMIT %s"
            )
        rows = db.execute(_PLACED.format(found=found), (query, self.root_id, k)).fetchall()
        return _by_place([(cid, 1.0 - d, path, line) for cid, d, path, line in rows if d == d])[:limit]

    # -- reading

    def file(self, path: str) -> FileRow | None:
        row = self.db.execute(
            f"SELECT {_FILE_COLUMNS} FROM files WHERE root_id = %s AND path = %s", (self.root_id, path)
        ).fetchone()
        return FileRow._make(row) if row else None

    def files(self, ids: list[int]) -> dict[int, FileRow]:
        rows = self.db.execute(f"SELECT {_FILE_COLUMNS} FROM files WHERE id = ANY(%s)", (list(ids),))
        return {r[0]: FileRow._make(r) for r in rows}

    def chunks(self, ids: list[int], text: bool = True) -> dict[int, ChunkRow]:
        columns = _CHUNK_COLUMNS if text else _CHUNK_COLUMNS.replace("c.text", "''")
        rows = self.db.execute(
            f"SELECT {columns} FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.id = ANY(%s)",
            (list(ids),),
        )
        return {r[0]: ChunkRow._make(r) for r in rows}

    def chunks_of_file(self, file_id: int) -> list[ChunkRow]:
        rows = self.db.execute(
            f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN files f ON f.id = c.file_id "
            "WHERE c.file_id = %s ORDER BY c.start_line, c.id",
            (file_id,),
        )
        return [ChunkRow._make(r) for r in rows]

    def chunk_spans(self, file_ids: list[int]) -> dict[int, list[tuple[int, int, int, str]]]:
        out: dict[int, list[tuple[int, int, int, str]]] = {fid: [] for fid in file_ids}
        rows = self.db.execute(
            "SELECT file_id, id, start_line, end_line, kind FROM chunks WHERE file_id = ANY(%s) "
            "ORDER BY file_id, start_line, id",
            (list(file_ids),),
        )
        for fid, cid, start, end, kind in rows:
            out[fid].append((cid, start, end, kind))
        return out

    def lexical(self, terms: list[str], limit: int) -> list[tuple[int, float]]:
        if not terms:
            return []
        found = (
            "WITH r AS (SELECT chunks::float8 AS n, chunk_terms::float8 / greatest(chunks, 1) AS avgdl "
            "           FROM roots WHERE id = %(root)s), "
            f"q AS (SELECT t.id, {_idf('r.n', 't.df')} AS idf FROM terms t, r "
            "      WHERE t.root_id = %(root)s AND t.term = ANY(%(terms)s) AND t.df > 0) "
            f"SELECT p.chunk_id, sum(q.idf * {_bm25('p.freq', 'p.doc_len', 'r.avgdl')}) AS score "
            "FROM q JOIN postings p ON p.term_id = q.id CROSS JOIN r "
            "GROUP BY p.chunk_id ORDER BY score DESC, p.chunk_id LIMIT %(k)s"
        )
        rows = self.db.execute(
            _PLACED.format(found=found), {"root": self.root_id, "terms": list(terms), "k": limit + TIE_MARGIN}
        ).fetchall()
        return _by_place(rows)[:limit]

    def document_frequencies(self, terms: list[str]) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT term, df FROM terms WHERE root_id = %s AND term = ANY(%s) AND df > 0",
            (self.root_id, list(terms)),
        )
        return dict(rows.fetchall())

    def chunk_count(self) -> int:
        return int(self.db.execute("SELECT chunks FROM roots WHERE id = %s", (self.root_id,)).fetchone()[0])

    def _symbols(self, where: str, params: tuple, limit: int) -> list[SymbolRow]:
        rows = self.db.execute(
            f"SELECT {_SYMBOL_COLUMNS} FROM symbols s JOIN files f ON f.id = s.file_id "
            f"WHERE s.root_id = %s AND {where} "
            f"ORDER BY {_KIND_ORDER}, length(f.path), f.path, s.start_line, s.id "
            "LIMIT %s",
            (self.root_id, *params, limit),
        )
        return [SymbolRow._make(r) for r in rows]

    def symbols_exact(self, names: list[str], limit: int) -> list[SymbolRow]:
        lowered = sorted({n.lower() for n in names})
        if not lowered:
            return []
        return self._symbols("s.lname = ANY(%s)", (lowered,), limit)

    def symbols_prefix(self, prefix: str, limit: int) -> list[SymbolRow]:
        low = prefix.lower()
        return self._symbols("s.lname >= %s AND s.lname < %s", (low, low + "\U0010ffff"), limit)

    def symbols_similar(self, name: str, limit: int) -> list[SymbolRow]:
        grams = sorted(_grams(name.lower()))
        if not grams:
            return []
        # BM25 over name trigrams, as SQLite's FTS5 trigram table ranks them. The postings are read
        # by index first (MATERIALIZED): joined directly, the planner misjudged common grams and
        # scanned whole tables (~0.5 s on the stdlib instead of ~20 ms).
        rows = self.db.execute(
            "WITH r AS (SELECT symbols::float8 AS n, symbol_grams::float8 / greatest(symbols, 1) AS avgdl "
            "           FROM roots WHERE id = %(root)s), "
            "d AS MATERIALIZED (SELECT gram, symbol_id, tf, dl FROM symbol_grams "
            "                   WHERE root_id = %(root)s AND gram = ANY(%(g)s)), "
            "g AS (SELECT gram, count(*) AS df FROM d GROUP BY gram) "
            # Rounded before ordering: a float sum depends on the order rows arrive in, and short
            # names tie by the hundred ("decod": 201 at the top), so the ids must break the ties.
            f"SELECT d.symbol_id, round(sum({_idf('r.n', 'g.df')} * "
            f"{_bm25('d.tf', 'd.dl', 'r.avgdl')})::numeric, 9) AS score "
            "FROM d JOIN g ON g.gram = d.gram CROSS JOIN r "
            "GROUP BY d.symbol_id ORDER BY score DESC, d.symbol_id LIMIT %(k)s",
            {"root": self.root_id, "g": grams, "k": limit},
        ).fetchall()
        if not rows:
            return []
        return self._symbols("s.id = ANY(%s)", ([r[0] for r in rows],), limit)

    def symbols_in_file(self, file_id: int) -> list[SymbolRow]:
        rows = self.db.execute(
            f"SELECT {_SYMBOL_COLUMNS} FROM symbols s JOIN files f ON f.id = s.file_id "
            "WHERE s.file_id = %s ORDER BY s.start_line, s.id",
            (file_id,),
        )
        return [SymbolRow._make(r) for r in rows]

    def paths(self, terms: list[str], substrings: list[str], limit: int) -> list[tuple[int, float]]:
        scored: dict[int, float] = {}
        db = self.db
        for sub in substrings:
            like = "%" + sub.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            for fid, path in db.execute(
                "SELECT id, path FROM files WHERE root_id = %s AND lower(path) LIKE %s "
                "ORDER BY length(path), path LIMIT %s",
                (self.root_id, like, limit),
            ):
                # A substring that ends the path (a file name) beats one in a directory name.
                bonus = 2.0 if path.lower().endswith(sub.lower()) else 1.0
                scored[fid] = max(scored.get(fid, 0.0), 100.0 * bonus)
        if terms:
            for fid, score in db.execute(
                "WITH r AS (SELECT files::float8 AS n, path_terms::float8 / greatest(files, 1) AS avgdl "
                "           FROM roots WHERE id = %(root)s), "
                "g AS (SELECT term, count(*) AS df FROM path_postings WHERE root_id = %(root)s "
                "      AND term = ANY(%(t)s) GROUP BY term) "
                f"SELECT pp.file_id, sum({_idf('r.n', 'g.df')} * "
                f"{_bm25('pp.tf', 'f.path_len', 'r.avgdl')}) AS s "
                "FROM g JOIN path_postings pp ON pp.root_id = %(root)s AND pp.term = g.term "
                "JOIN files f ON f.id = pp.file_id CROSS JOIN r "
                "GROUP BY pp.file_id ORDER BY s DESC, pp.file_id LIMIT %(k)s",
                {"root": self.root_id, "t": list(terms), "k": limit + TIE_MARGIN},
            ):
                scored[fid] = scored.get(fid, 0.0) + float(score)
        paths = {fid: row.path for fid, row in self.files(list(scored)).items()}
        ranked = sorted(scored.items(), key=lambda kv: (-round(kv[1], 9), paths.get(kv[0], "")))
        return ranked[:limit]


guard(
    PostgresStore,
    writes=frozenset(
        ("apply", "set_meta", "resolve_imports", "prepare_vectors", "put_vectors", "finish_vectors")
    ),
    skip=frozenset(("writing",)),  # a context manager: it guards itself
)
