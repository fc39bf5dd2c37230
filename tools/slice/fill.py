"""Choosing each role's pieces within its budget, and fetching sections by id."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from tokenlean.indexers import tokens

from .document import Document, parse_document
from .errors import BadSlice, UnknownSection
from .parse import Section
from .pieces import FOCUS_NAMED, FOCUS_SHARE, _focused, _guarded, _piece, _whole
from .query import Query
from .relevance import Ranking, ranking
from .render import _cost, _fetch_head, _head_text, _role_header, _role_text, fetch_text, slice_text
from .results import FetchResult, Piece, RoleSlice, SliceResult
from .scorers import DEFAULT_SCORERS, Scorer
from .settings import (
    AUTO_MAX_BUDGET,
    AUTO_SHARE,
    DEFAULT_BUDGET,
    DEFAULT_FETCH_BUDGET,
    INTRO_TOKENS,
    MAX_BUDGET,
    MAX_DOCUMENT_SHARE,
    MAX_IDS,
    MAX_ROLE_CHARS,
    MAX_ROLES,
    MIN_BUDGET,
    MIN_CAP_TOKENS,
    MIN_ROLE_TOKENS,
    NAMED_FIRST,
    TAIL_DOCUMENT_SHARE,
    TAIL_SHARE,
)
from .summary import summarise


def _check_budget(budget_tokens: int) -> None:
    if not MIN_BUDGET <= budget_tokens <= MAX_BUDGET:
        raise BadSlice(f"budget_tokens must be between {MIN_BUDGET} and {MAX_BUDGET} (got {budget_tokens})")


def default_budget(document_tokens: int, roles: int = 1, ceiling: int = MAX_BUDGET) -> int:
    """The budget of a slice when the caller names none: AUTO_SHARE of the document per role, at least
    DEFAULT_BUDGET, at most AUTO_MAX_BUDGET and `ceiling` (what the client or the task allows)."""
    wanted = max(DEFAULT_BUDGET, int(AUTO_SHARE * document_tokens)) * roles
    return max(MIN_BUDGET, min(wanted, AUTO_MAX_BUDGET, ceiling))


def _query(role: str) -> Query:
    if not role or not role.strip():
        raise BadSlice(
            "give a role or a question to slice for, "
            "e.g. 'security reviewer' or 'what changed in the auth flow?'"
        )
    if len(role) > MAX_ROLE_CHARS:
        raise BadSlice(f"a role is at most {MAX_ROLE_CHARS} characters (got {len(role)}): say it shorter")
    query = Query.of(role)
    if not query.weights:
        raise BadSlice(f"role {role!r} has no words to rank sections by: name a topic, e.g. 'caching'")
    return query


def _fill(doc: Document, query: Query, found: Ranking, allowance: int, role: str) -> RoleSlice:
    """Pieces for one role: whole sections first, then trimmed ones in what is left, then intros,
    then the tail.

    Whole sections are taken by score, discounted by how much of the allowance each would use, so
    that near-equal sections are not crowded out by one long one. Sections that did not fit whole
    are then trimmed into what is left, best first. When all that is a small share of the
    allowance and of the document, the best of the tail follow, whole, those that keep it so (one
    too long is passed over for shorter ones below it): when few sections match clearly, the next
    ones are where the role's concern hides under other words.
    """
    ranked = found.relevant
    pieces: list[Piece] = []
    remaining = allowance - tokens.count(_role_header(role, 0, 0, 0, doc.tokens, False)) - 30
    space = max(remaining, 1)
    # The notes of the releases a question names are its answer: they come before what its words
    # also match (an installation section that says `--upgrade`).
    named = {i for i, _ in ranked if query.names_release(doc.release[i])} if NAMED_FIRST else set()
    order = sorted(
        ranked,
        key=lambda r: (r[0] not in named, -r[1] / (1 + doc.sections[r[0]].tokens / space), r[0]),
    )
    named_whole = not FOCUS_NAMED or sum(doc.sections[i].tokens for i in named) <= remaining
    left: list[tuple[int, float]] = []
    for i, score in order:
        piece = _focused(doc, i, query, remaining, score, named_whole) if FOCUS_SHARE else None
        piece = piece or _whole(doc, doc.sections[i], remaining, score)
        if piece is None and i in named and remaining > 0:  # trimmed, before what is not the answer
            piece = _piece(doc, doc.sections[i], remaining, query, score)
        if piece is None:
            left.append((i, score))
            continue
        pieces.append(piece)
        remaining -= _cost(piece)
    omitted: list[str] = []
    for i, score in sorted(left, key=lambda r: (-r[1], r[0])):
        piece = _piece(doc, doc.sections[i], remaining, query, score) if remaining > 0 else None
        if piece is None:
            omitted.append(doc.sections[i].id)
            continue
        pieces.append(piece)
        remaining -= _cost(piece)
    for parent in _shared_parents(doc, pieces):
        piece = _whole(doc, parent, remaining, min(p.score for p in pieces))
        if piece is not None:
            pieces.append(piece)
            remaining -= _cost(piece)
    small = min(TAIL_SHARE * allowance, TAIL_DOCUMENT_SHARE * doc.tokens)
    spent = sum(_cost(p) for p in pieces)
    taken = {p.id for p in pieces}
    for i, score in found.tail:
        if doc.sections[i].id in taken:
            continue
        piece = _whole(doc, doc.sections[i], min(remaining, int(small - spent)), score)
        if piece is None:
            continue  # a smaller one further down may still fit
        pieces.append(piece)
        spent += _cost(piece)
        remaining -= _cost(piece)
    pieces.sort(key=lambda p: int(p.id[1:]))
    return RoleSlice(role=role, pieces=pieces, omitted=omitted, relevant=len(ranked), budget=allowance)


def _shared_parents(doc: Document, pieces: list[Piece]) -> list[Section]:
    """Sections whose own text introduces two or more of the chosen sections (and is short)."""
    chosen = {p.id for p in pieces}
    below = Counter(doc.sections[int(p.id[1:]) - 1].path[:-1] for p in pieces)
    out = []
    for path, n in below.items():
        parent = doc.sections[doc.index_by_path[path]] if path in doc.index_by_path else None
        if (
            n >= 2
            and parent
            and parent.id not in chosen
            and INTRO_TOKENS[0] <= parent.tokens <= INTRO_TOKENS[1]
        ):
            out.append(parent)
    return out


def slice_document(
    text: str,
    name: str,
    role: str | None = None,
    *,
    roles: Sequence[str] | None = None,
    budget_tokens: int | None = None,
    summary: bool = True,
    scorers: Sequence[tuple[Scorer, float]] = DEFAULT_SCORERS,
    ceiling: int = MAX_BUDGET,
    whole_if_cheaper: bool = False,
) -> SliceResult:
    """The sections of a document that `role` (or each of `roles`) needs, within `budget_tokens`
    (by default `default_budget`: a share of the document, at most `ceiling`). With
    `whole_if_cheaper`, a one-role slice that costs as much as the document is replaced by the
    document whole (`result.whole`), when that fits the budget.

    `name` is the document's file name or path; its extension picks the format. With `roles`, the
    budget left after the shared summary is split between them (what one role leaves unused goes
    to the others). `summary=False` leaves out the title, gist and outline (for a follow-up call).
    `scorers` are the relevance signals and their weights (see `Scorer`).
    Raises BadSlice (EmptyDocument, ...) on input it cannot honour.
    """
    if budget_tokens is not None:
        _check_budget(budget_tokens)
    if role is not None and roles is not None:
        raise BadSlice("give either role or roles, not both")
    asked = list(roles) if roles is not None else [role or ""]
    if not asked:
        raise BadSlice("roles is empty: give at least one role or question")
    if len(asked) > MAX_ROLES:
        raise BadSlice(f"at most {MAX_ROLES} roles per call (got {len(asked)}): split them over calls")
    queries = [_query(r) for r in asked]
    doc = parse_document(text, name)
    queries = [q.within(set(doc.release)) for q in queries]
    if budget_tokens is None:
        budget_tokens = default_budget(doc.tokens, len(queries), ceiling)
    head = summarise(doc, budget_tokens) if summary else None
    result = SliceResult(
        name=name,
        format=doc.format,
        sections=len(doc.sections),
        document_tokens=doc.tokens,
        summary=head,
        roles=[],
        budget=budget_tokens,
    )
    shared = tokens.count(_head_text(result)) + 4
    available = budget_tokens - shared
    if available < MIN_ROLE_TOKENS * len(queries):
        raise BadSlice(
            f"budget_tokens={budget_tokens} leaves too little for {len(queries)} roles after the summary "
            f"({shared} tokens): give at least {shared + MIN_ROLE_TOKENS * len(queries)}, or fewer roles"
        )
    ranked = [ranking(doc, q, scorers) for q in queries]
    cap = max(int(MAX_DOCUMENT_SHARE * doc.tokens) - shared, MIN_CAP_TOKENS - shared, MIN_ROLE_TOKENS)
    share = min(available // len(queries), cap)
    result.roles = [_fill(doc, q, r, share, role) for q, r, role in zip(queries, ranked, asked, strict=True)]
    if len(queries) > 1:
        _redistribute(doc, result, queries, ranked, available, cap)
    _enforce(result)
    if whole_if_cheaper and len(queries) == 1 and result.tokens >= doc.tokens:
        return _whole_document(doc, result) or result
    return result


def _whole_document(doc: Document, sliced: SliceResult) -> SliceResult | None:
    """The document whole as one piece (`s1-sN`, guarded as slices are), when a slice of it cost as
    much and the whole fits the budget: a short document's outline alone can outweigh its text."""
    role = sliced.roles[0]
    last = doc.sections[-1]
    text = "\n".join(doc.lines)
    everything = Section(f"s1-{last.id}", doc.title, (doc.title,), 1, 1, last.end_line, text, doc.tokens)
    pieces = [_guarded(everything, text, doc.name, True, 0.0)]
    whole = SliceResult(
        name=sliced.name,
        format=sliced.format,
        sections=sliced.sections,
        document_tokens=sliced.document_tokens,
        summary=None,
        roles=[RoleSlice(role.role, pieces, [], role.relevant, sliced.budget)],
        budget=sliced.budget,
        whole=True,
    )
    slice_text(whole)
    return whole if whole.tokens <= whole.budget and whole.tokens <= sliced.tokens else None


def _redistribute(
    doc: Document,
    result: SliceResult,
    queries: list[Query],
    ranked: list[Ranking],
    available: int,
    cap: int,
) -> None:
    """Give the budget that satisfied roles leave unused to the roles that had to leave sections out,
    each up to `cap`."""
    for _ in range(2):
        used = [_role_cost(r) for r in result.roles]
        wanting = [k for k, r in enumerate(result.roles) if r.omitted]
        spare = available - sum(used[k] for k in range(len(used)) if k not in wanting)
        if not wanting or spare <= sum(result.roles[k].budget for k in wanting):
            return
        share = min(spare // len(wanting), cap)
        if all(result.roles[k].budget >= share for k in wanting):
            return
        for k in wanting:
            result.roles[k] = _fill(doc, queries[k], ranked[k], share, result.roles[k].role)


def _role_cost(role: RoleSlice) -> int:
    return tokens.count(_role_text(role, 0, False)) + 2


def _enforce(result: SliceResult) -> None:
    """Drop the lowest-ranked pieces until the text form fits the budget (estimates can be off)."""
    while True:
        slice_text(result)
        if result.tokens <= result.budget:
            return
        roles = [r for r in result.roles if r.pieces]
        if not roles:
            return
        widest = max(roles, key=lambda r: r.tokens)
        worst = min(widest.pieces, key=lambda p: (p.score, -int(p.id[1:])))
        widest.pieces.remove(worst)
        widest.omitted.insert(0, worst.id)


def fetch_sections(
    text: str, name: str, ids: Sequence[str], *, budget_tokens: int = DEFAULT_FETCH_BUDGET
) -> FetchResult:
    """The sections named by `ids` (`s3`, or a range `s3-s7`), whole while they fit the budget.

    Raises UnknownSection (listing the valid ids) for an id the document does not have.
    """
    _check_budget(budget_tokens)
    doc = parse_document(text, name)
    wanted = _resolve_ids(doc, ids)
    result = FetchResult(
        name=name,
        sections=len(doc.sections),
        document_tokens=doc.tokens,
        pieces=[],
        not_fetched=[],
        budget=budget_tokens,
    )
    by_id = doc.by_id()
    remaining = budget_tokens - tokens.count(_fetch_head(result, wanted)) - 40
    for sid in wanted:
        piece = _piece(doc, by_id[sid], remaining, None, 0.0) if remaining > 0 else None
        if piece is None:
            result.not_fetched.append(sid)
            continue
        result.pieces.append(piece)
        remaining -= _cost(piece)
    while True:
        fetch_text(result)
        if result.tokens <= budget_tokens or not result.pieces:
            return result
        result.not_fetched.insert(0, result.pieces.pop().id)


_ID = re.compile(r"^\s*[sS]?(\d+)\s*$")


def _resolve_ids(doc: Document, ids: Sequence[str]) -> list[str]:
    if isinstance(ids, str):
        ids = [ids]
    if not ids or not any(i.strip() for i in ids):
        raise BadSlice("give the ids of the sections to fetch, e.g. ['s3', 's7-s9'] (see a slice's outline)")
    n = len(doc.sections)
    out: list[str] = []
    for spec in ids:
        for item in spec.split(","):
            if not item.strip():
                continue
            bounds = [_ID.match(x) for x in item.split("-")] if item.count("-") == 1 else [_ID.match(item)]
            numbers = [int(m.group(1)) for m in bounds if m]
            if len(numbers) != len(bounds) or any(not 1 <= k <= n for k in numbers):
                raise UnknownSection(_unknown_id_message(doc, item.strip()))
            low, high = numbers[0], numbers[-1]
            if high < low:
                raise UnknownSection(f"section range {item.strip()!r} runs backwards: write it low-high")
            out.extend(f"s{k}" for k in range(low, high + 1) if f"s{k}" not in out)
    if len(out) > MAX_IDS:
        raise BadSlice(f"at most {MAX_IDS} sections per fetch (got {len(out)}): fetch fewer at a time")
    return out


def _unknown_id_message(doc: Document, item: str) -> str:
    n = len(doc.sections)
    listing = ""
    if n <= 30:
        listing = ": " + ", ".join(f"{s.id} {s.title}" for s in doc.sections)
    return (
        f"unknown section id {item!r}: {doc.name or 'the document'} has sections s1-s{n}{listing}. "
        "A slice's outline lists them with their titles"
    )
