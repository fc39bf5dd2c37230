"""A section as a piece of a slice: whole, focused on the entries holding the query, or trimmed
by paragraphs, list items and table rows."""

from __future__ import annotations

from tokenlean.indexers import tokens

from ..guard import guard
from .document import Document
from .parse import _BULLET, Section, _units
from .query import Query, text_terms
from .render import _cost, _header
from .results import Piece
from .settings import MIN_ENTRIES, MIN_TRIM_TOKENS


def _guarded(section: Section, text: str, name: str, complete: bool, score: float) -> Piece:
    g = guard(text, name)
    return Piece(
        id=section.id,
        title_path=section.title_path,
        level=section.level,
        start_line=section.start_line,
        end_line=section.end_line,
        text=g.text,
        tokens=tokens.count(g.text),
        section_tokens=section.tokens,
        complete=complete,
        score=round(score, 4),
        notes=g.notes(),
    )


def _trim(doc: Document, section: Section, allowance: int, query: Query | None) -> str | None:
    """The section cut to `allowance` tokens at paragraph, list item or table row boundaries, or
    None if nothing fits.

    The first paragraph (the heading and its lead) stays; the others are taken by how much of the
    query they hold (its rarer words count for more), then by closeness to those that hold it (their
    context), then in order; a table row brings its header. They are put back in document order
    with each gap marked by the lines left out.
    """
    lines = section.text.split("\n")
    units = _units(lines, doc.format)
    if not units:
        return None
    blocks = [(a, b) for a, b, _ in units]
    texts = ["\n".join(lines[a : b + 1]) for a, b in blocks]
    costs = [c + 1 for c in tokens.count_many(texts)]
    relevance = _held(doc, query, [set(text_terms(t)) for t in texts]) if query else [0.0] * len(texts)
    anchors = [k for k, r in enumerate(relevance) if r > 0] or [0]
    order = sorted(range(1, len(blocks)), key=lambda k: (-relevance[k], min(abs(k - a) for a in anchors), k))
    if costs[0] > allowance:  # the lead paragraph alone is too long: its first lines
        kept: list[str] = []
        for line in lines[blocks[0][0] : blocks[0][1] + 1]:
            if tokens.count("\n".join([*kept, line])) + 12 > allowance:
                break
            kept.append(line)
        if not kept:
            return None
        return "\n".join([*kept, f"… lines {section.start_line + len(kept)}-{section.end_line} omitted"])
    taken = [[0]]  # groups of units taken together: a table row with its header
    spent = costs[0]
    for k in order:
        chosen = {j for group in taken for j in group}
        if k in chosen:
            continue
        header = units[k][2]
        need = [k] if header is None or header in chosen else [header, k]
        if spent + sum(costs[j] for j in need) + 10 <= allowance:
            taken.append(need)
            spent += sum(costs[j] for j in need)
    while True:
        text = _assemble(lines, blocks, sorted(j for group in taken for j in group), section)
        if tokens.count(text) <= allowance or len(taken) == 1:
            return text
        taken.pop()  # the markers cost more than estimated: give back the last units taken


def _held(doc: Document, query: Query, terms: list[set[str]]) -> list[float]:
    """How much of the query each set of terms holds: their weights times their idf in the document."""
    idf = doc.bm25.idf if doc.bm25 is not None else {}
    return [sum(w * idf.get(t, 1.0) for t, w in query.weights.items() if t in held) for held in terms]


def _assemble(lines: list[str], blocks: list[tuple[int, int]], chosen: list[int], section: Section) -> str:
    out: list[str] = []
    cursor = 0  # first row (within the section) not yet shown or marked
    for k in chosen:
        a, b = blocks[k]
        if any(line.strip() for line in lines[cursor:a]):
            out.append(f"… lines {section.start_line + cursor}-{section.start_line + a - 1} omitted")
        elif out and a > cursor:  # rows of one table or list follow each other without a gap
            out.append("")
        out.extend(lines[a : b + 1])
        cursor = b + 1
    if any(line.strip() for line in lines[cursor:]):
        out.append(f"… lines {section.start_line + cursor}-{section.end_line} omitted")
    return "\n".join(out)


FOCUS_MIN_TOKENS = 250  # a shorter section is always given whole: its context is cheap
FOCUS_SHARE = 0.5  # a section is focused when the parts holding the query are at most this share of it
FOCUS_MIN_RELEVANCE = 0.7  # a part holds the query with one of its own words or two expansion words
FOCUS_ENTRY_SHARE = 0.5  # only an enumeration is focused: list items and table rows hold this share of it
FOCUS_NAMED = True  # the releases a question names are focused too when they do not all fit whole
FOCUS_BEST_SHARE = 0.5  # of the entries holding the query, those with this share of the best one's rare words


def _focused(
    doc: Document, i: int, query: Query, allowance: int, score: float, named_whole: bool = True
) -> Piece | None:
    """A long enumeration (mostly list items or table rows) whose title says nothing of the query
    and whose matches sit in a few of its entries, cut to those (with a table's header and the
    section's lead), when that is at most FOCUS_SHARE of it; else None. A parameter table, a list
    of features or fixes that mentions the query once is given as that mention, not whole. Prose
    and how-tos stay whole (their paragraphs and code lean on each other), and so do release notes
    of the releases a question names: they are about it whole, unless they cannot all be given
    whole (`named_whole` false): then the entries on the question's topic are its answer."""
    section = doc.sections[i]
    if (
        section.tokens < FOCUS_MIN_TOKENS
        or (doc.title_terms[i][0] - doc.common_title_terms) & query.weights.keys()
        or (named_whole and query.names_release(doc.release[i]))
    ):
        return None
    lines = section.text.split("\n")
    units = _units(lines, doc.format)
    entries = [k for k, (a, b, header) in enumerate(units) if header is not None or _BULLET.match(lines[a])]
    if len(entries) < MIN_ENTRIES:
        return None
    texts = ["\n".join(lines[a : b + 1]) for a, b, _ in units]
    costs = tokens.count_many(texts)
    if sum(costs[k] for k in entries) < FOCUS_ENTRY_SHARE * sum(costs):
        return None  # prose, or a how-to with code: its paragraphs lean on each other
    unit_terms = [set(text_terms(t)) for t in texts]
    relevance = [sum(query.weights.get(t, 0.0) for t in terms) for terms in unit_terms]
    matched = [k for k, r in enumerate(relevance) if r >= FOCUS_MIN_RELEVANCE]
    if not matched:
        return None
    # Of those, the entries holding the question's rarer words: in release notes `changed` is in
    # every entry, the one on the password hash is the answer.
    held = dict(zip(matched, _held(doc, query, [unit_terms[k] for k in matched]), strict=True))
    matched = [k for k in matched if held[k] >= FOCUS_BEST_SHARE * max(held.values())]
    chosen = {0, *matched, *(units[k][2] for k in matched if units[k][2] is not None)}
    kept = sorted(chosen)
    text = _assemble(lines, [(a, b) for a, b, _ in units], kept, section)
    if tokens.count(text) > FOCUS_SHARE * section.tokens:
        return None
    piece = _guarded(section, text, doc.name, False, score)
    return piece if _cost(piece) <= allowance else None


def _whole(doc: Document, section: Section, allowance: int, score: float) -> Piece | None:
    """The section whole if it fits `allowance` (tokens of its text and header line), else None."""
    header = _header(section.id, section.title_path, section.start_line, section.end_line)
    if section.tokens + tokens.count(header) + 2 > allowance:
        return None
    piece = _guarded(section, section.text, doc.name, True, score)
    return piece if _cost(piece) <= allowance else None


def _piece(
    doc: Document, section: Section, allowance: int, query: Query | None, score: float
) -> Piece | None:
    """The section whole if it fits `allowance` (tokens of text and header), else trimmed, else None."""
    whole = _whole(doc, section, allowance, score)
    if whole is not None:
        return whole
    header = _header(section.id, section.title_path, section.start_line, section.end_line, section.tokens)
    header_cost = tokens.count(header) + 2
    if allowance - header_cost < MIN_TRIM_TOKENS:
        return None
    text = _trim(doc, section, allowance - header_cost - 12, query)
    if text is None:
        return None
    piece = _guarded(section, text, doc.name, False, score)
    return piece if _cost(piece) <= allowance else None
