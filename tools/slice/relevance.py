"""Scores combined into a ranking: the relevance floor, the document's structure (release notes,
subject words) and the links that lead from a relevant section to others."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .document import Document
from .parse import _RELEASE
from .query import _VERSION, Query, text_terms
from .scorers import DEFAULT_SCORERS, Scorer
from .settings import (
    CHANGELOG_PRIOR,
    ENTRY_TOKENS,
    MAX_ENTRIES,
    MIN_ENTRIES,
    PARTS_TOGETHER,
    RELATED_NAMES_SHARE,
    RELATED_SHARE,
    RELATED_TERMS,
    RELEVANCE_FLOOR,
)


@dataclass
class Ranking:
    """Sections ranked for a query: `relevant` ones (with those they lead to), and a weaker `tail`."""

    relevant: list[tuple[int, float]]  # best first
    tail: list[tuple[int, float]]  # best first: taken only while a slice is a small share of the document


def rank(
    doc: Document, query: Query, scorers: Sequence[tuple[Scorer, float]] = DEFAULT_SCORERS
) -> list[tuple[int, float]]:
    """(section index, combined score) of the relevant sections, best first (see `ranking`)."""
    return ranking(doc, query, scorers).relevant


def ranking(
    doc: Document, query: Query, scorers: Sequence[tuple[Scorer, float]] = DEFAULT_SCORERS
) -> Ranking:
    """The relevant sections and the tail below them.

    Words of the document's title heading name the whole document, not a part of it, so they do
    not rank. Release notes count for less unless the question asks what changed: in a README with
    its changelog appended, they mention every feature but describe none. Sections scoring at
    least RELEVANCE_FLOOR of the best are relevant (the best before release notes are discounted:
    they need that much more evidence); so are the sections they lead to (`_related`).
    """
    if doc.titled:
        query = query.without(set(text_terms(doc.title)))
    query = query.without(doc.subject_terms)
    scoped = any(query.names_release(v) for v in doc.release)
    if scoped:
        # The releases named are ReleaseScorer's: as words they would rank the bare release headings
        # (a version and a link) above what those releases changed.
        query = query.without({t for t in query.weights if _VERSION.fullmatch(t)})
    combined = [0.0] * len(doc.sections)
    lead = [0.0] * len(doc.sections)  # what the scorers other than supporting ones give: the bar
    for scorer, weight in scorers:
        raw = scorer.scores(query, doc)
        top = max(raw, default=0.0)
        if top > 0:
            supporting = getattr(scorer, "supporting", False)
            for i, s in enumerate(raw):
                combined[i] += weight * s / top
                if not supporting:
                    lead[i] += weight * s / top
    # A heading with no text of its own says nothing its children's title paths do not, nor does a
    # table of contents. Including
    # a section that is a large share of the document is most of the way to reading all of it:
    # such a section needs a stronger match.
    size = [
        0.0 if bare or toc else 1 - s.tokens / doc.tokens
        for s, bare, toc in zip(doc.sections, doc.bare, doc.navigation, strict=True)
    ]
    combined = [c * f for c, f in zip(combined, size, strict=True)]
    # When no word matches, meaning alone is what there is to go by.
    best = max((c * f for c, f in zip(lead, size, strict=True)), default=0.0) or max(combined, default=0.0)
    if best <= 0:
        return Ranking([], [])
    prior = _priors(doc, query, scoped)
    combined = [c * f for c, f in zip(combined, prior, strict=True)]
    order = sorted(range(len(combined)), key=lambda i: (-combined[i], i))
    relevant = {i: combined[i] for i in order if combined[i] >= RELEVANCE_FLOOR * best}
    for i, score in _related(doc, query, relevant, prior, RELEVANCE_FLOOR * best).items():
        relevant[i] = max(relevant.get(i, 0.0), score)
    ranked = sorted(relevant.items(), key=lambda r: (-r[1], r[0]))
    rest = [i for i in order if i not in relevant and combined[i] > 0]
    tail = [(i, combined[i]) for i in rest if combined[i] >= RELEVANCE_FLOOR * combined[rest[0]]]
    return Ranking(ranked, tail)


def _priors(doc: Document, query: Query, scoped: bool) -> list[float]:
    """The share of its score each section keeps: CHANGELOG_PRIOR for other releases' notes when
    the question names releases, for all release notes when it does not ask what changed."""
    if scoped:
        return [CHANGELOG_PRIOR if v and not query.names_release(v) else 1.0 for v in doc.release]
    if not query.changes and not all(doc.in_changelog):
        return [CHANGELOG_PRIOR if log else 1.0 for log in doc.in_changelog]
    return [1.0] * len(doc.sections)


def _related(
    doc: Document, query: Query, relevant: dict[int, float], prior: list[float], floor: float
) -> dict[int, float]:
    """Sections the relevant ones lead to, scored at a share of the best section leading there
    (times their own `prior`), if that reaches `floor`.

    A relevant section leads to a section whose title it names (`... use full case-folding`, a
    class name), to one that shares enough of its rare names (a flag or backend it mentions, where
    it is defined), and, when it is one of a few short entries under a bare heading (a list of
    components or options), to the other entries, which rank with it. Two relevant siblings lead
    to the section between them.
    """
    out: dict[int, float] = {}

    def lead(j: int, score: float) -> None:
        if score * prior[j] >= max(floor, relevant.get(j, 0.0)):
            out[j] = max(out.get(j, 0.0), score * prior[j])

    by_parent = doc.children
    intro = doc.index_by_path
    asked = set(query.weights)
    for i, scored in relevant.items():
        score = scored / prior[i]  # what a link carries is the evidence; the target's prior applies
        section = doc.sections[i]
        names = doc.rare_names[i] - asked
        shared = Counter(j for name in names for j in doc.sections_naming[name])
        enough = max(RELATED_TERMS, RELATED_NAMES_SHARE * len(names))
        led = {j for j, n in shared.items() if n >= enough} | doc.names_of[i]
        for j in sorted(led):
            if doc.sections[j].path != section.path:
                lead(j, RELATED_SHARE * score)
        if section.part is not None and PARTS_TOGETHER:  # the other parts of a long section it was split from
            k, n = section.part
            for j in range(i - k + 1, i - k + 1 + n):
                if j != i:
                    lead(j, RELATED_SHARE * score)
        siblings = by_parent.get(section.path[:-1], [])
        parent = intro.get(section.path[:-1])
        if (
            len(section.path) > 1
            and (parent is None or doc.bare[parent])
            and MIN_ENTRIES <= len(siblings) <= MAX_ENTRIES
            and all(doc.sections[j].tokens <= ENTRY_TOKENS for j in siblings)
            and not any(_RELEASE.match(doc.sections[j].title) for j in siblings)  # releases stand apart
        ):
            for j in siblings:  # entries of one list rank together
                lead(j, score)
    # A section between two relevant siblings is on their topic: authors put related sections together.
    for i in range(1, len(doc.sections) - 1):
        a, b = i - 1, i + 1
        same = doc.sections[a].path[:-1] == doc.sections[i].path[:-1] == doc.sections[b].path[:-1]
        if same and a in relevant and b in relevant and doc.sections[i].path != doc.sections[a].path:
            lead(i, RELATED_SHARE * min(relevant[a] / prior[a], relevant[b] / prior[b]))
    return out
