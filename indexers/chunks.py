"""Syntax-aware chunks and symbol definitions from tree-sitter, with line windows as the fallback.

Definitions come from per-language tag queries (`queries/<lang>-tags.scm`, captures `@name`,
`@definition.<kind>` and optionally `@parent`), so this module knows no language by name except
Markdown, which is chunked by its headings.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, NamedTuple

from . import imports as import_queries
from .imports import Import

log = logging.getLogger(__name__)

CALLABLE = frozenset({"function", "method", "macro"})
CONTAINER = frozenset({"class", "interface", "struct", "enum", "trait", "impl", "module", "namespace"})
_CLASS_LIKE = frozenset({"class", "interface", "struct", "enum", "trait", "impl"})
# Other kinds (constant, type, declaration) are symbols only: their lines stay in the enclosing chunk.

MAX_CHUNK_LINES = 150  # a definition longer than this is split at statement boundaries
SPLIT_LINES = 80  # target size of the parts of a split definition
WINDOW_LINES = 50  # target size of line windows (module-level code, plain text)
MAX_SIGNATURE_CHARS = 200

# Nodes that wrap a definition and belong to its chunk (decorators, `export`, `template<...>`).
_WRAPPERS = frozenset({"decorated_definition", "export_statement", "template_declaration"})
# Nodes that wrap exactly one definition (`const f = () => ...;`, `type T struct {...}`).
_SINGLE_WRAPPERS = frozenset(
    {
        "lexical_declaration",
        "variable_declaration",
        "type_declaration",
        "expression_statement",
        "const_declaration",
    }
)
_LEADING_TYPES = ("comment", "attribute_item", "decorator", "annotation")
_TRIVIAL_LINE = re.compile(r"^\s*(?:[\]\[(){};,]+|end|\}\s*(?:else|while.*)?\s*\{?)?\s*$")


class Symbol(NamedTuple):
    """A definition: where it is and how it is called."""

    name: str
    kind: str
    parent: str  # qualified name of the enclosing definition, "" at top level
    signature: str
    start_line: int  # 1-based, inclusive
    end_line: int


class Chunk(NamedTuple):
    """A piece of a file that is indexed and returned as a unit."""

    start_line: int  # 1-based, inclusive
    end_line: int
    kind: str  # a symbol kind, or "module" (top-level code), "section" (Markdown), "text"
    symbol: str  # the definition this chunk belongs to, "" for module code and text
    parent: str
    signature: str
    text: str


class FileChunks(NamedTuple):
    chunks: list[Chunk]
    symbols: list[Symbol]
    parsed: bool  # False when the file fell back to plain line windows
    imports: Sequence[Import] = ()


@dataclass(eq=False)
class _Def:
    name: str
    kind: str
    start_row: int  # includes leading comments/decorators
    end_row: int
    start_byte: int
    end_byte: int
    signature: str
    explicit_parent: str = ""
    split_rows: list[int] = field(default_factory=list)  # statement starts, for splitting a long body
    parent: _Def | None = None
    children: list[_Def] = field(default_factory=list)

    @property
    def qualname(self) -> str:
        prefix = self.parent_name
        return f"{prefix}.{self.name}" if prefix else self.name

    @property
    def parent_name(self) -> str:
        outer = self.parent.qualname if self.parent else ""
        if outer and self.explicit_parent:
            return f"{outer}.{self.explicit_parent}"
        return outer or self.explicit_parent


_parsers = threading.local()  # a tree-sitter Parser must not be shared between threads


def _grammar(language: str) -> tuple[Any, Any] | None:
    """(this thread's parser, tags query) for a language, or None when either is missing."""
    query = _query(language)
    if query is None:
        return None
    cache = getattr(_parsers, "by_language", None)
    if cache is None:
        cache = _parsers.by_language = {}
    parser = cache.get(language)
    if parser is None:
        from tree_sitter import Parser
        from tree_sitter_language_pack import get_language

        parser = cache[language] = Parser(get_language(language))
    return parser, query


@lru_cache(maxsize=64)
def _query(language: str) -> Any:
    """The compiled tags query of a language, with its imports query appended so that one pass
    over the tree finds both (immutable, so shared), or None."""
    try:
        source = resources.files(__package__).joinpath(f"queries/{language}-tags.scm").read_text()
    except (FileNotFoundError, OSError):
        return None
    from tree_sitter import Query
    from tree_sitter_language_pack import get_language

    try:
        tags = Query(get_language(language), source)
    except Exception as exc:  # a grammar that fails to load degrades to line windows
        log.warning("tree-sitter grammar for %s unavailable (%s); using line windows", language, exc)
        return None
    extra = import_queries.query_source(language)
    if not extra:
        return tags
    try:
        # Import patterns come after the tag patterns, so the tags' pattern numbers are unchanged.
        return Query(get_language(language), f"{source}\n{extra}")
    except Exception as exc:  # a broken imports query costs the dependency edges, never the chunks
        log.warning("imports query for %s unavailable (%s); no dependency edges", language, exc)
        return tags


def supported_languages() -> list[str]:
    """Languages with a tag query shipped in `queries/`."""
    names = [p.name for p in resources.files(__package__).joinpath("queries").iterdir()]
    return sorted(n.removesuffix("-tags.scm") for n in names if n.endswith("-tags.scm"))


def split_lines(text: str) -> list[str]:
    """Lines as tree-sitter counts rows ('\\n' only), without line terminators."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def chunk_file(text: str, language: str) -> FileChunks:
    """Chunks, symbols and import statements of one file's text (one parse for all three)."""
    lines = split_lines(text)
    grammar = _grammar(language)
    if grammar is None or not lines:
        return FileChunks(_windows(lines, 0, len(lines) - 1, "text"), [], False)
    parser, query = grammar
    src = text.encode("utf-8", errors="surrogatepass")
    tree = parser.parse(src)
    if language == "markdown":
        return _markdown(tree, query, src, lines)
    from tree_sitter import QueryCursor

    matches = QueryCursor(query).matches(tree.root_node)
    defs = _definitions(matches, src, lines)
    chunks: list[Chunk] = []
    covered: list[tuple[int, int]] = []
    for d in _members([d for d in defs if d.parent is None]):
        _emit(d, lines, chunks)
        covered.append((d.start_row, d.end_row))
    for a, b in _gaps(covered, 0, len(lines) - 1):
        chunks.extend(_windows(lines, a, b, "module"))
    chunks.sort(key=lambda c: (c.start_line, c.end_line))
    symbols = [
        Symbol(d.name, d.kind, d.parent_name, d.signature, d.start_row + 1, d.end_row + 1) for d in defs
    ]
    return FileChunks(chunks, symbols, True, import_queries.from_matches(matches, src))


def _definitions(matches: list[tuple[int, dict[str, list[Any]]]], src: bytes, lines: list[str]) -> list[_Def]:
    best: dict[tuple[int, int], tuple[int, _Def]] = {}
    for pattern, caps in matches:
        kind = next((k[11:] for k in caps if k.startswith("definition.")), None)
        if kind is None or "name" not in caps:
            continue
        node = caps[f"definition.{kind}"][0]
        key = (node.start_byte, node.end_byte)
        if key in best and best[key][0] <= pattern:
            continue  # the first pattern in the .scm file wins for a node
        name = _text(src, caps["name"][0])
        explicit_parent = _text(src, caps["parent"][0]) if "parent" in caps else ""
        for sep in ("::", "."):
            if sep in name:
                head, name = name.rsplit(sep, 1)
                explicit_parent = explicit_parent or head.replace("::", ".")
        span, sig_node = _span_node(node)
        start_row = _leading_start(span, lines)
        best[key] = (
            pattern,
            _Def(
                name=name.strip() or "?",
                kind=kind,
                start_row=start_row,
                end_row=_end_row(span),
                start_byte=span.start_byte,
                end_byte=span.end_byte,
                signature=_signature(sig_node, src),
                explicit_parent=explicit_parent,
                split_rows=_statement_rows(node, start_row, _end_row(span)),
            ),
        )
    defs = sorted((d for _, d in best.values()), key=lambda d: (d.start_byte, -d.end_byte))
    stack: list[_Def] = []
    for d in defs:
        while stack and stack[-1].end_byte <= d.start_byte:
            stack.pop()
        if stack and stack[-1].end_byte >= d.end_byte:
            d.parent = stack[-1]
            stack[-1].children.append(d)
        if d.kind == "function" and ((d.parent and d.parent.kind in _CLASS_LIKE) or d.explicit_parent):
            d.kind = "method"
        elif d.kind == "method" and not d.parent_name:
            d.kind = "function"  # Ruby's top-level `def`, an object literal's member
        stack.append(d)
    return defs


def _text(src: bytes, node: Any) -> str:
    return src[node.start_byte : node.end_byte].decode("utf-8", errors="replace")


def _span_node(node: Any) -> tuple[Any, Any]:
    """The node a definition spans (with its wrappers) and the node its signature is read from."""
    sig_node = node
    while node.parent is not None:
        parent = node.parent
        if parent.type in _WRAPPERS:
            node = parent
        elif parent.type in _SINGLE_WRAPPERS and parent.named_child_count == 1:
            node = sig_node = parent  # `const f = ...` reads better than `f = ...`, also when exported
        else:
            break
    return node, sig_node


def _end_row(node: Any) -> int:
    # A node ending at column 0 ends on the previous line (its trailing newline).
    row = node.end_point.row
    return row - 1 if node.end_point.column == 0 and row > node.start_point.row else row


def _leading_start(node: Any, lines: list[str]) -> int:
    """First row of a definition including the comments, decorators and attributes just above it."""
    start = node.start_point.row
    prev = node.prev_sibling
    while prev is not None and any(t in prev.type for t in _LEADING_TYPES):
        row = prev.start_point.row
        own_line = lines[row][: prev.start_point.column].strip() == "" if row < len(lines) else False
        if _end_row(prev) < start - 1 or not own_line:
            break
        start = row
        prev = prev.prev_sibling
    return start


def _body(node: Any) -> Any:
    """A definition's body: its `body` field, a child named like one (`class_body`, `function_body`),
    or the body of its value (`const f = () => {...}`)."""
    body = node.child_by_field_name("body")
    if body is not None:
        return body
    for child in node.named_children:
        if "body" in child.type:
            return child
    for child in node.named_children:
        body = child.child_by_field_name("body")
        if body is not None:
            return body
    return None


def _signature(node: Any, src: bytes) -> str:
    body = _body(node)
    if body is not None and body.start_byte > node.start_byte:
        raw = src[node.start_byte : body.start_byte].decode("utf-8", errors="replace")
    else:
        raw = src[node.start_byte : node.end_byte].decode("utf-8", errors="replace").split("\n", 1)[0]
    # Without the `{` or `=` that opens the body (`def f: Int = {`, Ruby's `def f = expr`).
    sig = " ".join(raw.split()).rstrip("{ ").removesuffix(" =").strip()
    return sig if len(sig) <= MAX_SIGNATURE_CHARS else sig[: MAX_SIGNATURE_CHARS - 1] + "…"


def _emit(d: _Def, lines: list[str], out: list[Chunk]) -> None:
    kids = _members(d.children)
    if d.kind in CALLABLE or not kids:
        # Nested definitions stay inside a function's chunk; their symbols still point here.
        for a, b in _split(d.start_row, d.end_row, d.split_rows, SPLIT_LINES, MAX_CHUNK_LINES):
            out.append(_chunk(lines, a, b, d.kind, d.name, d.parent_name, d.signature))
        return
    # A container: its own lines (signature, docstring, fields) apart, each member on its own, so a
    # hit names the method it found; search merges adjacent chunks back into one place.
    for a, b in _gaps([(k.start_row, k.end_row) for k in kids], d.start_row, d.end_row):
        if a == d.start_row or not _trivial(lines, a, b):
            for x, y in _split(a, b, _blank_rows(lines, a, b), SPLIT_LINES, MAX_CHUNK_LINES):
                out.append(_chunk(lines, x, y, d.kind, d.name, d.parent_name, d.signature))
    for k in kids:
        _emit(k, lines, out)


def _members(defs: list[_Def]) -> list[_Def]:
    """The callables and containers among sibling `defs`, looking through symbol-only ones.

    A symbol-only definition (constant, type, declaration) has no chunk of its own, so the callables
    and containers inside it (a `typedef struct {...}`, a constant bound to an object literal or to
    Ruby's `Struct.new do ... end`) are chunked in its place.
    """
    out: list[_Def] = []
    for d in defs:
        if d.kind in CALLABLE | CONTAINER:
            out.append(d)
        else:
            out.extend(_members(d.children))
    return out


def _statement_rows(node: Any, start_row: int, end_row: int) -> list[int]:
    """Rows where a statement of a long definition's body starts: safe places to split it."""
    if end_row - start_row + 1 <= MAX_CHUNK_LINES:
        return []
    body = _body(node)
    # Look through a body's only child when it just groups the statements (Go's `statement_list`).
    while body is not None and body.named_child_count == 1:
        body = body.named_children[0]
    if body is None:
        return []
    return [c.start_point.row for c in body.named_children]


def _blank_rows(lines: list[str], a: int, b: int) -> list[int]:
    """Rows that start a paragraph (non-blank after a blank line)."""
    return [r for r in range(a + 1, b + 1) if lines[r].strip() and not lines[r - 1].strip()]


def _split(a: int, b: int, boundaries: list[int], target: int, limit: int) -> list[tuple[int, int]]:
    """Cut rows a..b into parts of about `target` rows at boundary rows, none longer than `limit`."""
    if b - a + 1 <= limit:
        return [(a, b)]
    parts = []
    cuts = sorted(r for r in boundaries if a < r <= b)
    start = a
    while b - start + 1 > limit:
        candidates = [r for r in cuts if start < r <= start + target]
        if not candidates:
            candidates = [r for r in cuts if start < r <= start + limit]
        end = (candidates[-1] - 1) if candidates else start + limit - 1
        parts.append((start, end))
        start = end + 1
    parts.append((start, b))
    return parts


def _gaps(covered: list[tuple[int, int]], a: int, b: int) -> list[tuple[int, int]]:
    """Row runs within a..b not covered by any range."""
    gaps = []
    row = a
    for x, y in sorted(covered):
        if x > row:
            gaps.append((row, min(x - 1, b)))
        row = max(row, y + 1)
    if row <= b:
        gaps.append((row, b))
    return gaps


def _trivial(lines: list[str], a: int, b: int) -> bool:
    return all(_TRIVIAL_LINE.match(lines[r]) for r in range(a, b + 1))


def _windows(lines: list[str], a: int, b: int, kind: str, symbol: str = "", parent: str = "") -> list[Chunk]:
    out = []
    for x, y in _split(a, b, _blank_rows(lines, a, b), WINDOW_LINES, WINDOW_LINES + WINDOW_LINES // 2):
        if not _trivial(lines, x, y):
            out.append(_chunk(lines, x, y, kind, symbol, parent, ""))
    return out


def _chunk(lines: list[str], a: int, b: int, kind: str, symbol: str, parent: str, signature: str) -> Chunk:
    while a < b and not lines[a].strip():
        a += 1
    while b > a and not lines[b].strip():
        b -= 1
    return Chunk(a + 1, b + 1, kind, symbol, parent, signature, "\n".join(lines[a : b + 1]))


def _markdown(tree: Any, query: Any, src: bytes, lines: list[str]) -> FileChunks:
    """Markdown by heading sections; a section's chunk holds its own text, not its subsections'."""
    from tree_sitter import QueryCursor

    headings: list[tuple[int, int, str]] = []  # (row, level, title)
    for node in QueryCursor(query).captures(tree.root_node).get("heading", []):
        content = node.child_by_field_name("heading_content")
        title = " ".join(_text(src, content).split()) if content is not None else ""
        if node.type == "atx_heading":
            marker = node.children[0].type if node.children else "atx_h1_marker"
            level = int(marker[5]) if marker[5:6].isdigit() else 1
        else:
            level = 2 if any(c.type == "setext_h2_underline" for c in node.children) else 1
        headings.append((node.start_point.row, level, title or "(untitled)"))
    headings.sort()
    return FileChunks(*sections(lines, headings), True)


def sections(lines: list[str], headings: list[tuple[int, int, str]]) -> tuple[list[Chunk], list[Symbol]]:
    """Chunks and section symbols from heading (row, level, title) triples sorted by row."""
    last = len(lines) - 1
    chunks: list[Chunk] = []
    symbols: list[Symbol] = []
    if not headings:
        return _windows(lines, 0, last, "text"), []
    if headings[0][0] > 0:
        chunks.extend(_windows(lines, 0, headings[0][0] - 1, "text"))
    trail: list[tuple[int, str]] = []  # (level, title) of enclosing sections
    for i, (row, level, title) in enumerate(headings):
        while trail and trail[-1][0] >= level:
            trail.pop()
        parent = " > ".join(t for _, t in trail)
        own_end = headings[i + 1][0] - 1 if i + 1 < len(headings) else last
        end = next((r - 1 for r, lv, _ in headings[i + 1 :] if lv <= level), last)
        sig = f"{'#' * level} {title}"
        symbols.append(Symbol(title, "section", parent, sig, row + 1, end + 1))
        for a, b in _split(row, own_end, _blank_rows(lines, row, own_end), SPLIT_LINES, MAX_CHUNK_LINES):
            if any(lines[r].strip() for r in range(a, b + 1)):
                chunks.append(_chunk(lines, a, b, "section", title, parent, sig))
        trail.append((level, title))
    return chunks, symbols
