"""Where each root's index lives, and opening it."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from . import sqlite_driver
from .errors import IndexProblem
from .sqlite_store import SQLiteStore, quarantine

ENV_INDEX_DIR = "TOKENLEAN_INDEX_DIR"


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
    """Open (creating if needed) the index of `root`.

    A damaged file is moved aside and replaced by an empty index when `repair` is set, so the next
    update rebuilds it; otherwise the damage is reported.
    """
    path = index_path(root, index_dir)
    try:
        return SQLiteStore(path, root.resolve())
    except sqlite_driver.database_errors() as exc:
        if not repair:
            raise IndexProblem(
                f"the index at {path} is damaged ({exc}): run 'tokenlean index {root} --rebuild'"
            ) from exc
        moved = quarantine(path)
        store = SQLiteStore(path, root.resolve())
        store.set_meta({"repaired_from": str(moved), "repair_reason": str(exc)})
        return store
