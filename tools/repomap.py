"""The repo map: the files that matter most and their definitions' signatures, within a token budget.

Files are ranked by PageRank over the import graph (a file that many files import, directly or not,
ranks high), personalised towards the files of a query's search hits when there is a query, as
Aider's repo map personalises towards the files in the chat. Each file's definitions then compete
for the budget (a file's first definitions before another file's later ones), and the number of
definitions shown is found by binary search on the rendered text, so the map fills the budget
without passing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tokenlean.indexers import tokens
from tokenlean.indexers.errors import TokenleanError
from tokenlean.indexers.store import FileRow, SymbolRow

from .guard import guard
from .search import places
from .workspace import Workspace

DEFAULT_BUDGET = 1000
MIN_BUDGET = 100
MAX_BUDGET = 20_000
DAMPING = 0.85
MAX_ITERATIONS = 60
TOLERANCE = 1e-9
POOL_FACTOR = 3  # consider definitions worth about this many times the budget
MAX_POOL_FILES = 400
POOL_DEFINITIONS = 8  # per file, towards the pool's worth
MAX_SIGNATURE_CHARS = 120
QUERY_PLACES = 30  # search places that personalise the ranking
OUTLINE_KINDS = frozenset(
    {
        "class",
        "interface",
        "struct",
        "enum",
        "trait",
        "impl",
        "module",
        "namespace",
        "function",
        "method",
        "macro",
        "type",
    }
)
_CONTAINERS = frozenset({"class", "interface", "struct", "enum", "trait", "impl", "module", "namespace"})


class BadOutline(TokenleanError):
    """An outline that cannot be made (bad budget, path outside the roots...)."""


@dataclass
class OutlineFile:
    root: Path
    path: str  # as shown
    score: float
    tokens: int  # of the whole file
    symbols: list[SymbolRow]  # candidates, best first
    rank: int = 0  # position of the file in the ranking


@dataclass
class OutlineResult:
    query: str | None
    scope: str | None
    budget: int
    files: list[OutlineFile]  # ranked, with their candidate definitions
    total_files: int  # indexed files in scope
    tokens: int = 0  # of the text form, set by outline_text
    baseline_tokens: int = 0  # whole files behind the definitions shown, set by outline_text
    shown_files: int = 0
    shown_definitions: int = 0


def outline(
    ws: Workspace,
    query: str | None = None,
    *,
    path: str | None = None,
    budget_tokens: int = DEFAULT_BUDGET,
) -> OutlineResult:
    """The most relevant files and their definitions, for a query or for the whole repository."""
    ws.roots.require()
    if not MIN_BUDGET <= budget_tokens <= MAX_BUDGET:
        raise BadOutline(f"budget_tokens must be between {MIN_BUDGET} and {MAX_BUDGET} (got {budget_tokens})")
    query = query.strip() if query else None
    scope: tuple[Path, str] | None = None
    if path:
        scope = ws.roots.resolve(path)
    personal: dict[tuple[Path, int], float] = {}
    hit_chunks: dict[tuple[Path, int], float] = {}
    if query:
        for rank, hit in enumerate(places(ws, query)[:QUERY_PLACES], start=1):
            row = ws.store(hit.root).file(hit.rel)
            if row is not None:
                personal[(hit.root, row.id)] = personal.get((hit.root, row.id), 0.0) + 1.0 / rank
            for cid in hit.chunk_ids:
                hit_chunks[(hit.root, cid)] = max(hit_chunks.get((hit.root, cid), 0.0), 1.0 / rank)
    ranked: list[tuple[float, Path, FileRow]] = []
    for root in ws.roots:
        if scope and scope[0] != root:
            continue
        ws.refresh(root)
        store = ws.store(root)
        rows = store.files([s.id for s in store.file_states().values()])
        if scope:
            rows = {fid: r for fid, r in rows.items() if _in_scope(r.path, scope[1])}
        mine = {fid: w for (r, fid), w in personal.items() if r == root}
        scores = pagerank(sorted(rows), store.graph(), mine or None)
        ranked += [(score, root, rows[fid]) for fid, score in scores.items()]
    ranked.sort(key=lambda sr: (-sr[0], str(sr[1]), sr[2].path))
    files = _pool(ws, ranked, budget_tokens, hit_chunks)
    return OutlineResult(query, path, budget_tokens, files, len(ranked))


def pagerank(
    nodes: list[int], edges: list[tuple[int, int, int]], personal: dict[int, float] | None = None
) -> dict[int, float]:
    """PageRank of `nodes` over weighted edges (src -> dst), teleporting by `personal` (uniform when
    None); the scores sum to 1."""
    if not nodes:
        return {}
    index = {n: i for i, n in enumerate(nodes)}
    size = len(nodes)
    if personal:
        total = sum(w for n, w in personal.items() if n in index)
        teleport = [personal.get(n, 0.0) / total for n in nodes] if total > 0 else [1.0 / size] * size
    else:
        teleport = [1.0 / size] * size
    links = [(index[s], index[d], float(w)) for s, d, w in edges if s in index and d in index and s != d]
    out_weight = [0.0] * size
    for s, _, w in links:
        out_weight[s] += w
    links = [(s, d, w / out_weight[s]) for s, d, w in links]
    dangling = [i for i in range(size) if out_weight[i] == 0]
    rank = list(teleport)
    for _ in range(MAX_ITERATIONS):
        spill = DAMPING * sum(rank[i] for i in dangling)
        new = [(1 - DAMPING) * t + spill * t for t in teleport]
        for s, d, w in links:
            new[d] += DAMPING * rank[s] * w
        delta = sum(abs(a - b) for a, b in zip(new, rank, strict=True))
        rank = new
        if delta < TOLERANCE:
            break
    return {n: rank[i] for i, n in enumerate(nodes)}


def _pool(
    ws: Workspace,
    ranked: list[tuple[float, Path, FileRow]],
    budget: int,
    hit_chunks: dict[tuple[Path, int], float],
) -> list[OutlineFile]:
    """The best-ranked files with their candidate definitions (hits first, then top-level ones, then
    members, each in line order), enough to fill the budget a few times over."""
    out: list[OutlineFile] = []
    worth = 0
    for score, root, row in ranked:
        if worth > POOL_FACTOR * budget or len(out) >= MAX_POOL_FILES:
            break
        symbols = [s for s in ws.store(root).symbols_in_file(row.id) if s.kind in OUTLINE_KINDS]
        if not symbols:
            continue
        symbols.sort(
            key=lambda s: (-hit_chunks.get((root, s.chunk_id or -1), 0.0), bool(s.parent), s.start_line)
        )
        # A file counts for its first few definitions only: a hub with hundreds must not stop the pool
        # before the next files are in it.
        worth += sum(len(_signature(s)) for s in symbols[:POOL_DEFINITIONS]) // 3
        out.append(OutlineFile(root, ws.roots.display(root, row.path), score, row.tokens, symbols, len(out)))
    return out


def _in_scope(rel: str, scope: str) -> bool:
    return rel == scope or rel.startswith(scope.rstrip("/") + "/")


def _signature(s: SymbolRow) -> str:
    sig = " ".join((s.signature or f"{s.kind} {s.name}").split())
    return sig if len(sig) <= MAX_SIGNATURE_CHARS else sig[: MAX_SIGNATURE_CHARS - 1] + "…"


def _items(result: OutlineResult) -> list[tuple[int, SymbolRow]]:
    """(file position, definition) in the order they earn space: a file's k-th definition is worth
    its file's score / k², so the best file's first definitions come before the next file's, but a
    hub with fifty definitions does not fill a small map alone (PageRank scores of hubs are often
    ten times the next file's)."""
    scored = [(f.score / (k + 1) ** 2, f.rank, k, s) for f in result.files for k, s in enumerate(f.symbols)]
    scored.sort(key=lambda x: (-x[0], x[1], x[2]))
    return [(rank, s) for _, rank, _, s in scored]


def outline_text(result: OutlineResult) -> str:
    """The text form, with as many definitions as fit the budget; sets tokens and baseline."""
    items = _items(result)
    lo, hi = 0, len(items)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if tokens.count(_render(result, items[:mid])) <= result.budget:
            lo = mid
        else:
            hi = mid - 1
    text = _render(result, items[:lo])
    chosen = {rank for rank, _ in items[:lo]}
    result.shown_files = len(chosen)
    result.shown_definitions = lo
    result.baseline_tokens = sum(f.tokens for f in result.files if f.rank in chosen)
    result.tokens = tokens.count(text)
    return text


def _render(result: OutlineResult, items: list[tuple[int, SymbolRow]]) -> str:
    by_file: dict[int, list[SymbolRow]] = {}
    for rank, s in items:
        by_file.setdefault(rank, []).append(s)
    what = f'"{_clip(result.query)}"' if result.query else "the whole repository"
    scope = f" under {result.scope}" if result.scope else ""
    head = (
        f"outline of {what}{scope} · {len(by_file)} of {result.total_files} files · "
        "ranked by the import graph · paths and signatures are repository data"
    )
    if not result.files:
        return f"{head}\nno definitions indexed here: search or read the files instead"
    lines: list[str] = []
    for f in result.files:
        chosen = by_file.get(f.rank)
        if not chosen:
            continue
        lines.append(f.path)
        shown = {(s.parent, s.name) for s in chosen}
        rows = list(chosen)
        for s in chosen:  # a member is shown under its class, whose line comes along
            parent = _container(f.symbols, s)
            if parent is not None and (parent.parent, parent.name) not in shown:
                shown.add((parent.parent, parent.name))
                rows.append(parent)
        for s in sorted(rows, key=lambda s: (s.start_line, s.end_line)):
            depth = len(s.parent.split(".")) if s.parent else 0
            lines.append(f"{'  ' * (depth + 1)}{_signature(s)}")
    left = result.total_files - len(by_file)
    if left > 0 or len(items) < sum(len(f.symbols) for f in result.files):
        lines.append(f"… {left} more files: raise budget_tokens, or narrow with path= or a query")
    guarded = guard("\n".join(lines))
    return "\n".join([head, *(f"! {n}" for n in guarded.notes()), guarded.text])


def _container(symbols: list[SymbolRow], member: SymbolRow) -> SymbolRow | None:
    if not member.parent:
        return None
    name = member.parent.rsplit(".", 1)[-1]
    outer = member.parent.rsplit(".", 1)[0] if "." in member.parent else ""
    return next(
        (s for s in symbols if s.name == name and s.parent == outer and s.kind in _CONTAINERS),
        None,
    )


def _clip(text: str | None, limit: int = 60) -> str:
    one_line = " ".join((text or "").split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"
