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
# Text the author marked as code (Markdown backticks), and the names in it: `no-unused-vars`, `--stepwise`.
_BACKTICKED = re.compile(r"`([^`\n]+)`")
_NAME = re.compile(r"[A-Za-z_$][\w$-]*[\w$]")
MAX_NAMES = 12
# Addresses and data in a text: a URL's host, query string and fragment (a playground link carries
# the whole example as base64, whose fragments matched binary files first), and long runs of letters
# and digits (hashes, keys). Its words come from the URL's path only.
_URL = re.compile(r"\bhttps?://[^\s<>()\[\]`'\"]+")
_OPAQUE = re.compile(r"\b(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{24,}\b")
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
    names: list[str] = field(default_factory=list)  # lower-case words that may be a file's name (stem)
    title_terms: list[str] = field(default_factory=list)  # terms of the first line of a multi-line text


def _words(text: str) -> str:
    """The text a query's terms come from: URLs reduced to the words of their path, opaque runs gone."""

    def path(m: re.Match) -> str:
        address = re.split(r"[?#]", m.group(0).split("://", 1)[1], maxsplit=1)[0]
        return " " + address.partition("/")[2].replace("/", " ") + " "

    return _OPAQUE.sub(" ", _URL.sub(path, text))


def is_code_like(token: str) -> bool:
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
    seen: set[tuple[str, int]] = set()
    # The Go/Rust pattern has no function group; a location two patterns match counts once.
    for pattern in _FRAMES:
        for m in pattern.finditer(text):
            frame = Frame(m.group("path"), int(m.group("line")), m.groupdict().get("func") or "")
            if (frame.path, frame.line) not in seen:
                seen.add((frame.path, frame.line))
                frames.append(frame)
    words_text = _words(text)
    paths = list(dict.fromkeys(m.group(0) for m in _PATHISH.finditer(words_text)))
    paths += [f.path for f in frames if f.path not in paths]
    path_set = set(paths)
    identifiers: list[str] = []
    words = _CODE_TOKEN.findall(words_text)
    for token in words:
        if token in path_set or any(token in p for p in path_set):
            continue
        # A lone word may be a name (`stepwise`, `Glob`); plain words beside others describe behaviour
        # ("multipart boundary parsing"): taken as names, they matched every `parse`, `default` and
        # `constructor` definition ahead of the code the words describe.
        if is_code_like(token) or (len(words) == 1 and token.lower() not in STOPWORDS and len(token) > 2):
            identifiers.append(token.removesuffix("()"))
    identifiers += [f.func for f in frames if f.func and not f.func.startswith("<")]
    # Backticked words are code by the author's own marking, even plain ones like `enforce`.
    marked = [w.strip("-") for span in _BACKTICKED.findall(text) for w in _NAME.findall(span)]
    marked = [w for w in marked if len(w) >= 3 and w.lower() not in STOPWORDS]
    identifiers += [w for w in marked if "-" not in w]
    identifiers = list(dict.fromkeys(identifiers))
    # A file is often named by what it holds: `no-invalid-regexp`, `stepwise`, known_args: words the
    # author marked as code or wrote with a hyphen or underscore, to compare with file names.
    spelled = [w.strip("-") for w in _NAME.findall(text) if "-" in w.strip("-") or "_" in w.strip("_")]
    names = list(dict.fromkeys(w.lower() for w in [*marked, *spelled] if len(w) >= 3))[:MAX_NAMES]
    words = len(text.split())
    if paths and words <= 3:  # "Update api/queries_pr.go": a short query naming a file is about that file
        shape = "path"
    elif words == 1 or (identifiers and words <= 3):
        shape = "identifier"
    else:
        shape = "natural"
    terms = query_terms(words_text) or query_terms(words_text, keep_stopwords=True)
    if not terms:
        raise BadQuery(f"query {text[:80]!r} has no searchable words: use letters or digits")
    # The first line of a text with more (a commit subject, an issue title) says what it is about; the
    # body's words ("partitioned storage", "cherry picked from commit") name files only by accident.
    lines = [line for line in text.splitlines() if line.strip()]
    title_terms = (query_terms(_words(lines[0])) if len(lines) > 1 else []) or terms
    return QueryPlan(text, terms, identifiers, paths, frames, shape, names, title_terms)
