"""Which SQLite the index talks to, and whether it can hold vectors.

The standard library's sqlite3 cannot load extensions on some Python builds (this one included),
and sqlite-vec is an extension. So: use a build that can (sqlean.py, then pysqlite3) when one is
installed, load sqlite-vec into it, and otherwise fall back to the standard library without
vectors. $TOKENLEAN_SQLITE (stdlib, sqlean, pysqlite3) forces a choice.
"""

from __future__ import annotations

import importlib
import os
import sqlite3 as stdlib_sqlite3
from functools import lru_cache
from types import ModuleType
from typing import NamedTuple

ENV = "TOKENLEAN_SQLITE"
_CANDIDATES = ("sqlean", "pysqlite3")


class Driver(NamedTuple):
    name: str
    module: ModuleType
    vectors: bool  # sqlite-vec loads into its connections
    problem: str  # why vectors are unavailable, "" when they are


def _try_vec(module: ModuleType) -> str:
    """'' when sqlite-vec loads into a connection of `module`, else why not."""
    try:
        import sqlite_vec
    except ImportError:
        return "sqlite-vec is not installed (pip install 'tokenlean[vectors]')"
    db = module.connect(":memory:")
    try:
        if not hasattr(db, "enable_load_extension"):
            return f"{module.__name__} cannot load extensions"
        db.enable_load_extension(True)
        sqlite_vec.load(db)
        db.enable_load_extension(False)
        db.execute("SELECT vec_version()")
        return ""
    except Exception as exc:  # each build fails differently; any failure means no vectors
        return f"sqlite-vec does not load into {module.__name__}: {exc}"
    finally:
        db.close()


@lru_cache(maxsize=1)
def driver() -> Driver:
    forced = os.environ.get(ENV, "").strip().lower()
    names = [forced] if forced and forced != "stdlib" else ([] if forced == "stdlib" else list(_CANDIDATES))
    problems = []
    for name in names:
        try:
            module = importlib.import_module(name if name != "pysqlite3" else "pysqlite3.dbapi2")
        except ImportError:
            problems.append(f"{name} is not installed")
            continue
        problem = _try_vec(module)
        if not problem:
            return Driver(name, module, True, "")
        problems.append(problem)
    stdlib_problem = _try_vec(stdlib_sqlite3)
    if not stdlib_problem:
        return Driver("stdlib", stdlib_sqlite3, True, "")
    reason = "; ".join([*problems, stdlib_problem]) or stdlib_problem
    return Driver("stdlib", stdlib_sqlite3, False, reason)


def connect(path: str, **kwargs) -> stdlib_sqlite3.Connection:
    """A connection of the chosen driver, with sqlite-vec loaded when it can be."""
    d = driver()
    db = d.module.connect(path, **kwargs)
    if d.vectors:
        import sqlite_vec

        db.enable_load_extension(True)
        sqlite_vec.load(db)
        db.enable_load_extension(False)
    return db


def errors() -> tuple[type[BaseException], ...]:
    """The exception classes a database error may come as (each driver has its own)."""
    d = driver()
    if d.module is stdlib_sqlite3:
        return (stdlib_sqlite3.Error,)
    return (stdlib_sqlite3.Error, d.module.Error)


def database_errors() -> tuple[type[BaseException], ...]:
    d = driver()
    if d.module is stdlib_sqlite3:
        return (stdlib_sqlite3.DatabaseError,)
    return (stdlib_sqlite3.DatabaseError, d.module.DatabaseError)


_CORRUPT_CODES = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB
_CORRUPT_WORDS = ("malformed", "not a database", "file is encrypted")


def is_corruption(exc: BaseException) -> bool:
    """Whether a database error means the file is damaged (worth moving aside and rebuilding), as
    opposed to a full disk, a read-only folder or a busy lock, where the file itself is fine."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _CORRUPT_CODES
    return any(words in str(exc).lower() for words in _CORRUPT_WORDS)
