"""Where each root's index lives, and opening it."""

from __future__ import annotations

import errno
import hashlib
import os
import re
from pathlib import Path

from . import sqlite_driver
from .errors import IndexProblem
from .pg_base import is_store_url
from .sqlite_store import SQLiteStore, quarantine

ENV_INDEX_DIR = "TOKENLEAN_INDEX_DIR"
ENV_STORE = "TOKENLEAN_STORE"  # a postgresql:// URL: the shared store instead of SQLite files


def index_home(index_dir: Path | str | None = None) -> Path:
    """Directory holding all indexes: the argument, else $TOKENLEAN_INDEX_DIR, else the user cache."""
    if index_dir:
        return Path(index_dir).expanduser()
    if os.environ.get(ENV_INDEX_DIR):
        return Path(os.environ[ENV_INDEX_DIR]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("tokenlean")) / "indexes"


def index_path(root: Path, index_dir: Path | str | None = None) -> Path:
    """The index file of `root`: keyed by the root's resolved path, named after its folder."""
    resolved = root.resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", resolved.name or "root")[:40]
    return index_home(index_dir) / f"{slug}-{digest}" / "index.db"


def open_store(root: Path, index_dir: Path | str | None = None, *, repair: bool = True) -> SQLiteStore:
    """Open (creating if needed) the index of `root`. `index_dir` may also be a postgresql:// URL
    (and without it, $TOKENLEAN_STORE may name one): that root's namespace in the shared store.

    A damaged file is moved aside and replaced by an empty index when `repair` is set, so the next
    update rebuilds it; otherwise the damage is reported.
    """
    if is_store_url(index_dir) or (index_dir is None and os.environ.get(ENV_STORE)):
        from .backends import backend

        return backend(index_dir).open(root)  # type: ignore[return-value]  # the same Store interface
    path = index_path(root, index_dir)
    try:
        return SQLiteStore(path, root.resolve())
    except OSError as exc:
        raise write_problem(exc, root, path.parent) from exc
    except sqlite_driver.database_errors() as exc:
        if not sqlite_driver.is_corruption(exc):
            # A full disk or an unwritable folder: the file is fine, keep it.
            raise write_problem(exc, root, path.parent) from exc
        if not repair:
            raise IndexProblem(
                f"the index at {path} is damaged ({exc}): run 'tokenlean index {root} --rebuild'"
            ) from exc
        moved = quarantine(path)
        store = SQLiteStore(path, root.resolve())
        store.set_meta({"repaired_from": str(moved), "repair_reason": str(exc)})
        return store


def write_problem(exc: BaseException, root: Path, where: Path) -> IndexProblem:
    """An index that cannot be written, said as what to do; the previous index is untouched
    (every update is one transaction, rolled back on failure)."""
    detail = getattr(exc, "strerror", None) or str(exc)
    name = getattr(exc, "filename", None)
    named = Path(name).absolute() if isinstance(name, str) else None
    if named and not (named.is_relative_to(where.absolute()) or where.absolute().is_relative_to(named)):
        # Not the index's own file or folder: a file of the repository could not be read.
        return IndexProblem(f"could not index {root}: {detail}: {name}")
    number = getattr(exc, "errno", None)
    full = number in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) or any(
        words in str(exc).lower() for words in ("disk is full", "disk i/o error", "database is full")
    )
    if full:
        return IndexProblem(
            f"could not write the index of {root} at {where}: the disk is full or failing, or "
            f"the file cannot grow ({detail}). Free some space, or point TOKENLEAN_INDEX_DIR (or "
            "--index-dir, or index_dir in the config) at a folder on another disk; the previous index "
            "is unchanged"
        )
    if isinstance(exc, OSError) or "readonly" in str(exc).lower() or "unable to open" in str(exc):
        return IndexProblem(
            f"cannot write the index of {root} at {where}: {detail}. Point TOKENLEAN_INDEX_DIR "
            "(or --index-dir, or index_dir in the config) at a writable folder"
        )
    return IndexProblem(
        f"the index of {root} at {where} could not be updated ({detail}); the previous index is "
        "unchanged. Retry; if it persists, `tokenlean index --rebuild` starts it afresh"
    )
