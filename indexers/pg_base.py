"""Connecting to the shared PostgreSQL store, checking its schema version, migrating it.

psycopg (and pgvector's adapter) are imported only here and only when a postgresql:// store is
used, so the embedded SQLite default never needs them.
"""

from __future__ import annotations

import functools
import inspect
import re
import threading
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from .errors import IndexProblem
from .pg_migrations import MIGRATE_LOCK, PG, PG_LEDGER, SCHEMA, PgMigrations

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


def connect(url: str, schema: str = SCHEMA) -> Any:
    """An autocommit connection with `schema` first on the search path."""
    psycopg = _psycopg()
    try:
        db = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise IndexProblem(
            f"cannot connect to the store at {redact(url)}: {_one_line(exc)}; check the URL and that "
            "the database is running and reachable, then retry"
        ) from exc
    db.execute(f"SET search_path TO {schema}, public")
    return db


def schema_version(db: Any, schema: str = SCHEMA) -> int:
    """The highest migration applied to `schema`, 0 for a database tokenlean never migrated."""
    found = db.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = 'schema_version'",
        (schema,),
    ).fetchone()
    if not found:
        return 0
    row = db.execute(f"SELECT max(version) FROM {schema}.schema_version").fetchone()
    return int(row[0] or 0)


def check_version(db: Any, url: str, migrations: PgMigrations = PG) -> None:
    """Refuse a database whose schema is not exactly the one this tokenlean writes."""
    version, latest = schema_version(db, migrations.schema), migrations.latest
    if version == latest:
        return
    where = redact(url)
    if version > latest:
        raise IndexProblem(
            f"the store at {where} has schema version {version}, newer than this tokenlean understands "
            f"({latest}): upgrade tokenlean on this machine (others already use a newer one)"
        )
    state = f"has no {migrations.schema} schema yet" if version == 0 else f"has schema version {version}"
    raise IndexProblem(
        f"the store at {where} {state}; this tokenlean needs version {latest}: "
        f"run 'tokenlean store migrate --store {where}' (once, by someone allowed to change the database)"
    )


def register_vectors(db: Any) -> None:
    from pgvector.psycopg import register_vector

    register_vector(db)


def migrate(url: str) -> list[tuple[str, int, str]]:
    """Apply the migrations (index, then ledger) the database lacks; returns (schema, version, name)
    of those applied, none when up to date.

    All in one transaction (PostgreSQL's DDL is transactional): a failing step leaves the database
    as it was. Concurrent migrators wait for each other on an advisory lock, so each step runs once.
    """
    psycopg = _psycopg()
    db = connect(url)
    applied: list[tuple[str, int, str]] = []
    try:
        with db.transaction():
            db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
            try:
                for migrations in (PG, PG_LEDGER):
                    db.execute(f"CREATE SCHEMA IF NOT EXISTS {migrations.schema}")
                db.execute("CREATE EXTENSION IF NOT EXISTS vector")
            except psycopg.Error as exc:
                raise IndexProblem(
                    f"cannot prepare {redact(url)} ({_one_line(exc)}): the store needs the pgvector "
                    f"extension and the '{PG.schema}' and '{PG_LEDGER.schema}' schemas; have a database "
                    f"owner run 'CREATE EXTENSION vector; CREATE SCHEMA {PG.schema} AUTHORIZATION <you>' "
                    f"(and the same for {PG_LEDGER.schema}) "
                    "(or use a PostgreSQL image with pgvector, e.g. pgvector/pgvector:pg17)"
                ) from exc
            for migrations in (PG, PG_LEDGER):
                applied += _migrate_schema(db, url, migrations)
    finally:
        db.close()
    return applied


def _migrate_schema(db: Any, url: str, migrations: PgMigrations) -> list[tuple[str, int, str]]:
    psycopg = _psycopg()
    schema = migrations.schema
    db.execute(f"SET LOCAL search_path TO {schema}, public")
    db.execute(
        f"CREATE TABLE IF NOT EXISTS {schema}.schema_version (version int PRIMARY KEY, name text NOT NULL, "
        "applied timestamptz NOT NULL DEFAULT now())"
    )
    current = schema_version(db, schema)
    if current > migrations.latest:
        check_version(db, url, migrations)
    applied = []
    for number, name, fn in migrations.after(current):
        with db.transaction():  # a savepoint: a failing step names itself
            try:
                fn(db)
            except psycopg.Error as exc:
                raise IndexProblem(
                    f"migration {schema} {number} ({name}) failed on {redact(url)}: {_one_line(exc)}; "
                    "nothing was changed"
                ) from exc
            db.execute(f"INSERT INTO {schema}.schema_version(version, name) VALUES (%s, %s)", (number, name))
        applied.append((schema, number, name))
    return applied


class PgDatabase:
    """A shared PostgreSQL database of one kind (index or ledger): a connection per thread, its
    schema version checked on connect, and lost connections replaced (see `guard`)."""

    migrations: PgMigrations = PG
    what = "store"  # how messages name it

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()
        self._connections: list[Any] = []
        self._lock = threading.Lock()

    def _prepare(self, db: Any) -> None:
        """Per-connection setup after the version check."""

    @property
    def db(self) -> Any:
        db = getattr(self._local, "db", None)
        if db is None or db.closed:
            db = connect(self.url, self.migrations.schema)
            try:
                check_version(db, self.url, self.migrations)
                self._prepare(db)
            except BaseException:
                db.close()
                raise
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    def _lost(self) -> bool:
        db = getattr(self._local, "db", None)
        return db is None or db.closed or db.broken

    def _drop(self) -> None:
        """Forget this thread's connection (it broke): the next call connects afresh."""
        db = getattr(self._local, "db", None)
        self._local.db = None
        if db is not None:
            with suppress(Exception):
                db.close()
            with self._lock, suppress(ValueError):
                self._connections.remove(db)

    def _unreachable(self, exc: BaseException) -> IndexProblem:
        return IndexProblem(
            f"the {self.what} at {redact(self.url)} is unreachable ({_one_line(exc)}): retry in a "
            "moment; nothing is lost (an interrupted update rolls back and the next one redoes it)"
        )

    def close(self) -> None:
        with self._lock:
            for db in self._connections:
                with suppress(Exception):
                    db.close()
            self._connections.clear()
        self._local = threading.local()


def guard(cls: type[PgDatabase], writes: frozenset[str], skip: frozenset[str] = frozenset()) -> None:
    """Make the public methods of `cls` turn a lost connection (database restarted, network cut) into
    a clear 'retry' error and replace the connection. Reads outside a write transaction are retried
    once on a fresh connection first, so a restart that is over by then costs a caller nothing."""

    def wrap(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def guarded(self: PgDatabase, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except connection_errors() as exc:
                if not self._lost():
                    raise  # a conflict or a bug, not a lost connection: say so as it is
                self._drop()
                if name in writes or getattr(self._local, "writing", False):
                    raise self._unreachable(exc) from exc
            try:
                return method(self, *args, **kwargs)
            except connection_errors() as exc:
                self._drop()
                raise self._unreachable(exc) from exc

        return guarded

    for name, method in list(vars(cls).items()):
        public = not name.startswith("_") or name == "__init__"
        if public and name not in skip and inspect.isfunction(method):
            setattr(cls, name, wrap(name, method))
