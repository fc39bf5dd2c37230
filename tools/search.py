"""Fused code search: strategies ranked per root, fused by RRF, grouped into places, cut to a budget."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tokenlean.indexers.errors import TokenleanError
from tokenlean.indexers.store import ChunkRow, Store

from . import strategies
from .fuse import K, fuse
from .guard import guard
from .prior import file_kind, priors
from .query import QueryPlan, plan
from .snippets import Measured, cut, measure
from .workspace import Workspace

DEFAULT_LIMIT = 10
MAX_LIMIT = 50
DEFAULT_BUDGET = 1500
MIN_BUDGET = 200
MAX_BUDGET = 20_000
CANDIDATES = 100  # per strategy, before fusion
PATH_LIMIT = 30  # files the path strategy gives fusion (5/10/15: dev file MRR 0.73 -> 0.67/0.70/0.71)
# Places kept per file; the rest of that file is left to `read`. At 3, the function a change needed was
# often a file's 4th or 5th place and never offered (retrieval bench, 240 tasks: a changed function
# among the first 10 places 68% -> 71% at 5, in every language; files found and tokens read unchanged;
# no cap cost 1 point of files in the default response).
MAX_PER_FILE = 5
SNIPPET_FLOOR = 60  # tokens: below this a snippet says too little to be worth showing
HIT_OVERHEAD = 28  # tokens of a hit's header line in the text form (measured: 18-30)
RESULT_OVERHEAD = 110  # title line, and the 'not shown ... cursor=' line listing up to 5 places

Strategy = Callable[[Store, QueryPlan, int], list[int]]
STRATEGIES: dict[str, Strategy] = {
    "bm25": strategies.lexical,
    "symbol": strategies.symbols,
    "path": strategies.paths,
    "trace": strategies.trace,
    "vector": strategies.vectors,
    "deps": strategies.neighbours,
}
# Fusion (fuse.fuse): BM25 counts by its score relative to the best hit, so its gaps survive; the
# other strategies count by rank, (K + 1) / (K + rank), times their weight. Weights per query shape,
# chosen on the retrieval benchmark's dev split (bench/retrieval: 121 commit messages as queries):
# - natural text leans on BM25; symbol and vector hits (weak alone there: file MRR 0.30 and 0.46 vs
#   BM25's 0.67) only break BM25's near-ties at 0.1; path matches (the query's words in a path, or a
#   file it names) at 0.5 lift a file against a BM25 gap of at most half the best score. Under rank
#   fusion (RRF, k=60, weights 0.3/0.2/0.6) a path vote at any rank, or a vector vote in its top 35,
#   was worth more than the gap between BM25's 1st and 10th hit: fused file
#   MRR 0.69 -> 0.71 and F@1 60 -> 63 from this change alone (offline replay of the dumped rankings);
#   every weight within +-50% of these gives 0.69-0.72, so they are not balanced on a knife's edge.
# - identifiers and paths the query names lean on symbol and path: a definition of the named symbol
#   outranks any BM25 hit.
# - `name`: files named by a compound word of a natural query (`no-constructor-return` ->
#   no-constructor-return.js) count again, apart from the path strategy's word matches, which are
#   mostly weak (`list` in every list.go): dev file MRR 0.72 -> 0.73 (JS/TS 0.73 -> 0.78; at 0.3-1.0
#   alike). Plain backticked words (`cache`) name many files and do not count here.
# - `defined`: the definitions of a name a natural text spells as code (`parser.addini`), when it has
#   at most two: issue texts quote the API they hit. On the issue-text eval (bench/retrieval, 28 tasks)
#   a changed function in the first 5 / 10 places 43 / 46% -> 57 / 57%, file MRR 0.57 -> 0.58; commit
#   messages (240 tasks) unchanged at 0.73 (Python +0.02, Go and Rust -0.01). Without the limit of
#   two (`new`, `Run`), Go and Rust lost 0.02-0.04; at weight 0.5 the issue gains halve.
# - import-graph neighbours (`deps`) traded file hit@1 for hit@5/10 at every weight tried (0.1: F@1
#   56 -> 55, F@10 87 -> 88; 0.3: F@1 51), so they are off in fusion and run only when asked for.
WEIGHTS: dict[str, dict[str, float]] = {
    "natural": {
        "bm25": 1.0,
        "symbol": 0.1,
        "defined": 1.0,
        "path": 0.5,
        "name": 0.5,
        "trace": 1.5,
        "vector": 0.1,
        "deps": 0.0,
    },
    "identifier": {
        "bm25": 0.8,
        "symbol": 1.5,
        "path": 0.5,
        "name": 0.0,
        "trace": 1.5,
        "vector": 0.1,
        "deps": 0.0,
    },
    "path": {"bm25": 0.5, "symbol": 0.5, "path": 1.5, "name": 0.0, "trace": 1.5, "vector": 0.1, "deps": 0.0},
}
SCORED = ("bm25",)  # strategies fused by their scores rather than their ranks


class BadSearch(TokenleanError):
    """Search arguments that cannot be honoured."""


@dataclass
class Hit:
    root: Path
    path: str  # as shown: relative to the root (prefixed by the root's name when several)
    rel: str
    start_line: int
    end_line: int
    symbol: str
    kind: str
    parent: str
    signature: str
    score: float
    why: tuple[tuple[str, int], ...]
    chunk_ids: tuple[int, ...]
    file_tokens: int
    text: str = ""
    shown: tuple[tuple[int, int], ...] = ()
    complete: bool = False
    stale: bool = False
    notes: list[str] = field(default_factory=list)  # redactions and injection warnings

    @property
    def qualified(self) -> str:
        if not (self.parent and self.symbol):
            return self.symbol
        # Document sections nest as "Guide > Install" (titles hold dots); code as Parser.parse.
        return f"{self.parent} > {self.symbol}" if self.kind == "section" else f"{self.parent}.{self.symbol}"

    def why_text(self) -> str:
        return " ".join(f"{s}#{r}" for s, r in self.why)


@dataclass
class SearchResult:
    query: str
    shape: str
    hits: list[Hit]
    omitted: list[Hit]
    total: int  # places found in all
    offset: int
    cursor: str | None
    budget: int
    baseline_tokens: int  # whole files behind the returned hits: what reading them would cost
    elapsed_ms: float
    strategies: list[str] = field(default_factory=list)
    tokens: int = 0  # filled by the renderer: tokens of the text form

    def drop_last(self) -> None:
        """Move the last shown hit to the omitted ones (when the rendered text overshoots the budget)."""
        hit = self.hits.pop()
        self.omitted.insert(0, hit)
        self.cursor = _encode_cursor(self.query, self.offset + len(self.hits))
        self.baseline_tokens = sum({(h.root, h.rel): h.file_tokens for h in self.hits}.values())


def _encode_cursor(query: str, offset: int) -> str:
    digest = hashlib.sha256(query.encode()).hexdigest()[:8]
    return base64.urlsafe_b64encode(json.dumps([digest, offset]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, query: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        digest, offset = json.loads(raw)
        offset = int(offset)
    except (ValueError, TypeError) as exc:
        raise BadSearch(
            f"cursor {cursor!r} is not one this server issued: repeat the search without it"
        ) from exc
    if digest != hashlib.sha256(query.encode()).hexdigest()[:8]:
        raise BadSearch("cursor belongs to a different query: pass the same query with the cursor")
    return max(0, offset)


def _rank_root(store: Store, qp: QueryPlan, names: list[str]) -> list[tuple[int, float, tuple]]:
    rankings: dict[str, list[int]] = {}
    scores: dict[str, list[float]] = {}
    file_hits: list[int] = []
    named: set[int] = set()
    for name in names:
        if name == "path" and STRATEGIES[name] is strategies.paths:
            found = strategies.named_files(store, qp) if qp.names else []
            # A compound word (`no-unused-vars`, `known_args`) naming a file is strong evidence;
            # a plain one (`cache`, `list`) names many files.
            compound = {n for n in qp.names if "-" in n or "_" in n.strip("_")}
            if compound and found:
                named = {fid for fid, f in store.files(found).items() if strategies.stem(f.path) in compound}
            file_hits = strategies.paths(store, qp, PATH_LIMIT, found)
        elif name == "path":
            file_hits = STRATEGIES[name](store, qp, PATH_LIMIT)
        elif name == "bm25" and STRATEGIES[name] is strategies.lexical:
            scored = strategies.lexical_scored(store, qp, CANDIDATES)
            rankings[name] = [cid for cid, _ in scored]
            scores[name] = [score for _, score in scored]
        elif name != "deps":
            rankings[name] = STRATEGIES[name](store, qp, CANDIDATES)
        if name == "symbol" and len(names) > 1 and qp.shape == "natural":
            rankings["defined"] = strategies.definitions(store, qp, CANDIDATES)
    if file_hits:
        # A path match stands for its file's best chunk by the other strategies, else its first.
        spans = store.chunk_spans(file_hits)
        ranked_elsewhere = [cid for r in rankings.values() for cid in r]
        position = {cid: i for i, cid in reversed(list(enumerate(ranked_elsewhere)))}
        chosen = []
        for fid in file_hits:
            ids = [cid for cid, *_ in spans.get(fid, [])]
            if not ids:
                continue
            seen = [cid for cid in ids if cid in position]
            chosen.append((fid, min(seen, key=position.__getitem__) if seen else ids[0]))
        rankings["path"] = [cid for _, cid in chosen]
        # Files the query names by a word it spells as code (`no-unused-vars`) also count apart.
        rankings["name"] = [cid for fid, cid in chosen if fid in named]
    # One strategy asked for alone ranks by itself, whatever its weight in fusion.
    weights = WEIGHTS[qp.shape] if len(names) > 1 else {names[0]: 1.0}
    if "deps" in names and weights.get("deps", 0) > 0:
        # Graph neighbours of the strongest places so far (and of what the query names).
        fused = [int(f.id) for f in fuse(rankings, weights, K, scores)]
        ranked_elsewhere = [cid for r in rankings.values() for cid in r]
        position = {cid: i for i, cid in reversed(list(enumerate(ranked_elsewhere)))}
        rankings["deps"] = strategies.neighbours(store, qp, CANDIDATES, fused, position)
    return [(f.id, f.score, f.why) for f in fuse(rankings, weights, K, scores)]


def _group(rows: list[tuple[Path, ChunkRow, float, tuple]], display: Callable[[Path, str], str]) -> list[Hit]:
    """Merge adjacent chunks of a file into one place; keep at most MAX_PER_FILE places per file."""
    hits: list[Hit] = []
    per_file: dict[tuple[Path, str], list[Hit]] = {}
    for root, row, score, why in rows:
        key = (root, row.path)
        places = per_file.setdefault(key, [])
        merged = False
        for hit in places:
            if row.start_line <= hit.end_line + 1 and row.end_line >= hit.start_line - 1:
                hit.start_line = min(hit.start_line, row.start_line)
                hit.end_line = max(hit.end_line, row.end_line)
                hit.chunk_ids += (row.id,)
                hit.why = _merge_why(hit.why, why)
                merged = True
                break
        if merged or len(places) >= MAX_PER_FILE:
            continue
        hit = Hit(
            root=root,
            path=display(root, row.path),
            rel=row.path,
            start_line=row.start_line,
            end_line=row.end_line,
            symbol=row.symbol,
            kind=row.kind,
            parent=row.parent,
            signature=row.signature,
            score=score,
            why=why,
            chunk_ids=(row.id,),
            file_tokens=0,
        )
        places.append(hit)
        hits.append(hit)
    return hits


def _merge_why(a: tuple, b: tuple) -> tuple:
    best: dict[str, int] = {}
    for s, r in (*a, *b):
        best[s] = min(best.get(s, r), r)
    return tuple(sorted(best.items(), key=lambda sr: sr[1]))


def search(
    ws: Workspace,
    query: str,
    *,
    limit: int = DEFAULT_LIMIT,
    budget_tokens: int = DEFAULT_BUDGET,
    cursor: str | None = None,
    use: list[str] | None = None,
) -> SearchResult:
    """Search every root of the workspace. Raises BadQuery/BadSearch on arguments it cannot honour."""
    started = time.perf_counter()
    if not 1 <= limit <= MAX_LIMIT:
        raise BadSearch(f"limit must be between 1 and {MAX_LIMIT} (got {limit})")
    if not MIN_BUDGET <= budget_tokens <= MAX_BUDGET:
        raise BadSearch(f"budget_tokens must be between {MIN_BUDGET} and {MAX_BUDGET} (got {budget_tokens})")
    names = use if use else list(STRATEGIES)
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown:
        raise BadSearch(f"unknown strategy {unknown[0]!r}: choose from {', '.join(STRATEGIES)}")
    ws.roots.require()
    qp = plan(query)
    offset = _decode_cursor(cursor, qp.text) if cursor else 0

    places = _places(ws, qp, names)
    total = len(places)
    page = places[offset : offset + limit]
    rest = places[offset + limit :]
    shown, dropped = _fit(ws, page, qp, budget_tokens)
    omitted = dropped + rest
    next_offset = offset + len(shown)
    files = {(h.root, h.rel): h.file_tokens for h in shown}
    return SearchResult(
        query=qp.text,
        shape=qp.shape,
        hits=shown,
        omitted=omitted,
        total=total,
        offset=offset,
        cursor=_encode_cursor(qp.text, next_offset) if omitted else None,
        budget=budget_tokens,
        baseline_tokens=sum(files.values()),
        elapsed_ms=(time.perf_counter() - started) * 1000,
        strategies=names,
    )


def places(ws: Workspace, query: str) -> list[Hit]:
    """Every place for a query, best first, without snippets: for tools that rank by search."""
    ws.roots.require()
    return _places(ws, plan(query), list(STRATEGIES))


def _places(ws: Workspace, qp: QueryPlan, names: list[str]) -> list[Hit]:
    """All places for a query, best first, from index content verified against the disk."""
    for attempt in range(2):
        fused: list[tuple[Path, int, float, tuple]] = []
        for root in ws.roots:
            ws.refresh(root)
            store = ws.store(root)
            fused += [(root, cid, score, why) for cid, score, why in _rank_root(store, qp, names)]
        fused.sort(key=lambda f: (-f[2], min(r for _, r in f[3]), str(f[0]), f[1]))
        rows: list[tuple[Path, ChunkRow, float, tuple]] = []
        stale: dict[Path, set[str]] = {}
        file_tokens: dict[tuple[Path, str], int] = {}
        reindexed = False
        for root in ws.roots:
            ids = [cid for r, cid, _, _ in fused if r == root]
            if not ids:
                continue
            store = ws.store(root)
            chunk_rows = store.chunks(ids, text=False)  # places only: _fit reads the shown ones' text
            file_rows = store.files(sorted({c.file_id for c in chunk_rows.values()}))
            done, stale[root] = ws.ensure_fresh(root, list(file_rows.values()))
            reindexed = reindexed or bool(done)
            file_tokens.update(((root, f.path), f.tokens) for f in file_rows.values())
            rows += [
                (root, chunk_rows[cid], score, why)
                for r, cid, score, why in fused
                if r == root and cid in chunk_rows
            ]
        if reindexed and attempt == 0:
            continue  # files that changed on disk were re-indexed: rank again on their new content
        rows = weigh(rows, qp, ws.store)
        rows.sort(key=lambda x: (-x[2], min(r for _, r in x[3]), str(x[0]), x[1].path, x[1].start_line))
        hits = _group(rows, ws.roots.display)
        for h in hits:
            h.file_tokens = file_tokens.get((h.root, h.rel), 0)
            h.stale = h.rel in stale.get(h.root, set())
        return hits
    raise AssertionError("unreachable: the second attempt always returns")


# Type stubs and declaration files, and the implementations they describe when they sit beside them.
_STUBS = ((".pyi", (".py",)), (".d.ts", (".ts", ".tsx", ".js")), (".d.mts", (".mts", ".mjs")))


def _implementation(store: Store, path: str) -> bool:
    """Whether `path` is a stub (x.pyi, x.d.ts) with its implementation (x.py, x.ts) beside it."""
    for suffix, impls in _STUBS:
        if path.endswith(suffix):
            stem = path[: -len(suffix)]
            return any(store.file(stem + impl) is not None for impl in impls)
    return False


def weigh(
    rows: list[tuple[Path, ChunkRow, float, tuple]], qp: QueryPlan, store_of: Callable[[Path], Store]
) -> list[tuple[Path, ChunkRow, float, tuple]]:
    """Fused scores times the file-kind prior (prior.py). A stub beside its implementation counts as
    documentation of it: it repeats the implementation's names and docstrings, so it matches the same
    words, but the code that runs (and changes) is in the implementation."""
    factors = priors(qp.shape, {w.lower() for w in re.findall(r"\w+", qp.text)}, len(qp.text.split()))
    if not factors:
        return rows
    kinds: dict[tuple[Path, str], str] = {}
    out = []
    for root, row, score, why in rows:
        key = (root, row.path)
        if key not in kinds:
            kinds[key] = "doc" if _implementation(store_of(root), row.path) else file_kind(row.path)
        out.append((root, row, score * factors.get(kinds[key], 1.0), why))
    return out


def _fit(ws: Workspace, page: list[Hit], qp: QueryPlan, budget: int) -> tuple[list[Hit], list[Hit]]:
    """Give each hit a snippet within the budget: breadth first (a floor each), then depth by rank."""
    available = budget - RESULT_OVERHEAD
    texts: dict[int, Measured] = {}
    full_cost: dict[int, int] = {}
    rows = _page_chunks(ws, page)
    for i, hit in enumerate(page):
        # Tokenized once, line by line, as the cut counts: a place given its full cost shows whole.
        texts[i] = measure(_place_text(ws, hit, rows))
        full_cost[i] = texts[i].tokens
    shown: list[int] = []
    allowance: dict[int, int] = {}
    for i in range(len(page)):
        need = HIT_OVERHEAD + min(full_cost[i], SNIPPET_FLOOR)
        if need > available:
            break
        shown.append(i)
        allowance[i] = min(full_cost[i], SNIPPET_FLOOR)
        available -= need
    for i in shown:
        extra = min(full_cost[i] - allowance[i], available)
        allowance[i] += extra
        available -= extra
    out: list[Hit] = []
    for i in shown:
        hit = page[i]
        if hit.stale:
            hit.text = ""
            out.append(hit)
            continue
        c = cut(texts[i], hit.start_line, allowance[i], focus=qp.terms, gap_hint=f" (read {hit.path})")
        guarded = guard(c.text, hit.rel)
        hit.text, hit.shown, hit.complete, hit.notes = guarded.text, c.shown, c.complete, guarded.notes()
        out.append(hit)
    return out, [page[i] for i in range(len(page)) if i not in allowance]


def _page_chunks(ws: Workspace, page: list[Hit]) -> dict[tuple[Path, int], ChunkRow]:
    """The chunks of a page's places, one store call per root (not one per place)."""
    ids: dict[Path, set[int]] = {}
    for hit in page:
        if not hit.stale:
            ids.setdefault(hit.root, set()).update(hit.chunk_ids)
    return {
        (root, cid): row
        for root, wanted in ids.items()
        for cid, row in ws.store(root).chunks(sorted(wanted)).items()
    }


def _place_text(ws: Workspace, hit: Hit, rows: dict[tuple[Path, int], ChunkRow]) -> str:
    if hit.stale:
        return ""
    found = (rows.get((hit.root, cid)) for cid in hit.chunk_ids)
    chunks = sorted((c for c in found if c is not None), key=lambda c: c.start_line)
    if len(chunks) == 1:
        return chunks[0].text
    # Adjacent chunks of one place: rebuild the exact lines between them from the file.
    try:
        lines = ws.read_text(hit.root, hit.rel).split("\n")
        return "\n".join(ln.rstrip("\r") for ln in lines[hit.start_line - 1 : hit.end_line])
    except TokenleanError:
        return "\n".join(c.text for c in chunks)
