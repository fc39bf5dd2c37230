"""The text form of slices and fetches, which is what a model reads."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tokenlean.indexers import tokens

from .results import FetchResult, Piece, RoleSlice, SliceResult
from .settings import MAX_OMITTED_LISTED, UNTRUSTED


def _header(sid: str, title_path: str, start: int, end: int, trimmed_from: int = 0) -> str:
    state = f" · trimmed, the whole section is {trimmed_from:,} tokens: fetch {sid}" if trimmed_from else ""
    return f"== {sid} {title_path} · lines {start}-{end}{state}"


def _piece_header(piece: Piece) -> str:
    full = 0 if piece.complete else piece.section_tokens
    return _header(piece.id, piece.title_path, piece.start_line, piece.end_line, full)


def _head_text(result: SliceResult) -> str:
    lines = [
        f"{result.name} · {result.format} · {result.sections} sections · {result.document_tokens:,} tokens · "
        + UNTRUSTED
    ]
    if result.summary:
        lines.append(f"title: {result.summary.title}")
        if result.summary.gist:
            lines.append(f"gist: {result.summary.gist}")
        lines.append("outline (id title tokens):")
        lines.extend(result.summary.outline)
    return "\n".join(lines)


def _role_header(role: str, shown: int, relevant: int, count: int, document: int, multi: bool) -> str:
    saving = f" (-{100 - 100 * count // document}% of the document)" if document and count < document else ""
    lead = f'### role "{_clip(role)}"' if multi else f'for "{_clip(role)}"'
    return f"{lead}: {shown} of {relevant} relevant sections, {count:,} tokens{saving}"


def _piece_lines(p: Piece) -> list[str]:
    """A piece as shown in a slice or a fetch: its header, guard notes, then its text."""
    return [_piece_header(p), *(f"! {note}" for note in p.notes), p.text]


def _role_text(role: RoleSlice, count: int, multi: bool, document: int = 0, whole: bool = False) -> str:
    if whole:
        lines = [f'for "{_clip(role.role)}": the whole document (a slice would cost more), {count:,} tokens']
    else:
        lines = [_role_header(role.role, len(role.pieces), role.relevant, count, document, multi)]
    if not role.relevant and not whole:
        lines.append("nothing in the document matches; read the outline and fetch sections by id")
    for p in role.pieces:
        lines.extend(_piece_lines(p))
    if role.omitted:
        listed = ", ".join(role.omitted[:MAX_OMITTED_LISTED])
        more = len(role.omitted) - MAX_OMITTED_LISTED
        tail = f" and {more} more" if more > 0 else ""
        lines.append(f"relevant but over budget: {listed}{tail} (fetch by id)")
    return "\n".join(lines)


def _settle(render: Callable[[int], str]) -> tuple[str, int]:
    """Render a text that states its own token count: iterate until the stated count is the real one."""
    count = 0
    text = render(count)
    for _ in range(4):
        actual = tokens.count(text)
        if actual == count:
            break
        count = actual
        text = render(count)
    return text, tokens.count(text)


def slice_text(result: SliceResult) -> str:
    """The text form of a slice; sets `tokens` and `text` on the result, `tokens` on each role."""
    multi = len(result.roles) > 1
    parts = [_head_text(result)]
    for role in result.roles:
        block, role.tokens = _settle(
            lambda n, r=role: _role_text(r, n, multi, result.document_tokens, result.whole)
        )
        parts.append(block)
    if multi and sum(r.tokens for r in result.roles) > result.document_tokens:
        # Each role's part is for its own reader (one reviewer each); one reader taking them all
        # pays for the sections they share once per role.
        parts.append(
            f"(the roles' parts together are more than the whole document, {result.document_tokens:,} "
            "tokens: a reader who needs all of them should read it whole)"
        )
    return _rendered(result, "\n\n".join(parts))


def _fetch_head(result: FetchResult, ids: Sequence[str]) -> str:
    shown = ", ".join(ids) if ids else "none"
    return (
        f"{result.name} · sections {shown} of s1-s{result.sections}"
        f" · {result.document_tokens:,} tokens in all"
        f" · {UNTRUSTED}"
    )


def fetch_text(result: FetchResult) -> str:
    """The text form of a fetch; sets `result.tokens` and `result.text`."""
    lines = [_fetch_head(result, [p.id for p in result.pieces])]
    for p in result.pieces:
        lines.extend(_piece_lines(p))
    if result.not_fetched:
        lines.append(
            f"not fetched, over the {result.budget:,}-token budget: {', '.join(result.not_fetched)}"
            " (fetch them in another call or raise budget_tokens)"
        )
    return _rendered(result, "\n".join(lines))


def _rendered(result: SliceResult | FetchResult, text: str) -> str:
    """`text` as the result's text form: kept on it with its token count, so callers send what was counted."""
    result.tokens = tokens.count(text)
    result.text = text
    return text


def _clip(text: str, limit: int = 80) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def _cost(piece: Piece) -> int:
    return piece.tokens + tokens.count(_piece_header(piece)) + 2
