"""Read a query: what identifiers, paths and stack frames it names, and what shape it has."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tokenlean.indexers.errors import TokenleanError
from tokenlean.indexers.languages import EXTENSIONS
from tokenlean.indexers.terms import STOPWORDS, query_terms

MAX_QUERY_CHARS = 20_000

# foo_bar, fooBar, FooBar, foo.bar.baz, Foo::bar, foo() ... anything that reads as code.
_CODE_TOKEN = re.compile(r"[A-Za-z_$][\w$]*(?:(?:\.|::|#|->)[A-Za-z_$][\w$]*)*(?:\(\))?")
_PATHISH = re.compile(
    r"(?:[\w.@~-]+/)+[\w.@-]+|[\w@-]+(?:\.[\w-]+)*\.(?:"
    + "|".join(sorted({e.lstrip(".") for e in EXTENSIONS}, key=len, reverse=True))
    + r")\b"
)
# Python, JS/TS (node), Java, Go, Rust and Ruby stack frames.
_FRAMES = (
    re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>[\w.<>]+))?'),
    re.compile(r"at (?:(?P<func>[\w.$<>]+) )?\(?(?P<path>[^\s():]+\.\w+):(?P<line>\d+)(?::\d+)?\)?"),
    re.compile(r"(?P<path>[\w./-]+\.(?:go|rs|rb|java|kt|scala|c|cc|cpp|h)):(?P<line>\d+)"),
)


class BadQuery(TokenleanError):
    """A query that cannot be searched."""


@dataclass(frozen=True)
class Frame:
    path: str
    line: int
    func: str


@dataclass
class QueryPlan:
    text: str
    terms: list[str]  # lexical index terms, stopwords removed
    identifiers: list[str] = field(default_factory=list)  # names that look like code
    paths: list[str] = field(default_factory=list)  # path fragments named in the query
    frames: list[Frame] = field(default_factory=list)
    shape: str = "natural"  # "identifier", "path" or "natural"


def _is_code_like(token: str) -> bool:
    core = token.removesuffix("()")
    return (
        "_" in core.strip("_")
        or any(sep in core for sep in (".", "::", "#", "->"))
        or token.endswith("()")
        or (any(c.isupper() for c in core[1:]) and any(c.islower() for c in core))
    )


def plan(text: str) -> QueryPlan:
    """Analyse a query. Raises BadQuery for empty or oversized queries."""
    if text is None or not text.strip():
        raise BadQuery("empty query: describe what you are looking for, or name a symbol or file")
    if len(text) > MAX_QUERY_CHARS:
        raise BadQuery(
            f"query is {len(text):,} characters (limit {MAX_QUERY_CHARS:,}): "
            "keep the part that names the problem"
        )
    text = text.strip()
    frames: list[Frame] = []
    for pattern in _FRAMES:
        for m in pattern.finditer(text):
            frames.append(Frame(m.group("path"), int(m.group("line")), m.group("func") or ""))
    paths = list(dict.fromkeys(m.group(0) for m in _PATHISH.finditer(text)))
    paths += [f.path for f in frames if f.path not in paths]
    path_set = set(paths)
    identifiers: list[str] = []
    words = _CODE_TOKEN.findall(text)
    for token in words:
        if token in path_set or any(token in p for p in path_set):
            continue
        if _is_code_like(token) or (len(words) <= 3 and token.lower() not in STOPWORDS and len(token) > 2):
            identifiers.append(token.removesuffix("()"))
    identifiers += [f.func for f in frames if f.func and not f.func.startswith("<")]
    identifiers = list(dict.fromkeys(identifiers))
    single = len(text.split()) == 1
    if single and paths:
        shape = "path"
    elif single or (identifiers and len(text.split()) <= 3):
        shape = "identifier"
    else:
        shape = "natural"
    terms = query_terms(text) or query_terms(text, keep_stopwords=True)
    if not terms:
        raise BadQuery(f"query {text[:80]!r} has no searchable words: use letters or digits")
    return QueryPlan(text, terms, identifiers, paths, frames, shape)
