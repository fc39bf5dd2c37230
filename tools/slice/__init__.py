"""Slice a long document down to the sections a role or a question needs, within a token budget.

A document is split by its own structure: Markdown, reStructuredText and AsciiDoc headings,
definitions for source code, groups of paragraphs for plain text. A slice is a short summary of
the whole (title, outline with token sizes, an extractive gist) plus the sections that matter to
the role, ranked by BM25, headings and embeddings, whole where they fit and cut at paragraph
boundaries where they do not. Section ids are positional (`s1`, `s2`, ...): the same text always
gives the same ids, and any section left out can be fetched by its id.

Relevance signals are `Scorer`s combined by weight (BM25, the heading match, the releases a
question names, and embedding similarity as a supporting signal when the `vectors` extra is there).
On top of the scores, `ranking` uses the document's own structure: release notes count for less
unless the question asks what changed, a heading with no text is never a piece, and a relevant
section leads to the sections it names or shares rare names with and to its sibling entries.
Sections scoring at least RELEVANCE_FLOOR of the best are relevant; when those are few and short,
the next best fill the slice up to a small share of the document.

The modules, in the order they build on each other: `settings` (limits and tunables), `query`
(terms, role expansions), `parse` (sections), `document`, `scorers`, `relevance` (the ranking), `summary`,
`pieces` (whole, focused, trimmed), `fill` (each role's pieces within its budget; fetch by id) and
`render` (the text form).
"""

from .document import Document, parse_document
from .errors import BadSlice, EmptyDocument, UnknownSection
from .fill import default_budget, fetch_sections, slice_document
from .parse import Section
from .query import Query, stem, text_terms
from .relevance import Ranking, rank, ranking
from .render import fetch_text, slice_text
from .results import FetchResult, Piece, RoleSlice, SliceResult, Summary
from .scorers import (
    DEFAULT_SCORERS,
    QUALITY_SCORERS,
    WORD_SCORERS,
    Bm25Scorer,
    EmbeddingScorer,
    HeadingScorer,
    ReleaseScorer,
    Scorer,
    embedding_note,
    scorers_for,
)
from .settings import (
    AUTO_MAX_BUDGET,
    AUTO_SHARE,
    DEFAULT_BUDGET,
    DEFAULT_FETCH_BUDGET,
    MAX_BUDGET,
    MAX_DOCUMENT_SHARE,
    MAX_SECTION_TOKENS,
    MIN_BUDGET,
    UNTRUSTED,
)
from .summary import gist, outline, summarise

__all__ = [
    "AUTO_MAX_BUDGET",
    "AUTO_SHARE",
    "DEFAULT_BUDGET",
    "DEFAULT_FETCH_BUDGET",
    "DEFAULT_SCORERS",
    "MAX_BUDGET",
    "MAX_DOCUMENT_SHARE",
    "MAX_SECTION_TOKENS",
    "MIN_BUDGET",
    "QUALITY_SCORERS",
    "UNTRUSTED",
    "WORD_SCORERS",
    "BadSlice",
    "Bm25Scorer",
    "Document",
    "EmbeddingScorer",
    "EmptyDocument",
    "FetchResult",
    "HeadingScorer",
    "Piece",
    "Query",
    "Ranking",
    "ReleaseScorer",
    "RoleSlice",
    "Scorer",
    "Section",
    "SliceResult",
    "Summary",
    "UnknownSection",
    "default_budget",
    "embedding_note",
    "fetch_sections",
    "fetch_text",
    "gist",
    "outline",
    "parse_document",
    "rank",
    "ranking",
    "scorers_for",
    "slice_document",
    "slice_text",
    "stem",
    "summarise",
    "text_terms",
]
