"""Named, versioned schema migrations of the shared PostgreSQL store. Never edit a released one: add
the next. They run only from `tokenlean store migrate` (an administrator's deliberate step on a
shared database), never implicitly when a store opens; opening checks the version instead.

The index lives in the `tokenlean` schema and the team ledger in `tokenlean_ledger`, each with its
own versions (as the index and the ledger are separate files with SQLite), so the tables sit beside a
team's own without clashing. Every index row carries the id of its root (a repository's namespace).
"""

from __future__ import annotations

from typing import Any

from .migrations import Migrations, run_script

MIGRATE_LOCK = 0x746B6C6E  # advisory lock key ('tkln') serialising concurrent migrators


class PgMigrations(Migrations):
    """The ordered migrations of one schema, recorded in its `schema_version` table."""

    def __init__(self, schema: str) -> None:
        super().__init__()
        self.schema = schema


PG = PgMigrations("tokenlean")
PG_LEDGER = PgMigrations("tokenlean_ledger")
SCHEMA = PG.schema


@PG(1, "roots, files, chunks, symbols, lexical postings, imports, edges and vectors")
def _m001(db: Any) -> None:
    run_script(
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


@PG_LEDGER(1, "tool calls, task budgets, imported usage and transcript tool calls, with their user")
def _ledger001(db: Any) -> None:
    run_script(
        db,
        """
        CREATE TABLE calls (
            id bigserial PRIMARY KEY,
            ts double precision NOT NULL,
            task text NOT NULL,
            session text NOT NULL,
            agent text NOT NULL,
            client text NOT NULL,
            source text NOT NULL,
            tool text NOT NULL,
            args_digest text NOT NULL,
            tokens int NOT NULL,
            baseline int NOT NULL,
            seen_tokens int NOT NULL,
            latency_ms double precision NOT NULL,
            error text NOT NULL,
            root text NOT NULL,
            user_name text NOT NULL
        );
        CREATE INDEX calls_by_task ON calls(task, ts);
        CREATE INDEX calls_by_ts ON calls(ts);
        CREATE TABLE budgets (
            task text PRIMARY KEY,
            soft int,
            hard int,
            updated double precision NOT NULL
        );
        CREATE TABLE usage (
            id bigserial PRIMARY KEY,
            key text NOT NULL UNIQUE,
            client text NOT NULL,
            session text NOT NULL,
            agent text NOT NULL,
            model text NOT NULL,
            ts double precision NOT NULL,
            project text NOT NULL,
            input bigint NOT NULL,
            output bigint NOT NULL,
            cache_write_5m bigint NOT NULL,
            cache_write_1h bigint NOT NULL,
            cache_read bigint NOT NULL,
            reasoning bigint NOT NULL,
            sidechain boolean NOT NULL,
            file text NOT NULL,
            user_name text NOT NULL
        );
        CREATE INDEX usage_by_session ON usage(session);
        CREATE INDEX usage_by_ts ON usage(ts);
        CREATE TABLE tool_uses (
            id bigserial PRIMARY KEY,
            key text NOT NULL UNIQUE,
            client text NOT NULL,
            session text NOT NULL,
            agent text NOT NULL,
            ts double precision NOT NULL,
            server text NOT NULL,
            tool text NOT NULL,
            result_chars int NOT NULL,
            result_tokens int NOT NULL,
            is_error boolean NOT NULL,
            user_name text NOT NULL
        );
        CREATE INDEX tool_uses_by_session ON tool_uses(session)
        """,
    )
