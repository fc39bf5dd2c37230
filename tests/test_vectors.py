"""The vector strategy with the real fast model (model2vec static MiniLM) and sqlite-vec."""

import os
import time

import pytest
from conftest import on_backend, sqlite_only

from tokenlean.indexers import embeddings, sqlite_driver
from tokenlean.indexers.catalog import open_store
from tokenlean.indexers.indexer import Indexer, IndexOptions
from tokenlean.indexers.vectors import available, update_vectors
from tokenlean.tools.search import search
from tokenlean.tools.workspace import Workspace, WorkspaceOptions

needs_fast = pytest.mark.skipif(
    bool(available("fast")), reason=f"fast vectors unavailable here: {available('fast')}"
)


@pytest.fixture
def index_dir(index_dir, store_backend, request):
    """Every test here runs on both store backends unless marked sqlite_only."""
    return on_backend(store_backend, index_dir, request)


def run(repo, index_dir, vectors="fast"):
    return Indexer(repo, index_dir, IndexOptions(workers=1, vectors=vectors)).run()


@needs_fast
def test_every_chunk_gets_a_vector(repo, index_dir):
    s = run(repo, index_dir)
    assert s.vectors.model == embeddings.FAST_NAME
    assert s.vectors.embedded == s.vectors.total == s.chunks


@needs_fast
def test_vector_strategy_finds_code_by_meaning(repo, index_dir):
    run(repo, index_dir)
    ws = Workspace([repo], WorkspaceOptions(index_dir=index_dir))
    r = search(ws, "check a user's secret phrase against its stored hash", use=["vector"])
    assert "src/app/auth.py" in [h.path for h in r.hits[:3]]
    assert all([s for s, _ in h.why] == ["vector"] for h in r.hits)
    ws.close()


@needs_fast
def test_fused_search_uses_vectors(repo, index_dir):
    run(repo, index_dir)
    ws = Workspace([repo], WorkspaceOptions(index_dir=index_dir))
    r = search(ws, "how are login tokens created for a user")
    assert any(s == "vector" for h in r.hits for s, _ in h.why)
    ws.close()


@needs_fast
def test_a_changed_file_re_embeds_only_chunks_whose_text_changed(repo, index_dir):
    run(repo, index_dir)
    path = repo / "src/app/auth.py"
    path.write_text(path.read_text() + "\n\ndef rotate_keys():\n    return 'rotated'\n")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))
    s = run(repo, index_dir)
    assert s.updated == 1
    assert s.vectors.embedded <= 2  # the new function (and the module chunk around it), not the file


@needs_fast
def test_vectors_off_builds_none_and_search_still_works(repo, index_dir):
    s = run(repo, index_dir, vectors="off")
    assert s.vectors.profile == "off"
    store = open_store(repo, index_dir)
    assert store.vector_model() is None
    store.close()
    ws = Workspace([repo], WorkspaceOptions(index_dir=index_dir))
    assert search(ws, "verify_password").hits
    ws.close()


@needs_fast
def test_a_new_model_replaces_the_vectors(repo, index_dir):
    run(repo, index_dir)
    store = open_store(repo, index_dir)
    store.prepare_vectors("another-model", 8)
    assert store.vector_counts()[0] == 0  # all chunks wait for the new model
    update_vectors(store, "fast")
    assert store.vector_model().startswith(embeddings.FAST_NAME)
    store.close()


@sqlite_only
def test_without_a_loadable_sqlite_vec_auto_skips_with_a_reason(repo, index_dir, monkeypatch):
    monkeypatch.setenv(sqlite_driver.ENV, "stdlib")
    sqlite_driver.driver.cache_clear()
    try:
        if sqlite_driver.driver().vectors:
            pytest.skip("this Python's own sqlite3 loads sqlite-vec")
        s = run(repo, index_dir, vectors="auto")
        assert s.vectors.profile == "off" and s.vectors.skipped
        with pytest.raises(embeddings.EmbeddingsUnavailable, match="cannot build fast vectors"):
            run(repo, index_dir, vectors="fast")
    finally:
        sqlite_driver.driver.cache_clear()


@sqlite_only
@pytest.mark.skipif(bool(available("quality")), reason=f"quality profile unavailable: {available('quality')}")
def test_quality_profile_embeds_with_the_full_transformer(repo, index_dir):
    s = run(repo, index_dir, vectors="quality")
    assert s.vectors.model == embeddings.QUALITY_NAME and s.vectors.embedded == s.chunks
    ws = Workspace([repo], WorkspaceOptions(index_dir=index_dir))
    r = search(ws, "check a user's secret phrase against its stored hash", use=["vector"])
    assert "src/app/auth.py" in [h.path for h in r.hits[:3]]
    ws.close()
