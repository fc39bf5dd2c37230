"""Code-aware terms for the lexical index: identifiers kept whole and split into their words.

`getUserNames` is indexed as `getusernames get user name`, `parse_args` as `parse_args pars arg`:
the whole identifier verbatim (a query can name it exactly), its words stemmed (Snowball English),
so "forking" finds `fork` and "completions" finds `complete`. The same function turns queries into
terms, so both sides always agree.
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

TERMS_VERSION = "2"  # bump when the expansion changes: the lexical index is then rebuilt on open

_WORD = re.compile(r"\w+")
_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
MAX_TERM_CHARS = 64

STOPWORDS = frozenset(
    (
        "a an and are as at be been being but by can could did do does doing for from had has have how i "
        "if in into is it its it's me my no not of on or our should so some such than that the their them "
        "then there these they this those to too up us was we were what when where which while who why "
        "will with would you your yours also any all each every just only own same very via get set use "
        "using used make made new want need needs like see seems seem way still whether about after again "
        "against before between both during further here more most other over under once out off because "
        "until above below through per e g ie eg etc self cls def return none true false null nil"
    ).split()
)


@lru_cache(maxsize=200_000)
def split_identifier(word: str) -> tuple[str, ...]:
    """Lower-cased words of an identifier: `HTTPServer_init2` -> ('http', 'server', 'init', '2')."""
    if not word.isascii():
        return (word.lower(),)  # camelCase rules are ASCII rules; other scripts stay whole
    parts: list[str] = []
    for piece in word.split("_"):
        parts.extend(m.lower() for m in _PART.findall(piece))
    return tuple(parts)


_STEMMER = snowballstemmer.stemmer("english")


@lru_cache(maxsize=500_000)
def stem(word: str) -> str:
    """The Snowball English stem of a lower-case word (non-ASCII words are left as they are)."""
    return _STEMMER.stemWord(word) if word.isascii() and word.isalpha() else word


@lru_cache(maxsize=500_000)
def _expand(word: str) -> tuple[str, ...]:
    lower = word.lower()[:MAX_TERM_CHARS]
    parts = split_identifier(word)
    if len(parts) > 1:
        return (lower, *(stem(p) for p in parts if len(p) > 1))
    return (stem(lower),)


def index_text(text: str) -> str:
    """The text the lexical index stores for `text`: every word, plus identifiers' parts."""
    return " ".join(" ".join(_expand(w)) for w in _WORD.findall(text))


_STOP_TERMS = frozenset(stem(w) for w in STOPWORDS) | STOPWORDS


def query_terms(text: str, keep_stopwords: bool = False) -> list[str]:
    """Distinct terms of a query in order of first appearance, identifiers expanded as when indexed."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text):
        for term in _expand(word):
            if keep_stopwords or (term not in _STOP_TERMS and not term.isdigit()):
                seen.setdefault(term, None)
    return list(seen)
