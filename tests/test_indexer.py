import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import on_backend, sqlite_only

from tokenlean.indexers.backends import backend
from tokenlean.indexers.catalog import index_path, open_store
from tokenlean.indexers.errors import IndexBusy, IndexProblem
from tokenlean.indexers.indexer import Indexer, IndexOptions
from tokenlean.indexers.terms import query_terms


@pytest.fixture
def index_dir(index_dir, store_backend, request):
    """Every test here runs on both store backends unless marked sqlite_only."""
    return on_backend(store_backend, index_dir, request)


def run(root, index_dir, **kw):
    return Indexer(root, index_dir, IndexOptions(workers=1)).run(**kw)


def lexical_paths(root, index_dir, words, exact=False):
    store = open_store(root, index_dir)
    try:
        terms = [words.lower()] if exact else query_terms(words)
        ids = [cid for cid, _ in store.lexical(terms, 50)]
        return sorted({c.path for c in store.chunks(ids).values()})
    finally:
        store.close()


def test_first_run_indexes_files_chunks_and_symbols(repo, index_dir):
    s = run(repo, index_dir)
    assert s.added == s.files == 6  # ignored, secret and vendored files are left out
    assert s.languages == {"python": 2, "typescript": 1, "go": 1, "markdown": 1, "text": 1}
    assert s.chunks > 10 and s.symbols > 10
    assert s.skipped["secret"] == 1
    assert backend(index_dir).exists(repo)


def test_second_run_over_unchanged_repo_does_nothing(repo, index_dir):
    run(repo, index_dir)
    s = run(repo, index_dir)
    assert (s.added, s.updated, s.removed, s.touched) == (0, 0, 0, 0)
    assert s.unchanged == s.files == 6


def test_touched_file_with_same_content_is_not_rechunked(repo, index_dir):
    run(repo, index_dir)
    path = repo / "src/app/auth.py"
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10_000_000_000))
    s = run(repo, index_dir)
    assert (s.touched, s.updated) == (1, 0)
    assert run(repo, index_dir).touched == 0  # the new mtime was recorded


def test_edited_file_replaces_its_old_content_in_every_index(repo, index_dir):
    run(repo, index_dir)
    (repo / "src/app/auth.py").write_text("def rotate_credentials():\n    return 'fresh'\n")
    s = run(repo, index_dir)
    assert s.updated == 1
    assert lexical_paths(repo, index_dir, "rotate credentials") == ["src/app/auth.py"]
    assert lexical_paths(repo, index_dir, "verify_password") == []
    store = open_store(repo, index_dir)
    assert [r.name for r in store.symbols_exact(["verify_password"], 5)] == []
    assert store.symbols_similar("rotate_credential", 5)[0].name == "rotate_credentials"
    store.close()


def test_deleted_and_new_files_are_reflected(repo, index_dir):
    run(repo, index_dir)
    (repo / "web/cart.ts").unlink()
    (repo / "src/app/billing.py").write_text("def charge_invoice():\n    pass\n")
    s = run(repo, index_dir)
    assert (s.added, s.removed) == (1, 1)
    assert lexical_paths(repo, index_dir, "ShoppingCart") == []
    assert lexical_paths(repo, index_dir, "charge invoice") == ["src/app/billing.py"]


def test_file_that_became_ignored_leaves_the_index(repo, index_dir):
    run(repo, index_dir)
    (repo / ".gitignore").write_text("generated/\n*.log\nweb/\n")
    assert run(repo, index_dir).removed == 1


def test_non_utf8_file_is_indexed_with_a_warning(repo, index_dir):
    (repo / "legacy.py").write_bytes("def caf\xe9():\n    return 'latin-1'\n".encode("latin-1"))
    s = run(repo, index_dir)
    assert any("legacy.py" in w and "UTF-8" in w for w in s.warnings)
    assert lexical_paths(repo, index_dir, "latin") == ["legacy.py"]


def test_binary_and_minified_content_is_skipped(repo, index_dir):
    (repo / "blob.dat").write_bytes(b"abc\x00def" * 10)
    (repo / "bundle.js").write_text("var a=1;" * 2000)
    s = run(repo, index_dir)
    assert s.skipped["binary"] == 1 and s.skipped["minified"] == 1


def test_unreadable_file_is_skipped_not_fatal(repo, index_dir, monkeypatch):
    p = repo / "locked.py"
    p.write_text("x = 1\n")
    p.chmod(0)
    if os.geteuid() == 0:  # root reads anything: inject the permission error the OS would give
        real = Path.read_bytes

        def read_bytes(self):
            if self.name == "locked.py":
                raise PermissionError(13, "Permission denied")
            return real(self)

        monkeypatch.setattr(Path, "read_bytes", read_bytes)
    s = run(repo, index_dir)
    assert s.skipped["unreadable"] == 1
    assert s.files == 6


def test_missing_root_is_a_clear_error(tmp_path, index_dir):
    with pytest.raises(IndexProblem, match="does not exist"):
        Indexer(tmp_path / "nope", index_dir)


def test_second_indexer_on_the_same_root_is_refused(repo, index_dir):
    ix = Indexer(repo, index_dir)
    with backend(index_dir).writer(repo), pytest.raises(IndexBusy, match="another tokenlean process"):
        ix.run()


def test_interrupt_midway_keeps_the_previous_index_usable(repo, index_dir):
    run(repo, index_dir)
    for path in repo.rglob("*.py"):
        path.write_text(path.read_text() + "\n# edited\n")

    def interrupt(done, total, current):
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(repo, index_dir, progress=interrupt)
    assert lexical_paths(repo, index_dir, "verify_password") == ["src/app/auth.py"]
    s = run(repo, index_dir)
    assert s.updated >= 1 and s.files == 6


@sqlite_only
def test_damaged_index_is_moved_aside_and_rebuilt(repo, index_dir):
    run(repo, index_dir)
    db = index_path(repo, index_dir)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(f"{db}{suffix}"):
            os.remove(f"{db}{suffix}")
    db.write_bytes(b"this is not a database" * 100)
    s = run(repo, index_dir)
    assert s.added == 6
    assert any("damaged" in w for w in s.warnings)
    assert list(db.parent.glob("index.db.damaged-*"))


@sqlite_only
def test_index_from_a_newer_version_is_refused_with_advice(repo, index_dir):
    run(repo, index_dir)
    con = sqlite3.connect(index_path(repo, index_dir))
    con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(IndexProblem, match="newer than this tokenlean"):
        open_store(repo, index_dir)


def test_rebuild_discards_the_old_index(repo, index_dir):
    run(repo, index_dir)
    assert run(repo, index_dir, rebuild=True).added == 6


@sqlite_only
def test_parallel_workers_give_the_same_index_as_one(repo, index_dir, tmp_path):
    for i in range(80):  # above the threshold where worker processes are used
        (repo / f"gen/mod_{i}.py").parent.mkdir(exist_ok=True)
        (repo / f"gen/mod_{i}.py").write_text(f"def function_{i}(x):\n    return x + {i}\n")
    one = Indexer(repo, tmp_path / "one", IndexOptions(workers=1)).run()
    two = Indexer(repo, tmp_path / "two", IndexOptions(workers=2)).run()
    assert (one.files, one.chunks, one.symbols) == (two.files, two.chunks, two.symbols)


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from tokenlean.indexers import indexer
    from tokenlean.indexers.indexer import Indexer, IndexOptions
    indexer.BATCH_FILES = 10
    def progress(done, total, current):
        if done == 25:
            os.kill(os.getpid(), signal.SIGKILL)
    Indexer(Path(sys.argv[1]), sys.argv[2], IndexOptions(workers=1)).run(progress=progress)
    """
)


def test_killed_indexer_leaves_each_file_old_or_new_never_half(repo, index_dir):
    for i in range(40):
        (repo / f"many/m{i}.py").parent.mkdir(exist_ok=True)
        (repo / f"many/m{i}.py").write_text(f"def old_version_{i}():\n    return {i}\n")
    run(repo, index_dir)
    for i in range(40):
        (repo / f"many/m{i}.py").write_text(f"def new_version_{i}():\n    return {i}\n")
    proc = subprocess.run([sys.executable, "-c", KILLER, str(repo), str(index_dir)], timeout=120)
    assert proc.returncode == -signal.SIGKILL
    store = open_store(repo, index_dir)
    if isinstance(index_dir, Path):
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for i in range(40):
        old = store.symbols_exact([f"old_version_{i}"], 1)
        new = store.symbols_exact([f"new_version_{i}"], 1)
        assert len(old) + len(new) == 1, i  # exactly one version of every file
    store.close()
    s = run(repo, index_dir)
    assert s.updated > 0
    assert lexical_paths(repo, index_dir, "old_version_3", exact=True) == []
    assert lexical_paths(repo, index_dir, "new_version_3", exact=True) == ["many/m3.py"]
