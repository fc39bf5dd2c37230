"""A parsed document, with what the scorers need computed once and cached."""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import cached_property, lru_cache
from typing import Any

from tokenlean.indexers import tokens
from tokenlean.indexers.chunks import split_lines
from tokenlean.indexers.terms import STOPWORDS, split_identifier

from .errors import BadSlice, EmptyDocument
from .parse import _ADORNMENT, _CHANGELOG, _NAME, _RELEASE, Section, _format_of, _names, _sections, _units
from .query import _QUESTION_WORDS, text_terms
from .settings import (
    COMMON_TITLE_SHARE,
    EMBED_WORDS,
    MAX_DOCUMENT_CHARS,
    RARE_SECTIONS,
    SUBJECT_MIN_SECTIONS,
    SUBJECT_SHARE,
)

# A link to an anchor of the same document, in Markdown or HTML.
_ANCHOR_LINK = re.compile(r"\]\(#[^)]*\)|href=[\"']#")
_CONTENTS_DIRECTIVE = re.compile(r"\s*\.\.\s+contents::")


class Document:
    """A document split into sections, with what the scorers need computed once."""

    def __init__(self, text: str, name: str) -> None:
        self.name = name
        self.text = text
        self.lines = split_lines(text)
        self.format = _format_of(name, self.lines)
        self.sections, opening, front_title = _sections(self.lines, text, self.format)
        self.titled = opening == "root"  # one heading over the whole document: its title
        self.title = front_title or (
            self.sections[0].title if opening in ("root", "preamble") else (name or self.sections[0].title)
        )
        self.tokens = tokens.count(text)
        self.summaries: dict[tuple[int, int], tuple[str, list[str]]] = {}
        self._vectors: dict[str, Any] = {}

    @cached_property
    def body_terms(self) -> list[list[str]]:
        return [text_terms(s.text) for s in self.sections]

    @cached_property
    def title_terms(self) -> list[tuple[frozenset[str], frozenset[str]]]:
        """(own title, ancestors' titles) terms per section."""
        return [
            (frozenset(text_terms(s.path[-1])), frozenset(text_terms(" ".join(s.path[:-1]))))
            for s in self.sections
        ]

    @cached_property
    def common_title_terms(self) -> frozenset[str]:
        """Terms in the own titles of at least COMMON_TITLE_SHARE of the sections (`version` in
        `Version 2.0.0` of every release): a title holding one says nothing of what it is about."""
        if len(self.sections) < SUBJECT_MIN_SECTIONS:
            return frozenset()
        df = Counter(t for own, _ in self.title_terms for t in own)
        return frozenset(t for t, k in df.items() if k >= COMMON_TITLE_SHARE * len(self.sections))

    @cached_property
    def path_terms(self) -> list[tuple[frozenset[str], ...]]:
        """The terms of each title on each section's path, top first."""
        return [tuple(frozenset(text_terms(t)) for t in s.path) for s in self.sections]

    @cached_property
    def bare(self) -> list[bool]:
        """Whether each section is only its heading: no text of its own."""
        out = []
        for s in self.sections:
            lines = s.text.split("\n")
            if s.part is None or s.part[0] == 1:
                lines = lines[1:]  # the heading line
            out.append(not any(re.search(r"\w", line) and not _ADORNMENT.match(line) for line in lines))
        return out

    @cached_property
    def navigation(self) -> list[bool]:
        """Whether each section is a table of contents: its own lines are mostly links to anchors
        of the document (`- [Routing](#routing)`, `<a href="#routing">`, reST's `.. contents::`).
        It names every topic and describes none; the outline is the agent's table of contents."""
        out = []
        for s, bare in zip(self.sections, self.bare, strict=True):
            lines = [ln for ln in s.text.split("\n")[1:] if ln.strip() and not _ADORNMENT.match(ln)]
            links = sum(1 for ln in lines if _ANCHOR_LINK.search(ln))
            directive = any(_CONTENTS_DIRECTIVE.match(ln) for ln in lines)
            listing = links >= 3 and links >= 0.7 * len(lines)
            out.append(not bare and ((directive and len(lines) <= 3) or listing))
        return out

    @cached_property
    def in_changelog(self) -> list[bool]:
        """Whether each section is release notes: under a changelog heading or a version heading."""
        return [any(_CHANGELOG.search(t) for t in s.path) for s in self.sections]

    @cached_property
    def release(self) -> list[str | None]:
        """The version of the release each section belongs to (`2.14.0`), from its title path."""
        out: list[str | None] = []
        for s in self.sections:
            found = None
            for title in reversed(s.path):
                if m := _RELEASE.match(title):
                    found = m.group(1)
                    break
            out.append(found)
        return out

    @cached_property
    def question_titles(self) -> list[frozenset[str]]:
        """The question words of titles that have no other words (`How`, `Why?`)."""
        out = []
        for s in self.sections:
            words = set(re.findall(r"[a-z]+", s.path[-1].lower()))
            bare = words and not text_terms(s.path[-1]) and words & _QUESTION_WORDS
            out.append(frozenset(words & _QUESTION_WORDS) if bare else frozenset())
        return out

    @cached_property
    def rare_names(self) -> list[frozenset[str]]:
        """Each section's names (identifiers, code and link text: `BESTMATCH`, `hyperscan`_) that
        at most RARE_SECTIONS sections use: what two sections sharing them both speak of. Words
        under five letters (`http`, `head`) are left out: too often common words."""
        df: Counter[str] = Counter()
        for terms in self.body_terms:
            df.update(set(terms))
        out = []
        for s in self.sections:
            names = {name for m in _NAME.finditer(s.text) for name in _names(m.group(0))}
            out.append(frozenset(t for t in names if df[t] <= RARE_SECTIONS))
        return out

    @cached_property
    def sections_naming(self) -> dict[str, list[int]]:
        """The sections each rare name occurs in."""
        out: dict[str, list[int]] = {}
        for j, names in enumerate(self.rare_names):
            for name in names:
                out.setdefault(name, []).append(j)
        return out

    @cached_property
    def children(self) -> dict[tuple[str, ...], list[int]]:
        """Sections by the title path of their parent."""
        out: dict[tuple[str, ...], list[int]] = {}
        for j, s in enumerate(self.sections):
            out.setdefault(s.path[:-1], []).append(j)
        return out

    @cached_property
    def names_of(self) -> list[frozenset[int]]:
        """For each section, the sections whose title it names, when at most RARE_SECTIONS do:
        a title named everywhere (the project's main class) refers to no section in particular."""
        texts = [" ".join(re.sub(r"[*_`]+", "", s.text.lower()).split()) for s in self.sections]
        found: list[set[int]] = [set() for _ in self.sections]
        for j, title in enumerate(self._specific_titles()):
            if not title:
                continue
            pattern = re.compile(rf"(?<!\w){re.escape(title)}(?!\w)")
            naming = [i for i, text in enumerate(texts) if i != j and title in text and pattern.search(text)]
            if len(naming) <= RARE_SECTIONS:
                for i in naming:
                    found[i].add(j)
        return [frozenset(f) for f in found]

    def _specific_titles(self) -> list[str]:
        """Titles specific enough that naming one refers to that section: three words or more (two,
        `Error Recovery`, often occur in passing), or a compound identifier; a trailing `(issue 12)`
        left out. Empty for the others."""
        out = []
        for s in self.sections:
            title = re.sub(r"\s*\([^)]*\)\s*$", "", s.path[-1])
            title = " ".join(re.sub(r"[*_`]+", "", title.lower()).split())
            words = re.findall(r"\w+", title)
            compound = len(words) == 1 and len(split_identifier(s.path[-1].split()[0])) > 1
            specific = len([w for w in words if w not in STOPWORDS]) >= 3 or compound
            out.append(title if specific and len(title) >= 8 and (s.part is None or s.part[0] == 1) else "")
        return out

    @property
    def subject_terms(self) -> set[str]:
        """Terms in at least SUBJECT_SHARE of the sections other than release notes (text or title
        path): what the whole document is about (`pytorch` in PyTorch's README), which says nothing
        of where to look. Release notes are left out: `released` in every release's heading is not
        what the document is about."""
        shares, n = self._term_shares
        if n < SUBJECT_MIN_SECTIONS:
            return set()
        return {t for t, share in shares.items() if share >= SUBJECT_SHARE}

    @cached_property
    def _term_shares(self) -> tuple[dict[str, float], int]:
        """The share of the sections other than release notes each term occurs in, and their number."""
        df: Counter[str] = Counter()
        rows = zip(self.body_terms, self.title_terms, self.in_changelog, strict=True)
        about = [set(body) | own | above for body, (own, above), log in rows if not log]
        for terms in about:
            df.update(terms)
        return {t: k / len(about) for t, k in df.items()}, len(about)

    @cached_property
    def entry_terms(self) -> list[list[list[str]]]:
        """The terms of each entry (list item, table row, paragraph) of each release-notes section;
        empty for other sections."""
        out: list[list[list[str]]] = []
        for s, log in zip(self.sections, self.in_changelog, strict=True):
            if not log:
                out.append([])
                continue
            lines = s.text.split("\n")
            units = ["\n".join(lines[a : b + 1]) for a, b, _ in _units(lines, self.format)]
            out.append([terms for terms in map(text_terms, units) if terms])
        return out

    @cached_property
    def bm25(self) -> Any:
        """BM25Okapi over body and title-path terms; None when the document has no terms at all."""
        from rank_bm25 import BM25Okapi

        class Okapi(BM25Okapi):
            # Lucene's idf, log(1 + (N - df + 0.5) / (df + 0.5)), stays positive: a term found in most
            # sections still counts a little. BM25Okapi's own floor is a share of the average idf,
            # which turns negative when most terms are common, and then every match counts against.
            def _calc_idf(self, nd: dict[str, int]) -> None:
                for word, freq in nd.items():
                    self.idf[word] = math.log(1 + (self.corpus_size - freq + 0.5) / (freq + 0.5))

        corpus = [
            body + list(own | above)
            for body, (own, above) in zip(self.body_terms, self.title_terms, strict=True)
        ]
        return Okapi(corpus) if any(corpus) else None

    def vectors(self, model: Any) -> Any:
        """Each section's embedding (title path, then the opening EMBED_WORDS words of its text)
        under `model`, computed once per model: a section's title and opening say what it is about,
        and embedding less of it is faster (the transformer's cost grows with the text)."""
        found = self._vectors.get(model.name)
        if found is None:
            found = model.embed(
                [f"{s.title_path}\n" + " ".join(s.text.split()[:EMBED_WORDS]) for s in self.sections]
            )
            self._vectors[model.name] = found
        return found

    def by_id(self) -> dict[str, Section]:
        return {s.id: s for s in self.sections}

    def by_path(self) -> dict[tuple[str, ...], Section]:
        """The first section (part) with each title path."""
        return {path: self.sections[i] for path, i in self.index_by_path.items()}

    @cached_property
    def index_by_path(self) -> dict[tuple[str, ...], int]:
        """The index of the first section (part) with each title path."""
        out: dict[tuple[str, ...], int] = {}
        for i, s in enumerate(self.sections):
            out.setdefault(s.path, i)
        return out


@lru_cache(maxsize=8)
def parse_document(text: str, name: str) -> Document:
    """The sections of `text`; `name` (a file name or path) picks the format by its extension."""
    if not text.strip():
        raise EmptyDocument(f"{name or 'the document'} is empty: there is nothing to slice")
    if len(text) > MAX_DOCUMENT_CHARS:
        raise BadSlice(
            f"{name or 'the document'} has {len(text):,} characters; the limit is {MAX_DOCUMENT_CHARS:,}: "
            "split it first"
        )
    return Document(text, name)
