"""Relevance signals: BM25, the heading match, the releases a question names, and embeddings
(supporting)."""

from __future__ import annotations

import importlib
import math
import time
from collections import Counter
from typing import Any, Protocol

from .document import Document
from .query import Query
from .settings import QUESTION_WEIGHT


class Scorer(Protocol):
    """A relevance signal: one score per section of `doc`, higher is better, 0 when unrelated.

    Scores are normalised by their maximum before they are combined, so only their ratios matter.
    A scorer with `supporting = True` adds to scores but not to the best score that decides which
    sections are relevant (see `EmbeddingScorer`).
    """

    name: str

    def scores(self, query: Query, doc: Document) -> list[float]: ...


# Release notes list many unrelated changes: scored as a whole, the one entry on a reader's concern
# (a security fix among fifty) is diluted by the others' length. Unless the question asks how to do
# something (release notes hold no procedures), a release-notes section scores at least as its best
# entry would as a section of its own.
ENTRY_SCORING = True


class Bm25Scorer:
    """BM25 (Okapi) over the terms of each section's text and title path, term weights applied;
    release notes score at least as their best entry (ENTRY_SCORING)."""

    name = "bm25"

    def scores(self, query: Query, doc: Document) -> list[float]:
        out = [0.0] * len(doc.sections)
        bm25 = doc.bm25
        if bm25 is None:
            return out
        for term, weight in query.weights.items():
            if term not in bm25.idf:
                continue
            for i, s in enumerate(bm25.get_scores([term])):
                out[i] += weight * float(s)
        if ENTRY_SCORING and not query.procedure:
            for i, entries in enumerate(doc.entry_terms):
                for terms in entries:
                    out[i] = max(out[i], _bm25_of(bm25, terms, query.weights))
        return out


def _bm25_of(bm25: Any, terms: list[str], weights: dict[str, float]) -> float:
    """The BM25 score `terms` would have as one more section of the document (its idf and length)."""
    counts = Counter(terms)
    norm = bm25.k1 * (1 - bm25.b + bm25.b * len(terms) / bm25.avgdl)
    return sum(
        w * bm25.idf[t] * counts[t] * (bm25.k1 + 1) / (counts[t] + norm)
        for t, w in weights.items()
        if t in counts and t in bm25.idf
    )


class HeadingScorer:
    """Query terms in a section's own title (full weight) or its ancestors' titles (half weight).

    Headings are what an author wrote to say what a section is about; a term shared by most
    headings (`What's Changed`) says little, so each is weighted by its inverse heading frequency.
    A title made only of the role's words, its expansions included (`Installation` for a new
    user), is the section (or the part) for that concern: its words count in full. A title that is
    only a question word (`How`) matches a question asking it.
    """

    name = "heading"

    def scores(self, query: Query, doc: Document) -> list[float]:
        n = len(doc.sections)
        df: Counter[str] = Counter()
        for (own, above), asked in zip(doc.title_terms, doc.question_titles, strict=True):
            df.update(own | above | asked)
        out = []
        rows = zip(doc.title_terms, doc.question_titles, doc.path_terms, strict=True)
        for (own, above), asked, titles in rows:
            score = 0.0
            wholly = {t for terms in titles if terms and terms <= query.weights.keys() for t in terms}
            for term, weight in query.weights.items():
                match = 1.0 if term in own else 0.5 if term in above else 0.0
                if match:
                    score += (1.0 if term in wholly else weight) * match * math.log(1 + n / df[term])
            for word in asked & query.asks:
                score += QUESTION_WEIGHT * math.log(1 + n / df[word])
            out.append(score)
        return out


class ReleaseScorer:
    """Release notes of the versions a question names (`2.14`, `1.x`): each of their sections scores 1.

    A version is otherwise one word among many; naming it means "what happened in that release line".
    """

    name = "release"

    def scores(self, query: Query, doc: Document) -> list[float]:
        if not query.scoped:
            return [0.0] * len(doc.sections)
        return [1.0 if query.names_release(v) else 0.0 for v in doc.release]


MIN_EMBEDDING_SECTIONS = 12  # in fewer sections, the closest few in meaning are noise
SIMILARITY_QUANTILE = 0.8  # only the similarity above this quantile of the document's sections counts
# The transformer's similarity is better evidence: more of it counts (docs bench, 385 roles, the
# quality profile: 286 / 288 / 290 / 292 / 290 meeting both targets at 0.8 / 0.7 / 0.6 / 0.5 / 0.3;
# the static model: 277 at both 0.8 and 0.5, saving 63% and 62%).
QUALITY_SIMILARITY_QUANTILE = 0.5


class EmbeddingScorer:
    """How close each section (title path and opening) is in meaning to the role, by an embedding
    model of the vector strategy: the static one of the fast profile (`vectors` extra), or the
    MiniLM transformer of the quality profile, with int8 weights (slower: seconds for a long
    document's first slice on 2 cores; the vectors are kept while the document stays parsed).

    It can find what shares no word with the role (`Why should I use it?` for "strengths and
    limits"), but it is weak evidence: every section of a document is somewhat close to any role
    about it, and on the docs bench it is about as often wrong as right. So only the similarity
    above a quantile of the document's sections counts (SIMILARITY_QUANTILE, or
    QUALITY_SIMILARITY_QUANTILE for the transformer), documents with fewer than
    MIN_EMBEDDING_SECTIONS sections are not scored, and it is `supporting`: it raises sections'
    scores but not the bar they are judged against (the best score of the other signals), so it
    can add a section to a slice but never push out one the words found.
    It uses the first of its profiles whose model loads (the quality profile falls back to the fast
    one); when none does it scores nothing, and `embedding_note(profile)` says why.
    """

    name = "embedding"
    supporting = True

    def __init__(self, *profiles: str, quantile: float = SIMILARITY_QUANTILE) -> None:
        self.profiles = profiles or ("fast",)  # the first whose model loads is used
        self.quantile = quantile

    def scores(self, query: Query, doc: Document) -> list[float]:
        model = next((m for p in self.profiles if (m := _embedder(p)) is not None), None)
        if model is None or len(doc.sections) < MIN_EMBEDDING_SECTIONS:
            return [0.0] * len(doc.sections)
        sims = doc.vectors(model) @ model.embed([query.text])[0]
        floor = float(sorted(sims)[int(len(sims) * self.quantile)])
        return [max(0.0, float(s) - floor) for s in sims]


EMBEDDING_RETRY_SECONDS = 60.0
_embedding_state: dict[str, dict[str, Any]] = {}  # per profile: its model, or why it did not load


def _embedder(profile: str = "fast") -> Any:
    """The profile's embedder, loaded once; None (and the reason in `embedding_note()`) when it
    cannot be.

    A failure is tried again after EMBEDDING_RETRY_SECONDS, so that a running server picks up the
    extra installed after it started (the install command is what the reason says)."""
    state = _embedding_state.setdefault(profile, {})
    failed_at = state.get("failed_at")
    if failed_at is not None and time.monotonic() - failed_at >= EMBEDDING_RETRY_SECONDS:
        importlib.invalidate_caches()  # packages installed since the last try
        state.clear()
    if "model" not in state:
        from tokenlean.indexers import embeddings

        try:
            # int8 weights: twice as fast, and a slice's vectors are never compared with an index's
            state["model"] = embeddings.embedder(profile, int8=True)
        except embeddings.EmbeddingsUnavailable as exc:
            state.update(model=None, why=str(exc), failed_at=time.monotonic())
    return state["model"]


def embedding_note(profile: str = "fast") -> str | None:
    """Why sections are ranked without the profile's embeddings, or None when they are not."""
    return None if _embedder(profile) is not None else _embedding_state[profile].get("why")


DEFAULT_SCORERS: tuple[tuple[Scorer, float], ...] = (
    (Bm25Scorer(), 1.0),
    (HeadingScorer(), 0.6),
    (ReleaseScorer(), 0.6),
    (EmbeddingScorer("fast"), 0.5),
)
# Without the supporting signals (embeddings): a server started with vectors off.
WORD_SCORERS = tuple(s for s in DEFAULT_SCORERS if not getattr(s[0], "supporting", False))
# The quality profile: the transformer in place of the static model (docs bench: more roles meet
# both targets, at seconds for a long document's first slice).
QUALITY_SCORERS = (
    *WORD_SCORERS,
    (EmbeddingScorer("quality", "fast", quantile=QUALITY_SIMILARITY_QUANTILE), 0.5),
)


def scorers_for(vectors: str) -> tuple[tuple[Scorer, float], ...]:
    """The signals a slice ranks by under the `vectors` setting (auto, fast, quality or off)."""
    return {"off": WORD_SCORERS, "quality": QUALITY_SCORERS}.get(vectors, DEFAULT_SCORERS)
