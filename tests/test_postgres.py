"""What only the shared PostgreSQL store promises: schema versions, namespaces per root, serialised
writers, whole updates visible at once, and ranking identical to the SQLite store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import new_database

from tokenlean.indexers.backends import backend
from tokenlean.indexers.catalog import open_store
from tokenlean.indexers.errors import IndexBusy, IndexProblem
from tokenlean.indexers.indexer import Indexer, IndexOptions
from tokenlean.indexers.pg_base import connect, migrate
from tokenlean.indexers.terms import query_terms


def run(root: Path, location: Path | str, **kw):
    return Indexer(root, location, IndexOptions(workers=1, vectors="off")).run(**kw)


def versions(root: Path, n: int, word: str) -> None:
    for i in range(n):
        (root / f"many/m{i}.py").parent.mkdir(parents=True, exist_ok=True)
        (root / f"many/m{i}.py").write_text(f"def {word}_version_{i}():\n    return {i}\n")


def names(store) -> list[str]:
    return [s.name for s in store.symbols_prefix("", 10_000)]  # one statement: one snapshot


@pytest.fixture
def other_db(pg_url: str) -> str:
    """A fresh database on the same server, never migrated."""
    return new_database(pg_url, migrated=False)


def test_unmigrated_database_is_refused_with_the_command_to_run(repo, other_db):
    with pytest.raises(IndexProblem, match=r"no tokenlean schema yet.*tokenlean store migrate --store"):
        run(repo, other_db)
    assert migrate(other_db) and migrate(other_db) == []  # idempotent
    assert run(repo, other_db).files == 6


def test_schema_newer_than_this_tokenlean_is_refused(repo, other_db):
    migrate(other_db)
    db = connect(other_db)
    db.execute("INSERT INTO schema_version(version, name) VALUES (999, 'from the future')")
    db.close()
    with pytest.raises(IndexProblem, match=r"schema version 999, newer than this tokenlean.*upgrade"):
        open_store(repo, other_db)


def test_unreachable_database_is_a_clear_error(repo, tmp_path):
    url = f"postgresql://nobody@/nowhere?host={tmp_path}"
    with pytest.raises(IndexProblem, match=r"cannot connect to the store at .*check the URL"):
        run(repo, url)


def test_password_never_appears_in_locations(repo):
    assert backend("postgresql://ann:s3cret@db.example:5432/ix").location(repo) == (
        "postgresql://ann@db.example:5432/ix"
    )


def test_each_root_is_its_own_namespace(tmp_path, pg_url):
    a, b = tmp_path / "a", tmp_path / "b"
    for root, word in ((a, "alpha"), (b, "beta")):
        versions(root, 3, word)
        run(root, pg_url)
    sa, sb = open_store(a, pg_url), open_store(b, pg_url)
    try:
        assert sorted(names(sa)) == ["alpha_version_0", "alpha_version_1", "alpha_version_2"]
        assert sa.lexical(["beta_version_1"], 5) == [] and sa.symbols_exact(["beta_version_1"], 5) == []
        assert [c.path for c in sb.chunks([i for i, _ in sb.lexical(["beta_version_1"], 5)]).values()] == [
            "many/m1.py"
        ]
        assert (sa.stats().files, sb.stats().files) == (3, 3)
        run(a, pg_url, rebuild=True)
        assert sb.stats().files == 3 and len(names(sb)) == 3  # a rebuild of one root leaves the others
    finally:
        sa.close()
        sb.close()


def test_two_indexers_on_one_root_serialise(repo, pg_url):
    run(repo, pg_url)
    (repo / "src/app/new.py").write_text("def added_later():\n    pass\n")
    done: list[float] = []
    with backend(pg_url).writer(repo):  # a first writer holds the root
        worker = threading.Thread(target=lambda: done.append(run(repo, pg_url, lock_timeout=30).added))
        worker.start()
        time.sleep(0.6)
        assert not done  # the second waits instead of writing beside the first
    worker.join(30)
    assert done == [1]


def test_a_reader_never_sees_a_half_written_update(repo, pg_url, monkeypatch):
    from tokenlean.indexers import indexer

    versions(repo, 60, "old")
    run(repo, pg_url)
    versions(repo, 60, "new")
    monkeypatch.setattr(indexer, "BATCH_FILES", 5)  # many write batches: each must stay invisible
    seen: set[tuple[int, int]] = set()
    stop = threading.Event()

    def read() -> None:
        store = open_store(repo, pg_url)
        while not stop.is_set():
            got = names(store)
            seen.add((sum(n.startswith("old_") for n in got), sum(n.startswith("new_") for n in got)))
        store.close()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        run(repo, pg_url, progress=lambda done, total, current: time.sleep(0.01))
        time.sleep(0.2)
    finally:
        stop.set()
        reader.join(10)
    assert seen == {(60, 0), (0, 60)}  # before, then after; nothing in between


def test_readers_opening_during_an_update_do_not_wait_for_it(repo, pg_url, monkeypatch):
    from tokenlean.indexers import indexer

    versions(repo, 12, "old")
    run(repo, pg_url)
    versions(repo, 12, "new")
    monkeypatch.setattr(indexer, "BATCH_FILES", 2)
    answers: list[list[str]] = []

    def search_meanwhile(done: int, total: int, current: str) -> None:
        if done != 8:  # several batches are written (not committed) by now
            return

        def read() -> None:
            store = open_store(repo, pg_url)  # a new reader: its own connection
            answers.append(sorted(n for n in names(store) if n.endswith("_version_3")))
            store.close()

        reader = threading.Thread(target=read)
        reader.start()
        reader.join(5)
        assert answers, "a reader waited for the writer's transaction"

    run(repo, pg_url, progress=search_meanwhile)
    assert answers == [["old_version_3"]]


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
    Indexer(Path(sys.argv[1]), sys.argv[2], IndexOptions(workers=1, vectors="off")).run(progress=progress)
    """
)


def test_killed_indexer_leaves_the_previous_index_whole_and_the_root_unlocked(repo, pg_url):
    versions(repo, 40, "old")
    run(repo, pg_url)
    versions(repo, 40, "new")
    proc = subprocess.run([sys.executable, "-c", KILLER, str(repo), pg_url], timeout=120)
    assert proc.returncode == -signal.SIGKILL
    store = open_store(repo, pg_url)
    try:
        got = names(store)
        assert sum(n.startswith("old_") for n in got) == 40 and not any(n.startswith("new_") for n in got)
        assert store.stats().files == 46
    finally:
        store.close()
    assert run(repo, pg_url, lock_timeout=0).updated == 40  # the dead writer's lock went with it


def test_both_backends_rank_alike(repo, pg_url, index_dir):
    """BM25 from postings in SQL gives FTS5's scores; symbol and path search give the same hits."""
    out = {}
    for location in (index_dir, pg_url):
        run(repo, location)
        store = open_store(repo, location)
        try:
            rows = []
            for q in ("verify password", "token store issue", "http request handler", "rate limit quota"):
                hits = store.lexical(query_terms(q), 8)
                chunks = store.chunks([c for c, _ in hits])
                rows.append([(chunks[c].path, chunks[c].start_line, round(s, 6)) for c, s in hits])
            rows.append([(s.name, s.path) for s in store.symbols_similar("verfy_pasword", 5)])
            rows.append([(s.name, s.kind) for s in store.symbols_prefix("to", 5)])
            found = store.paths(query_terms("http server"), ["cart"], 5)
            files = store.files([f for f, _ in found])
            rows.append([(files[f].path, round(s, 6)) for f, s in found])
            rows.append(store.document_frequencies(["token", "password", "absent"]))
            rows.append(sorted((e.spec, e.names) for e in store.edges([f for f in files], "in")))
            out[location] = rows
        finally:
            store.close()
    assert out[index_dir] == out[pg_url]
    assert out[pg_url][0] and out[pg_url][0][0][0] == "src/app/auth.py"


def test_vectors_match_the_sqlite_store(repo, pg_url, index_dir):
    from tokenlean.indexers.embeddings import embedder
    from tokenlean.indexers.vectors import available, update_vectors

    if available("fast"):
        pytest.skip(f"no fast embeddings here: {available('fast')}")
    query = embedder("fast").embed(["check a password against its digest"])[0].tobytes()
    out = {}
    for location in (index_dir, pg_url):
        run(repo, location)
        store = open_store(repo, location)
        try:
            summary = update_vectors(store, "fast")
            assert summary.embedded == summary.total > 0
            assert update_vectors(store, "fast").embedded == 0  # nothing left to embed
            hits = store.nearest(query, 5)
            chunks = store.chunks([c for c, _ in hits])
            out[location] = [(chunks[c].path, chunks[c].start_line, round(s, 4)) for c, s in hits]
            assert store.vector_model() == f"{summary.model}:{embedder('fast').dims}"
        finally:
            store.close()
    assert out[index_dir] == out[pg_url]
    assert out[pg_url][0][0] == "src/app/auth.py"


def test_unchanged_chunks_keep_their_vectors_when_a_file_changes(repo, pg_url):
    from tokenlean.indexers.vectors import available, update_vectors

    if available("fast"):
        pytest.skip(f"no fast embeddings here: {available('fast')}")
    run(repo, pg_url)
    store = open_store(repo, pg_url)
    try:
        update_vectors(store, "fast")
        path = repo / "src/app/auth.py"
        path.write_text(path.read_text() + "\n\ndef added():\n    return 1\n")
        run(repo, pg_url)
        left = [text for _, text in store.chunks_to_embed(100)]
        assert len(left) == 1 and "def added" in left[0]  # only the new chunk needs embedding
    finally:
        store.close()


def test_busy_root_is_refused_after_the_timeout(repo, pg_url):
    run(repo, pg_url)
    started = time.monotonic()
    with backend(pg_url).writer(repo), pytest.raises(IndexBusy, match="another tokenlean process"):
        run(repo, pg_url, lock_timeout=0.3)
    assert 0.3 <= time.monotonic() - started < 5


def cli(*args):
    from click.testing import CliRunner

    from tokenlean.server.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_cli_migrates_indexes_searches_and_reports_the_shared_store(repo, other_db):
    r = cli("status", "--root", repo, "--store", other_db)
    assert r.exit_code == 1 and "tokenlean store migrate" in r.stderr
    first = cli("store", "migrate", "--store", other_db)
    assert (
        first.exit_code == 0
        and "applied tokenlean 1:" in first.output
        and "applied tokenlean_ledger 1:" in first.output
    )
    assert "migrated to schema version tokenlean 2, tokenlean_ledger 1" in first.output
    assert "already at schema version" in cli("store", "migrate", "--store", other_db).output
    r = cli("index", repo, "--store", other_db, "-q", "--vectors", "off")
    assert r.exit_code == 0 and "6 files" in r.output and "postgresql://postgres@" in r.output
    r = cli("search", "verify_password", "--root", repo, "--store", other_db, "--format", "json")
    assert json.loads(r.stdout)["hits"][0]["path"] == "src/app/auth.py"
    [entry] = json.loads(cli("status", "--root", repo, "--store", other_db, "--json").output)
    assert (entry["backend"], entry["files"], entry["exists"]) == ("postgresql", 6, True)
    assert ":@" not in entry["index"]  # never a password, not even an empty one


def test_store_comes_from_the_environment_or_the_user_config(repo, pg_url, tmp_path, monkeypatch):
    monkeypatch.setenv("TOKENLEAN_STORE", pg_url)
    assert cli("index", repo, "-q", "--vectors", "off").exit_code == 0
    assert json.loads(cli("status", "--root", repo, "--json").output)[0]["backend"] == "postgresql"
    monkeypatch.delenv("TOKENLEAN_STORE")
    assert json.loads(cli("status", "--root", repo, "--json").output)[0]["backend"] == "sqlite"
    config = tmp_path / "config.toml"
    config.write_text(f"store = {json.dumps(pg_url)}\n")
    monkeypatch.setenv("TOKENLEAN_CONFIG", str(config))
    [entry] = json.loads(cli("status", "--root", repo, "--json").output)
    assert (entry["backend"], entry["files"]) == ("postgresql", 6)
    (repo / ".tokenlean.toml").write_text('store = "postgresql://elsewhere/db"\n')
    assert json.loads(cli("status", "--root", repo, "--json").output)[0]["index"] == pg_url.replace(":@", "@")


def test_store_that_is_not_a_postgresql_url_is_refused(repo):
    r = cli("status", "--root", repo, "--store", "mysql://db/x")
    assert r.exit_code == 1 and "store must be a postgresql:// URL" in r.stderr
    r = cli("store", "migrate")
    assert r.exit_code == 1 and "give --store postgresql://" in r.stderr


@pytest.fixture
def anyio_backend():
    return "asyncio"


def _serve(repo: Path, url: str, port: int) -> subprocess.Popen:
    args = ["serve", "--root", repo, "--store", url, "--transport", "http", "--port", port, "--token", "t0k"]
    args += ["--no-index-on-start"]
    env = {k: v for k, v in os.environ.items() if k != "TOKENLEAN_LEDGER"}  # the team ledger, in the store
    return subprocess.Popen(
        [sys.executable, "-m", "tokenlean", *map(str, args)], stderr=subprocess.PIPE, env=env
    )


@pytest.mark.anyio
async def test_two_http_servers_answer_from_one_shared_store(repo, pg_url):
    import socket

    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    from tokenlean.indexers.pg_ledger_store import PgLedgerStore

    run(repo, pg_url)
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    servers = [_serve(repo, pg_url, port) for port in ports]
    try:
        for proc, port in zip(servers, ports, strict=True):
            deadline = time.monotonic() + 90  # generous: the suite may share 2 cores with much else
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "exited"
                    assert time.monotonic() < deadline, "the server did not start"
                    time.sleep(0.1)
        answers = []
        for port in ports:
            http = httpx2.AsyncClient(headers={"Authorization": "Bearer t0k"}, timeout=30)
            async with (
                http,
                Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http)) as c,
            ):
                result = await c.call_tool("search", {"query": "ShoppingCart addItem", "limit": 3})
            answers.append(result.content[0].text.rsplit("\n", 1)[0])  # the footer names the task
        assert "web/cart.ts" in answers[0] and answers[0] == answers[1], answers
        ledger = PgLedgerStore(pg_url)
        assert [c.tool for c in ledger.calls() if c.root == str(repo)] == ["search", "search"]  # one each
        ledger.close()
    finally:
        for proc in servers:
            proc.terminate()
            proc.wait(timeout=10)


def _cut(store) -> None:
    """End the server side of this thread's connection, as a database restart does."""
    pid = store.db.info.backend_pid
    admin = connect(store.url)
    admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    admin.close()


def test_a_lost_connection_is_replaced_and_reads_carry_on(repo, pg_url):
    run(repo, pg_url)
    store = open_store(repo, pg_url)
    try:
        before = store.lexical(query_terms("verify password"), 5)
        _cut(store)
        assert store.lexical(query_terms("verify password"), 5) == before  # retried on a new connection
    finally:
        store.close()


def test_a_lost_connection_mid_update_is_a_clear_retryable_error_and_loses_nothing(repo, pg_url, monkeypatch):
    from tokenlean.indexers.indexer import Indexer as RealIndexer

    run(repo, pg_url)
    (repo / "src/app/auth.py").write_text("def rotate_credentials():\n    return 'fresh'\n")
    writers: list = []
    real_update = RealIndexer._update

    def update(self, store, progress, only):
        writers.append(store)  # the writer's store, to cut its connection midway
        return real_update(self, store, progress, only)

    monkeypatch.setattr(RealIndexer, "_update", update)
    with pytest.raises(IndexProblem, match=r"is unreachable .*retry in a moment"):
        run(repo, pg_url, progress=lambda done, total, current: _cut(writers[0]) if done == 1 else None)
    monkeypatch.setattr(RealIndexer, "_update", real_update)
    store = open_store(repo, pg_url)
    try:
        assert [s.path for s in store.symbols_exact(["verify_password"], 5)] == ["src/app/auth.py"]
    finally:
        store.close()
    assert run(repo, pg_url).updated == 1  # the next update redoes it


def test_tabs_backslashes_and_newlines_survive_the_bulk_copy(repo, pg_url, index_dir):
    (repo / "docs/odd.md").write_text("# Paths like C:\\Users\\me\\N\n\nBody with \\N,\t\\t and \\.\r\n")
    seen = {}
    for location in (index_dir, pg_url):
        run(repo, location)
        store = open_store(repo, location)
        try:
            [section] = store.symbols_in_file(store.file("docs/odd.md").id)
            [chunk] = store.chunks_of_file(section.file_id)
            seen[location] = (section.name, chunk.text, store.symbols_similar("users\\me", 1)[0].name)
        finally:
            store.close()
    assert seen[pg_url] == seen[index_dir]
    assert "\\Users\\me\\N" in seen[pg_url][0] and "\\N,\t\\t and \\." in seen[pg_url][1]


def test_a_nul_byte_past_the_binary_sniff_is_stored_as_a_replacement_character(repo, pg_url):
    # Files are sniffed for NUL in their first 8 KiB only; PostgreSQL text cannot hold NUL at all.
    (repo / "late_nul.py").write_text("x = 1\n" * 2000 + "def after_the_nul():\n    return '\0'\n")
    assert run(repo, pg_url).files == 7
    store = open_store(repo, pg_url)
    try:
        [symbol] = store.symbols_exact(["after_the_nul"], 5)
        assert "return '\ufffd'" in store.chunks([symbol.chunk_id])[symbol.chunk_id].text
    finally:
        store.close()


def test_team_ledger_reports_across_users_and_repositories(repo, pg_url, monkeypatch):
    from tokenlean.indexers.ledger_store import CallRecord
    from tokenlean.server.config import load_config

    url = new_database(pg_url)
    monkeypatch.delenv("TOKENLEAN_LEDGER")  # a team store keeps the ledger unless a file is named
    monkeypatch.setenv("TOKENLEAN_STORE", url)
    for user, root, tokens in (("ann", "/src/api", 100), ("bob", "/src/api", 40), ("bob", "/src/web", 10)):
        monkeypatch.setenv("TOKENLEAN_USER", user)
        book = load_config(roots=[repo]).open_ledger()  # as each user's server opens it
        book.record(
            CallRecord(time.time(), "t", "s", "", "c", "tool", "search", "d", tokens, 400, 0, 3.0, "", root)
        )
        book.store.close()
    monkeypatch.delenv("TOKENLEAN_STORE")
    by_user = json.loads(cli("ledger", "--store", url, "--by", "user", "--json").output)
    assert [(r["key"], r["calls"], r["tokens"]) for r in by_user] == [("ann", 1, 100), ("bob", 2, 50)]
    by_root = json.loads(cli("ledger", "--store", url, "--by", "root", "--json").output)
    assert [(r["key"], r["tokens"]) for r in by_root] == [("/src/api", 140), ("/src/web", 10)]
    assert "bob" in cli("ledger", "--store", url, "--by", "user").output


def test_vectors_need_no_sqlite_vec_when_the_store_is_postgresql(repo, pg_url, monkeypatch):
    from tokenlean.indexers import sqlite_driver
    from tokenlean.indexers.vectors import available

    if available("fast", sqlite=False):
        pytest.skip(f"no fast embeddings here: {available('fast', sqlite=False)}")
    monkeypatch.setenv(sqlite_driver.ENV, "stdlib")  # a SQLite that may not load sqlite-vec
    sqlite_driver.driver.cache_clear()
    try:
        s = Indexer(repo, pg_url, IndexOptions(workers=1, vectors="auto")).run()
        assert s.vectors.profile == "fast" and s.vectors.embedded == s.chunks
    finally:
        sqlite_driver.driver.cache_clear()


def test_large_roots_search_vectors_through_hnsw_with_the_same_answers(repo, pg_url, monkeypatch):
    from tokenlean.indexers import postgres_store
    from tokenlean.indexers.embeddings import embedder
    from tokenlean.indexers.vectors import available, update_vectors

    if available("fast", sqlite=False):
        pytest.skip(f"no fast embeddings here: {available('fast', sqlite=False)}")
    run(repo, pg_url)
    store = open_store(repo, pg_url)
    try:
        update_vectors(store, "fast")
        query = embedder("fast").embed(["check a password against its digest"])[0].tobytes()
        exact = store.nearest(query, 10)  # a small root: every vector compared
        monkeypatch.setattr(postgres_store, "EXACT_VECTORS", 0)  # as if it were large: the HNSW index
        assert [c for c, _ in store.nearest(query, 10)] == [c for c, _ in exact]
        assert store.nearest(bytes(len(query)), 10) == []  # a zero vector is near nothing
    finally:
        store.close()


def _hnsw_indexes(url: str) -> list[tuple[str, str]]:
    db = connect(url)
    try:
        return db.execute(
            "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'tokenlean' "
            "AND indexname LIKE '%%hnsw%%' ORDER BY 1, 2"
        ).fetchall()
    finally:
        db.close()


def test_a_bulk_load_builds_each_roots_own_hnsw_graph_after_its_vectors(repo, tmp_path, pg_url, monkeypatch):
    from tokenlean.indexers import postgres_store
    from tokenlean.indexers.embeddings import embedder
    from tokenlean.indexers.vectors import available, update_vectors

    if available("fast", sqlite=False):
        pytest.skip(f"no fast embeddings here: {available('fast', sqlite=False)}")
    url = new_database(pg_url)
    monkeypatch.setattr(postgres_store, "BULK_VECTORS", 5)  # the fixture is small: count it as a bulk load
    other = tmp_path / "other"
    (other / "pkg").mkdir(parents=True)
    (other / "pkg/mail.py").write_text("def send_mail(to, body):\n    '''Deliver a message.'''\n")
    stores = {}
    for root in (repo, other):
        run(root, url)
        stores[root] = open_store(root, url)
    try:
        a, b = stores[repo], stores[other]
        dims = embedder("fast").dims
        a.prepare_vectors(embedder("fast").name, dims)
        a.put_vectors(
            [(cid, embedder("fast").embed([text])[0].tobytes()) for cid, text in a.chunks_to_embed(3)]
        )
        assert _hnsw_indexes(url) == []  # an indexer that dies here leaves no graph: searches scan
        update_vectors(a, "fast")  # the next run embeds the rest and builds the graph
        update_vectors(b, "fast")
        assert _hnsw_indexes(url) == [
            (f"chunk_vectors_{s.root_id}", f"chunk_vectors_{s.root_id}_hnsw_{dims}")
            for s in sorted((a, b), key=lambda s: s.root_id)
        ]
        query = embedder("fast").embed(["check a password against its digest"])[0].tobytes()
        exact = a.nearest(query, 10)
        monkeypatch.setattr(postgres_store, "EXACT_VECTORS", 0)  # through the graph now
        assert [c for c, _ in a.nearest(query, 10)] == [c for c, _ in exact]
        assert {h.path for h in a.chunks([c for c, _ in exact]).values()} <= set(a.file_states())
        mail = b.nearest(embedder("fast").embed(["deliver a mail message"])[0].tobytes(), 10)
        assert [h.path for h in b.chunks([c for c, _ in mail]).values()] == ["pkg/mail.py"]
        # A small change adds to the live graph instead of dropping it.
        (other / "pkg/mail.py").write_text(
            "def send_mail(to, body, cc=None):\n    '''Deliver a message.'''\n"
        )
        run(other, url)
        update_vectors(b, "fast")
        assert len(_hnsw_indexes(url)) == 2 and b.vector_counts() == (1, 1)
    finally:
        for s in stores.values():
            s.close()


def test_a_version_1_database_migrates_to_version_2_with_its_answers(repo, other_db):
    """Schema 2 moves vectors into a table per root and changes the postings and trigram keys; an
    index written under schema 1 must answer the same afterwards (rows written here as 1 wrote them)."""
    from tokenlean.indexers.pg_migrations import PG

    db = connect(other_db)
    db.execute("CREATE EXTENSION IF NOT EXISTS vector")
    db.execute("CREATE SCHEMA tokenlean")
    db.execute("SET search_path TO tokenlean, public")
    db.execute(
        "CREATE TABLE schema_version (version int PRIMARY KEY, name text NOT NULL, applied timestamptz)"
    )
    number, name, first = next(PG.after(0))
    first(db)
    db.execute("INSERT INTO schema_version(version, name) VALUES (%s, %s)", (number, name))
    rid = db.execute(
        "INSERT INTO roots(path, chunks, chunk_terms, files, path_terms, symbols, symbol_grams) "
        "VALUES (%s, 2, 6, 1, 2, 2, 12) RETURNING id",
        (str(repo),),
    ).fetchone()[0]
    fid = db.execute(
        "INSERT INTO files(root_id, path, language, size, mtime_ns, hash, lines, tokens, parsed, indexed_at, "
        "path_len) VALUES (%s, 'src/codec.py', 'python', 10, 1, 'h', 4, 20, true, 1, 2) RETURNING id",
        (rid,),
    ).fetchone()[0]
    chunks = []
    for line, sym in ((1, "decode_frame"), (3, "encode_frame")):
        chunks.append(db.execute(
            "INSERT INTO chunks(root_id, file_id, start_line, end_line, kind, symbol, parent, signature, "
            "text, vec_hash, embedded, doc_len) "
            "VALUES (%s, %s, %s, %s, 'function', %s, '', '', %s, 'v', true, 3) RETURNING id",
            (rid, fid, line, line + 1, sym, f"def {sym}(): pass"),
        ).fetchone()[0])  # fmt: skip
        sid = db.execute(
            "INSERT INTO symbols(root_id, file_id, chunk_id, name, lname, kind, parent, signature, "
            "start_line, end_line) VALUES (%s, %s, %s, %s, %s, 'function', '', '', %s, %s) RETURNING id",
            (rid, fid, chunks[-1], sym, sym, line, line + 1),
        ).fetchone()[0]
        for gram in {sym[i : i + 3] for i in range(len(sym) - 2)}:
            db.execute("INSERT INTO symbol_grams VALUES (%s, %s, %s, 1)", (rid, gram, sid))
    term = db.execute("INSERT INTO terms(root_id, term, df) VALUES (%s, 'decod', 1) RETURNING id", (rid,))
    db.execute("INSERT INTO postings VALUES (%s, %s, %s, 2, 3)", (term.fetchone()[0], chunks[0], rid))
    for cid, vec in zip(chunks, ("[1,0,0]", "[0,1,0]"), strict=True):
        db.execute("INSERT INTO chunk_vectors VALUES (%s, %s, %s)", (cid, rid, vec))
    db.close()

    assert [v for _, v, _ in migrate(other_db)][:1] == [2]
    store = open_store(repo, other_db)
    try:
        assert [c for c, _ in store.lexical(["decod"], 5)] == [chunks[0]]
        assert store.symbols_similar("decodeframe", 5)[0].name == "decode_frame"
        near = store.nearest(np.array([0.1, 1, 0], dtype=np.float32).tobytes(), 2)
        assert [c for c, _ in near] == [chunks[1], chunks[0]]
    finally:
        store.close()
    assert _hnsw_indexes(other_db) == [(f"chunk_vectors_{rid}", f"chunk_vectors_{rid}_hnsw_3")]


def test_a_large_update_leaves_its_tables_analyzed_and_all_visible(repo, pg_url, monkeypatch):
    from tokenlean.indexers import postgres_store

    url = new_database(pg_url)
    monkeypatch.setattr(postgres_store, "VACUUM_AFTER", 1)  # the fixture's few chunks count as large
    run(repo, url)
    db = connect(url)
    try:
        stats = dict(
            db.execute(
                "SELECT relname, last_vacuum IS NOT NULL AND last_analyze IS NOT NULL "
                "FROM pg_stat_user_tables "
                "WHERE schemaname = 'tokenlean' AND relname IN ('postings', 'symbol_grams')"
            ).fetchall()
        )
        assert stats == {"postings": True, "symbol_grams": True}
        plan = "\n".join(
            r[0]
            for r in db.execute(
                "EXPLAIN SELECT chunk_id, freq, doc_len FROM postings WHERE term_id = "
                "(SELECT min(term_id) FROM postings)"
            )
        )
        assert "Index Only Scan" in plan  # BM25's reads come from the covering key
    finally:
        db.close()
