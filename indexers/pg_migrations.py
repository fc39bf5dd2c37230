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


def vector_partition(root_id: int) -> str:
    """The table holding one root's vectors (a partition of chunk_vectors)."""
    return f"chunk_vectors_{int(root_id)}"


def has_vector_partition(db: Any, root_id: int) -> bool:
    return (
        db.execute(
            "SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
            (PG.schema, vector_partition(root_id)),
        ).fetchone()
        is not None
    )


def add_vector_partition(db: Any, root_id: int) -> None:
    """Give a root its own vector table. Created apart and then attached: ATTACH takes only a SHARE
    UPDATE EXCLUSIVE lock on chunk_vectors, so searches and other roots' writers never wait for it
    (CREATE TABLE ... PARTITION OF would take an exclusive lock on the whole table)."""
    name = vector_partition(root_id)
    if has_vector_partition(db, root_id):
        return
    db.execute(
        f"CREATE TABLE IF NOT EXISTS {PG.schema}.{name} (chunk_id bigint PRIMARY KEY, "
        f"root_id int NOT NULL CHECK (root_id = {int(root_id)}), embedding vector NOT NULL)"
    )
    db.execute(
        f"ALTER TABLE {PG.schema}.chunk_vectors ATTACH PARTITION {PG.schema}.{name} "
        f"FOR VALUES IN ({int(root_id)})"
    )


def hnsw_index(root_id: int, dims: int) -> str:
    return f"{vector_partition(root_id)}_hnsw_{int(dims)}"


def create_hnsw(db: Any, root_id: int, dims: int) -> None:
    """The HNSW (cosine) graph over a root's vectors of one dimension, built in one pass (~3x faster
    than inserting vectors one by one into a live graph, measured in bench/team)."""
    dims = int(dims)
    current = db.execute("SELECT setting::bigint FROM pg_settings WHERE name = 'maintenance_work_mem'")
    if current.fetchone()[0] < 512 * 1024:  # kB: below this a root's graph spills and builds slowly
        db.execute("SET LOCAL maintenance_work_mem = '512MB'")
    db.execute(
        f"CREATE INDEX IF NOT EXISTS {hnsw_index(root_id, dims)} ON {PG.schema}.{vector_partition(root_id)} "
        f"USING hnsw ((embedding::vector({dims})) vector_cosine_ops) WHERE vector_dims(embedding) = {dims}"
    )


@PG(2, "vectors partitioned by root with an HNSW graph each; postings and trigram keys cover their reads")
def _m002(db: Any) -> None:
    # One shared HNSW graph made a root's search walk every root's vectors (filtered afterwards:
    # 14 ms against 1.8 ms for a graph of its own, at 12 roots) and every insert pay for the whole
    # graph. Vectors no longer cascade from chunks: the store deletes them with their chunks
    # (a foreign key would make attaching a partition lock the chunks table).
    run_script(
        db,
        """
        ALTER TABLE chunk_vectors RENAME TO chunk_vectors_v1;
        CREATE TABLE chunk_vectors (
            chunk_id bigint NOT NULL,
            root_id int NOT NULL,
            embedding vector NOT NULL
        ) PARTITION BY LIST (root_id);
        -- BM25 reads (freq, doc_len) of a term's postings: in the key, it never visits the table.
        -- A posting's root is its term's.
        ALTER TABLE postings DROP CONSTRAINT postings_pkey;
        ALTER TABLE postings DROP COLUMN root_id;
        ALTER TABLE postings ADD PRIMARY KEY (term_id, chunk_id) INCLUDE (freq, doc_len);
        -- The fuzzy symbol search looked up each candidate's name length in symbols, row by row.
        ALTER TABLE symbol_grams ADD COLUMN dl int NOT NULL DEFAULT 0;
        UPDATE symbol_grams g SET dl = greatest(length(s.lname) - 2, 0)
            FROM symbols s WHERE s.id = g.symbol_id;
        ALTER TABLE symbol_grams ALTER COLUMN dl DROP DEFAULT;
        ALTER TABLE symbol_grams DROP CONSTRAINT symbol_grams_pkey;
        ALTER TABLE symbol_grams ADD PRIMARY KEY (root_id, gram, symbol_id) INCLUDE (tf, dl)
        """,
    )
    for (rid,) in db.execute("SELECT id FROM roots ORDER BY id").fetchall():
        add_vector_partition(db, rid)
    db.execute(
        "INSERT INTO chunk_vectors (chunk_id, root_id, embedding) SELECT v.chunk_id, v.root_id, v.embedding "
        "FROM chunk_vectors_v1 v JOIN chunks c ON c.id = v.chunk_id"
    )
    dims = db.execute("SELECT DISTINCT root_id, vector_dims(embedding) FROM chunk_vectors ORDER BY 1, 2")
    for rid, d in dims.fetchall():
        create_hnsw(db, rid, d)
    db.execute("DROP TABLE chunk_vectors_v1")
