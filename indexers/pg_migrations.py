"""Named, versioned schema migrations of the shared PostgreSQL store. Never edit a released one: add
the next. They run only from `tokenlean store migrate` (an administrator's deliberate step on a
shared database), never implicitly when a store opens; opening checks the version instead.

Everything lives in the `tokenlean` schema, so the tables sit beside a team's own without clashing.
Every row carries the id of its root (a repository's namespace).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

SCHEMA = "tokenlean"
MIGRATE_LOCK = 0x746B6C6E  # advisory lock key ('tkln') serialising concurrent migrators

Migration = Callable[[Any], None]  # takes a psycopg connection inside a transaction


class PgMigrations:
    """The ordered migrations; each runs in its own transaction with its version row."""

    def __init__(self) -> None:
        self.steps: list[tuple[int, str, Migration]] = []

    def __call__(self, version: int, name: str) -> Callable[[Migration], Migration]:
        def register(fn: Migration) -> Migration:
            if self.steps and version != self.steps[-1][0] + 1:
                raise ValueError(f"migration {version} registered out of order")
            self.steps.append((version, name, fn))
            return fn

        return register

    @property
    def latest(self) -> int:
        return self.steps[-1][0] if self.steps else 0

    def after(self, version: int) -> Iterator[tuple[int, str, Migration]]:
        return (step for step in self.steps if step[0] > version)


PG = PgMigrations()


def _script(db: Any, sql: str) -> None:
    for statement in sql.split(";\n"):
        if statement.strip():
            db.execute(statement)


@PG(1, "roots, files, chunks, symbols, lexical postings, imports, edges and vectors")
def _m001(db: Any) -> None:
    _script(
        db,
        """
        CREATE TABLE roots (
            id serial PRIMARY KEY,
            path text COLLATE "C" NOT NULL UNIQUE,
            -- BM25 statistics, kept in step by every write of the root's (serialised) writer.
            chunks bigint NOT NULL DEFAULT 0,
            chunk_terms bigint NOT NULL DEFAULT 0,
            files bigint NOT NULL DEFAULT 0,
            path_terms bigint NOT NULL DEFAULT 0,
            symbols bigint NOT NULL DEFAULT 0,
            symbol_grams bigint NOT NULL DEFAULT 0,
            created timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE meta (
            root_id int NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
            key text NOT NULL,
            value text NOT NULL,
            PRIMARY KEY (root_id, key)
        );
        CREATE TABLE files (
            id bigserial PRIMARY KEY,
            root_id int NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
            path text COLLATE "C" NOT NULL,
            language text NOT NULL,
            size bigint NOT NULL,
            mtime_ns bigint NOT NULL,
            hash text NOT NULL,
            lines int NOT NULL,
            tokens int NOT NULL,
            parsed boolean NOT NULL,
            indexed_at double precision NOT NULL,
            path_len int NOT NULL,
            UNIQUE (root_id, path)
        );
        CREATE TABLE chunks (
            id bigserial PRIMARY KEY,
            root_id int NOT NULL,
            file_id bigint NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            start_line int NOT NULL,
            end_line int NOT NULL,
            kind text NOT NULL,
            symbol text NOT NULL,
            parent text NOT NULL,
            signature text NOT NULL,
            text text NOT NULL,
            vec_hash text NOT NULL,
            embedded boolean NOT NULL DEFAULT false,
            doc_len int NOT NULL
        );
        CREATE INDEX chunks_by_file ON chunks(file_id, start_line);
        CREATE INDEX chunks_to_embed ON chunks(root_id) WHERE NOT embedded;
        -- Lexical index: the terms of indexers/terms.py, one row per (term, chunk), scored by BM25 in SQL.
        CREATE TABLE terms (
            id bigserial PRIMARY KEY,
            root_id int NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
            term text COLLATE "C" NOT NULL,
            df int NOT NULL,
            UNIQUE (root_id, term)
        );
        CREATE TABLE postings (
            term_id bigint NOT NULL,
            chunk_id bigint NOT NULL,
            root_id int NOT NULL,
            freq real NOT NULL,
            doc_len int NOT NULL,
            PRIMARY KEY (term_id, chunk_id)
        );
        CREATE INDEX postings_by_chunk ON postings(chunk_id);
        CREATE TABLE path_postings (
            root_id int NOT NULL,
            term text COLLATE "C" NOT NULL,
            file_id bigint NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            tf int NOT NULL,
            PRIMARY KEY (root_id, term, file_id)
        );
        CREATE INDEX path_postings_by_file ON path_postings(file_id);
        CREATE TABLE symbols (
            id bigserial PRIMARY KEY,
            root_id int NOT NULL,
            file_id bigint NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            chunk_id bigint,
            name text NOT NULL,
            lname text COLLATE "C" NOT NULL,
            kind text NOT NULL,
            parent text NOT NULL,
            signature text NOT NULL,
            start_line int NOT NULL,
            end_line int NOT NULL
        );
        CREATE INDEX symbols_by_name ON symbols(root_id, lname);
        CREATE INDEX symbols_by_file ON symbols(file_id);
        -- Character trigrams of symbol names, for fuzzy matching (pg_trgm is not everywhere).
        CREATE TABLE symbol_grams (
            root_id int NOT NULL,
            gram text COLLATE "C" NOT NULL,
            symbol_id bigint NOT NULL REFERENCES symbols(id) ON DELETE CASCADE,
            tf int NOT NULL,
            PRIMARY KEY (root_id, gram, symbol_id)
        );
        CREATE INDEX symbol_grams_by_symbol ON symbol_grams(symbol_id);
        -- state: 0 to resolve, 1 resolved to indexed files, 2 external or not found.
        CREATE TABLE imports (
            id bigserial PRIMARY KEY,
            root_id int NOT NULL,
            file_id bigint NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            line int NOT NULL,
            kind text NOT NULL,
            spec text NOT NULL,
            names text NOT NULL,
            state smallint NOT NULL DEFAULT 0
        );
        CREATE INDEX imports_by_file ON imports(file_id);
        CREATE INDEX imports_to_resolve ON imports(root_id) WHERE state = 0;
        CREATE TABLE edges (
            root_id int NOT NULL,
            import_id bigint NOT NULL,
            src bigint NOT NULL,
            dst bigint NOT NULL,
            names text NOT NULL
        );
        CREATE INDEX edges_by_root ON edges(root_id, src, dst);
        CREATE INDEX edges_by_src ON edges(src);
        CREATE INDEX edges_by_dst ON edges(dst);
        CREATE INDEX edges_by_import ON edges(import_id);
        -- Any dimension; prepare_vectors adds an HNSW (cosine) index per dimension in use.
        CREATE TABLE chunk_vectors (
            chunk_id bigint PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,
            root_id int NOT NULL,
            embedding vector NOT NULL
        )
        """,
    )
