"""Connecting to the shared PostgreSQL store, checking its schema version, migrating it.

psycopg (and pgvector's adapter) are imported only here and only when a postgresql:// store is
used, so the embedded SQLite default never needs them.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import IndexProblem
from .pg_migrations import MIGRATE_LOCK, PG, SCHEMA

SCHEMES = ("postgresql://", "postgres://")


def is_store_url(location: object) -> bool:
    return isinstance(location, str) and location.startswith(SCHEMES)


def redact(url: str) -> str:
    """The URL without its password, for messages and status output."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1@", url)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise IndexProblem(
            "a postgresql:// store needs the PostgreSQL driver: pip install 'tokenlean[team]'"
        ) from None
    return psycopg


def connection_errors() -> tuple[type[BaseException], ...]:
    """What psycopg raises when the database went away (restart, shutdown, network)."""
    psycopg = _psycopg()
    return (psycopg.OperationalError, psycopg.InterfaceError)


def connect(url: str) -> Any:
    """An autocommit connection with the tokenlean schema first on the search path."""
    psycopg = _psycopg()
    try:
        db = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise IndexProblem(
            f"cannot connect to the store at {redact(url)}: {_one_line(exc)}; check the URL and that "
            "the database is running and reachable, then retry"
        ) from exc
    db.execute(f"SET search_path TO {SCHEMA}, public")
    return db


def schema_version(db: Any) -> int:
    """The highest migration applied, 0 for a database tokenlean never migrated."""
    found = db.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = 'schema_version'",
        (SCHEMA,),
    ).fetchone()
    if not found:
        return 0
    row = db.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def check_version(db: Any, url: str) -> None:
    """Refuse a database whose schema is not exactly the one this tokenlean writes."""
    version, latest = schema_version(db), PG.latest
    if version == latest:
        return
    where = redact(url)
    if version > latest:
        raise IndexProblem(
            f"the store at {where} has schema version {version}, newer than this tokenlean understands "
            f"({latest}): upgrade tokenlean on this machine (others already use a newer one)"
        )
    state = "has no tokenlean schema yet" if version == 0 else f"has schema version {version}"
    raise IndexProblem(
        f"the store at {where} {state}; this tokenlean needs version {latest}: "
        f"run 'tokenlean store migrate --store {where}' (once, by someone allowed to change the database)"
    )


def register_vectors(db: Any) -> None:
    from pgvector.psycopg import register_vector

    register_vector(db)


def migrate(url: str) -> list[tuple[int, str]]:
    """Apply the migrations the database lacks; returns those applied (none when up to date).

    All in one transaction (PostgreSQL's DDL is transactional): a failing step leaves the database
    as it was. Concurrent migrators wait for each other on an advisory lock, so each step runs once.
    """
    psycopg = _psycopg()
    db = connect(url)
    applied: list[tuple[int, str]] = []
    try:
        with db.transaction():
            db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
            try:
                db.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
                db.execute("CREATE EXTENSION IF NOT EXISTS vector")
            except psycopg.Error as exc:
                raise IndexProblem(
                    f"cannot prepare {redact(url)} ({_one_line(exc)}): the store needs the pgvector "
                    f"extension and a '{SCHEMA}' schema; have a database owner run "
                    f"'CREATE EXTENSION vector; CREATE SCHEMA {SCHEMA} AUTHORIZATION <your user>' "
                    "(or use a PostgreSQL image with pgvector, e.g. pgvector/pgvector:pg17)"
                ) from exc
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version int PRIMARY KEY, name text NOT NULL, "
                "applied timestamptz NOT NULL DEFAULT now())"
            )
            current = schema_version(db)
            if current > PG.latest:
                check_version(db, url)
            for number, name, fn in PG.after(current):
                with db.transaction():  # a savepoint: a failing step names itself
                    try:
                        fn(db)
                    except psycopg.Error as exc:
                        raise IndexProblem(
                            f"migration {number} ({name}) failed on {redact(url)}: {_one_line(exc)}; "
                            "nothing was changed"
                        ) from exc
                    db.execute("INSERT INTO schema_version(version, name) VALUES (%s, %s)", (number, name))
                applied.append((number, name))
    finally:
        db.close()
    return applied
