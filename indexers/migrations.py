"""Numbered schema migrations of tokenlean's SQLite files. Never edit a released one: add the next."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

Migration = Callable[[Any], None]  # takes a connection (sqlite3, or psycopg for the shared store)


class Migrations:
    """The ordered migrations of one kind of database; each runs in its own transaction."""

    def __init__(self) -> None:
        self._steps: list[tuple[int, str, Migration]] = []

    def __call__(self, version: int, name: str) -> Callable[[Migration], Migration]:
        def register(fn: Migration) -> Migration:
            if self._steps and version != self._steps[-1][0] + 1:
                raise ValueError(f"migration {version} registered out of order")
            self._steps.append((version, name, fn))
            return fn

        return register

    @property
    def latest(self) -> int:
        return self._steps[-1][0] if self._steps else 0

    def after(self, version: int) -> Iterator[tuple[int, str, Migration]]:
        return (step for step in self._steps if step[0] > version)


INDEX = Migrations()
LEDGER = Migrations()


def run_script(db: Any, sql: str) -> None:
    """Run `;`-separated statements one by one: sqlite3's executescript() would commit the
    migration's transaction midway, and psycopg runs one statement per call."""
    for statement in sql.split(";\n"):
        if statement.strip():
            db.execute(statement)


@INDEX(1, "files, chunks, symbols and their lexical indexes")
def _m001(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE files (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            language TEXT NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            hash TEXT NOT NULL,
            lines INTEGER NOT NULL,
            tokens INTEGER NOT NULL,
            parsed INTEGER NOT NULL,
            indexed_at REAL NOT NULL
        );
        CREATE TABLE chunks (
            id INTEGER PRIMARY KEY,
            file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            start_line INTEGER NOT NULL,
            end_line INTEGER NOT NULL,
            kind TEXT NOT NULL,
            symbol TEXT NOT NULL,
            parent TEXT NOT NULL,
            signature TEXT NOT NULL,
            text TEXT NOT NULL
        );
        CREATE INDEX chunks_by_file ON chunks(file_id, start_line);
        CREATE TABLE symbols (
            id INTEGER PRIMARY KEY,
            file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            chunk_id INTEGER,
            name TEXT NOT NULL,
            lname TEXT NOT NULL,
            kind TEXT NOT NULL,
            parent TEXT NOT NULL,
            signature TEXT NOT NULL,
            start_line INTEGER NOT NULL,
            end_line INTEGER NOT NULL
        );
        CREATE INDEX symbols_by_name ON symbols(lname);
        CREATE INDEX symbols_by_file ON symbols(file_id);
        -- Contentless: the text lives in `chunks`; deletes re-derive the indexed terms from it.
        CREATE VIRTUAL TABLE chunks_fts USING fts5(
            name, path, body, content='', tokenize="unicode61 tokenchars '_'"
        );
        CREATE VIRTUAL TABLE chunks_vocab USING fts5vocab(chunks_fts, 'row');
        CREATE VIRTUAL TABLE files_fts USING fts5(path, content='', tokenize="unicode61 tokenchars '_'");
        CREATE VIRTUAL TABLE symbols_trigrams USING fts5(
            lname, content='symbols', content_rowid='id', tokenize='trigram'
        );
        """,
    )


@LEDGER(1, "tool calls, task budgets, imported usage and transcript tool calls")
def _ledger001(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE calls (
            id INTEGER PRIMARY KEY,
            ts REAL NOT NULL,
            task TEXT NOT NULL,
            session TEXT NOT NULL,
            agent TEXT NOT NULL,
            client TEXT NOT NULL,
            source TEXT NOT NULL,
            tool TEXT NOT NULL,
            args_digest TEXT NOT NULL,
            tokens INTEGER NOT NULL,
            baseline INTEGER NOT NULL,
            seen_tokens INTEGER NOT NULL,
            latency_ms REAL NOT NULL,
            error TEXT NOT NULL,
            root TEXT NOT NULL
        );
        CREATE INDEX calls_by_task ON calls(task, ts);
        CREATE INDEX calls_by_ts ON calls(ts);
        CREATE TABLE budgets (
            task TEXT PRIMARY KEY,
            soft INTEGER,
            hard INTEGER,
            updated REAL NOT NULL
        );
        CREATE TABLE usage (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            client TEXT NOT NULL,
            session TEXT NOT NULL,
            agent TEXT NOT NULL,
            model TEXT NOT NULL,
            ts REAL NOT NULL,
            project TEXT NOT NULL,
            input INTEGER NOT NULL,
            output INTEGER NOT NULL,
            cache_write_5m INTEGER NOT NULL,
            cache_write_1h INTEGER NOT NULL,
            cache_read INTEGER NOT NULL,
            reasoning INTEGER NOT NULL,
            sidechain INTEGER NOT NULL,
            file TEXT NOT NULL
        );
        CREATE INDEX usage_by_session ON usage(session);
        CREATE INDEX usage_by_ts ON usage(ts);
        CREATE TABLE tool_uses (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            client TEXT NOT NULL,
            session TEXT NOT NULL,
            agent TEXT NOT NULL,
            ts REAL NOT NULL,
            server TEXT NOT NULL,
            tool TEXT NOT NULL,
            result_chars INTEGER NOT NULL,
            result_tokens INTEGER NOT NULL,
            is_error INTEGER NOT NULL
        );
        CREATE INDEX tool_uses_by_session ON tool_uses(session);
        """,
    )


@INDEX(2, "chunks remember whether and as what they were embedded")
def _m002(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        ALTER TABLE chunks ADD COLUMN vec_hash TEXT NOT NULL DEFAULT '';
        ALTER TABLE chunks ADD COLUMN embedded INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX chunks_to_embed ON chunks(embedded) WHERE embedded = 0
        """,
    )


@INDEX(3, "import statements and the file-to-file edges they resolve to")
def _m003(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        -- state: 0 to resolve, 1 resolved to indexed files, 2 external or not found.
        CREATE TABLE imports (
            id INTEGER PRIMARY KEY,
            file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            line INTEGER NOT NULL,
            kind TEXT NOT NULL,
            spec TEXT NOT NULL,
            names TEXT NOT NULL,
            state INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX imports_by_file ON imports(file_id);
        CREATE INDEX imports_to_resolve ON imports(state) WHERE state = 0;
        CREATE TABLE edges (
            import_id INTEGER NOT NULL,
            src INTEGER NOT NULL,
            dst INTEGER NOT NULL,
            names TEXT NOT NULL
        );
        CREATE INDEX edges_by_src ON edges(src);
        CREATE INDEX edges_by_dst ON edges(dst);
        CREATE INDEX edges_by_import ON edges(import_id);
        -- Files indexed before imports were read: make the next update read them again.
        UPDATE files SET size = -1, hash = ''
        """,
    )
