"""The retrieval benchmark's pieces this benchmark reuses: tasks, snapshots, indexes, file ranking.

`bench/retrieval/run.py` is a script, and this folder has a `run.py` of its own, so it is loaded
under another module name (`retrieval_run`) rather than imported as `run`. Nothing is copied.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

RETRIEVAL = Path(__file__).resolve().parent.parent / "retrieval"
if str(RETRIEVAL) not in sys.path:
    sys.path.insert(1, str(RETRIEVAL))


def _load_retrieval_run():
    name = "retrieval_run"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, RETRIEVAL / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


retrieval_run = _load_retrieval_run()

import benchlib  # noqa: E402  (needs bench/retrieval on sys.path, set above)

FAMILIES = benchlib.FAMILIES
Repo = benchlib.Repo
cache_dir = benchlib.cache_dir
git_dir = benchlib.git_dir
in_family = benchlib.in_family
load_repos = benchlib.load_repos
parse_overrides = benchlib.parse_overrides

FileCache = retrieval_run.FileCache
FileDoc = retrieval_run.FileDoc
Indexes = retrieval_run.Indexes
fingerprints = retrieval_run.fingerprints
grep_keywords = retrieval_run.grep_keywords
load_tasks = retrieval_run._load_tasks
rank_grep_files = retrieval_run.rank_grep_files
rank_bm25_files = retrieval_run.rank_bm25_files

__all__ = [
    "FAMILIES",
    "FileCache",
    "FileDoc",
    "Indexes",
    "Repo",
    "cache_dir",
    "fingerprints",
    "git_dir",
    "grep_keywords",
    "in_family",
    "load_repos",
    "load_tasks",
    "parse_overrides",
    "rank_bm25_files",
    "rank_grep_files",
    "retrieval_run",
]
