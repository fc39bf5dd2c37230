"""Search strategies. Each ranks chunks (or files, for `paths`) of one store for a query plan."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from difflib import SequenceMatcher

from tokenlean.indexers.store import Store, SymbolRow

from .query import QueryPlan, is_code_like

MAX_LEXICAL_TERMS = 32  # long issue texts: keep the rarest terms, the ones that discriminate
MAX_SYMBOL_NAMES = 12
COMMON_TERM_SHARE = 0.25
FUZZY_MIN_RATIO = 0.8
# A name written as code in a text (`parser.addini`, `_write_source`) with at most this many definitions
# points at them; one with more (`new`, `Run`, `fmt`) says little about which.
MAX_DEFINITIONS = 2
MAX_NAMED_FILES = 50  # per name: candidate paths holding it, before keeping those it names exactly
_SEPARATORS = re.compile(r"\.|::|#|->")


def lexical(store: Store, plan: QueryPlan, limit: int) -> list[int]:
    """BM25 over code-aware terms (FTS5 in SQLite)."""
    return [cid for cid, _ in lexical_scored(store, plan, limit)]


def lexical_scored(store: Store, plan: QueryPlan, limit: int) -> list[tuple[int, float]]:
    """`lexical` with each chunk's BM25 score (higher is better), best first."""
    frequencies = store.document_frequencies(plan.terms)
    terms = [t for t in plan.terms if frequencies.get(t, 0) > 0]
    # A term in a quarter of all chunks (`py` in every path) adds almost nothing to BM25 but makes
    # the OR query score the whole index.
    common = store.chunk_count() * COMMON_TERM_SHARE
    focused = [t for t in terms if frequencies[t] <= common]
    terms = focused or terms
    if len(terms) > MAX_LEXICAL_TERMS:
        terms = sorted(terms, key=lambda t: (frequencies[t], t))[:MAX_LEXICAL_TERMS]
    return store.lexical(terms, limit)


def _name_and_hint(ident: str) -> tuple[str, str] | None:
    """`Parser.parse` -> ("parse", "Parser"); `parse` -> ("parse", ""); None when nothing is left."""
    parts = [p for p in _SEPARATORS.split(ident) if p]
    return (parts[-1], parts[-2] if len(parts) > 1 else "") if parts else None


def _under(symbol: SymbolRow, hint: str) -> bool:
    """Whether a definition's own parent is the one a qualified name gave (`Parser` of `Parser.parse`)."""
    return symbol.parent.split(".")[-1].lower() == hint.lower()


def _names(plan: QueryPlan) -> list[tuple[str, str]]:
    """(name, parent hint) pairs to look up: identifiers named in the query, else its rarer words."""
    out = [pair for pair in map(_name_and_hint, plan.identifiers) if pair]
    if not out:
        out = [(t, "") for t in plan.terms if len(t) >= 4]
    return list(dict.fromkeys(out))[:MAX_SYMBOL_NAMES]


def symbols(store: Store, plan: QueryPlan, limit: int) -> list[int]:
    """Symbol-table matches: exact names first, then prefixes, then close spellings."""
    names = _names(plan)
    exact: list[SymbolRow] = []
    prefix: list[SymbolRow] = []
    fuzzy: list[tuple[float, SymbolRow]] = []
    each = _exact_each(store, [name for name, _ in names], limit)
    for name, hint in names:
        # `Parser.parse`: definitions under a matching parent first; then the name as spelled
        # (`formatRemoteURL` before Go's exported `FormatRemoteURL` in another package).
        found = sorted(
            each[name.lower()],
            key=lambda s: (bool(hint) and not _under(s, hint), s.name != name),
        )
        exact += found
        if plan.identifiers and len(name) >= 3:
            prefix += [s for s in store.symbols_prefix(name, 20) if s.name.lower() != name.lower()]
            low = name.lower()
            for s in store.symbols_similar(name, 50):
                ratio = SequenceMatcher(None, low, s.name.lower()).ratio()
                if ratio >= FUZZY_MIN_RATIO and s.name.lower() != low and not s.name.lower().startswith(low):
                    fuzzy.append((ratio, s))
    fuzzy.sort(key=lambda rs: -rs[0])
    ranked: list[int] = []
    for s in [*exact, *prefix, *(s for _, s in fuzzy)]:
        if s.chunk_id is not None and s.chunk_id not in ranked:
            ranked.append(s.chunk_id)
    return ranked[:limit]


def definitions(store: Store, plan: QueryPlan, limit: int) -> list[int]:
    """The definitions of the names a text spells as code (`Parser.parse`, `max_form_parts`), when a
    name has at most MAX_DEFINITIONS of them (under the named parent, if one is named)."""
    coded = (_name_and_hint(ident) for ident in plan.identifiers if is_code_like(ident))
    pairs = list(dict.fromkeys(pair for pair in coded if pair))[:MAX_SYMBOL_NAMES]
    # Enough rows to find the named parent's own among a common name's definitions (`Arg::new`).
    each = _exact_each(store, [name for name, _ in pairs], 20) if pairs else {}
    ranked: list[int] = []
    for name, hint in pairs:
        found = each.get(name.lower(), [])
        if hint:
            found = [s for s in found if _under(s, hint)] or found
        if len(found) > MAX_DEFINITIONS:
            continue
        ranked += [s.chunk_id for s in found if s.chunk_id is not None and s.chunk_id not in ranked]
    return ranked[:limit]


def _exact_each(store: Store, names: list[str], limit: int) -> dict[str, list[SymbolRow]]:
    """Exact matches of each name (lowercased), up to `limit` each, as symbols_exact([name], limit)
    gives them; from one store call (a round trip per name cost ~1 ms on PostgreSQL) unless the
    shared cap cut the answer, when some name's matches may be missing."""
    lowered = list(dict.fromkeys(n.lower() for n in names))
    if not lowered:
        return {}
    cap = limit * len(lowered)
    rows = store.symbols_exact(lowered, cap)
    if len(rows) >= cap:
        return {n: store.symbols_exact([n], limit) for n in lowered}
    out: dict[str, list[SymbolRow]] = {n: [] for n in lowered}
    for row in rows:  # in the store's order, which a name's own query keeps
        out[row.name.lower()].append(row)
    return {n: found[:limit] for n, found in out.items()}


def paths(store: Store, plan: QueryPlan, limit: int, named: list[int] | None = None) -> list[int]:
    """File ids whose path matches the query: files whose name is a word the query spells as code
    (`no-unused-vars` -> no-unused-vars.js; `named`: those already looked up), then named fragments,
    then path words (BM25): the title's words when the query has a title line (see `QueryPlan`), as
    words in a body name files by accident (retrieval dev split: file MRR 0.73 -> 0.74, Python and
    Go hit@5 +4 and +3 points)."""
    substrings = [p.lstrip("./") for p in plan.paths if p.strip("./")]
    ranked = [fid for fid, _ in store.paths((plan.title_terms or plan.terms)[:16], substrings, limit)]
    named = named_files(store, plan) if named is None else named
    return list(dict.fromkeys([*named, *ranked]))[:limit]


def named_files(store: Store, plan: QueryPlan) -> list[int]:
    """Files whose name without extension is one of the query's code-like words, shortest path first."""
    found: dict[int, str] = {}
    for name in plan.names:
        ids = [fid for fid, _ in store.paths([], [name], MAX_NAMED_FILES)]
        for fid, row in store.files(ids).items():
            if stem(row.path) == name:
                found[fid] = row.path
    return sorted(found, key=lambda fid: (len(found[fid]), found[fid]))


def stem(path: str) -> str:
    """A file's name without its extension, lower-cased: what `named_files` compares names with."""
    return path.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()


def trace(store: Store, plan: QueryPlan, limit: int) -> list[int]:
    """Chunks at the lines of stack-trace frames named in the query, innermost frame first."""
    ranked: list[int] = []
    for frame in reversed(plan.frames):
        name = frame.path.replace("\\", "/").split("/")[-1]
        for fid, _ in store.paths([], [name], 20):
            row = store.files([fid]).get(fid)
            if row is None or not _suffix_match(frame.path, row.path):
                continue
            for cid, start, end, _ in store.chunk_spans([fid])[fid]:
                if start <= frame.line <= end and cid not in ranked:
                    ranked.append(cid)
    return ranked[:limit]


def _suffix_match(frame_path: str, rel: str) -> bool:
    """Whether an indexed path is the file a frame names (frames carry absolute or foreign prefixes)."""
    a = [p for p in frame_path.replace("\\", "/").split("/") if p not in ("", ".")]
    b = rel.split("/")
    n = min(len(a), len(b))
    return n > 0 and a[-n:] == b[-n:]


def vectors(store: Store, plan: QueryPlan, limit: int) -> list[int]:
    """Chunks nearest to the query's embedding; nothing when the index has no vectors (yet)."""
    model = store.vector_model()
    if not model:
        return []
    from tokenlean.indexers import embeddings

    profile = "quality" if model.startswith(embeddings.QUALITY_NAME) else "fast"
    try:
        query = embeddings.embedder(profile).embed([plan.text[: embeddings.EMBED_CHARS]])[0]
    except embeddings.EmbeddingsUnavailable:
        return []  # vectors were built by a process that had the model; this one does not
    if not query.any():
        return []  # no known word in the query: nothing to be near to
    return [cid for cid, _ in store.nearest(query.tobytes(), limit)]


MAX_SEEDS = 3  # the strongest files of the other strategies whose neighbours are considered
MAX_NEIGHBOURS = 12  # per seed and direction: a file imported by hundreds of files is a hub, not a hint


def seed_files(store: Store, plan: QueryPlan, fused: list[int]) -> list[int]:
    """The files whose graph neighbours are worth a look: the files and symbols the query names, then
    the files of the best fused chunks of the other strategies (`fused`, best first)."""
    named: list[int] = []
    for fragment in plan.paths:
        name = fragment.replace("\\", "/").lstrip("./")
        named += [fid for fid, _ in store.paths([], [name], 3)] if name else []
    for ident in plan.identifiers[:MAX_SYMBOL_NAMES]:
        parts = [p for p in _SEPARATORS.split(ident) if p]
        if parts:
            named += [s.file_id for s in store.symbols_exact([parts[-1]], 3)]
    strong = [
        c.file_id
        for c in sorted(store.chunks(fused[: 4 * MAX_SEEDS]).values(), key=lambda c: fused.index(c.id))
    ]
    return list(dict.fromkeys([*named, *strong]))[: MAX_SEEDS + len(set(named))]


def neighbours(
    store: Store,
    plan: QueryPlan,
    limit: int,
    fused: Sequence[int] = (),
    position: Mapping[int, int] | None = None,
) -> list[int]:
    """Graph neighbours of the files and symbols the query names and of the strongest fused places
    of the other strategies (`fused`, best first; `position`: chunk id -> best rank elsewhere)."""
    return dependencies(store, seed_files(store, plan, list(fused)), position or {}, limit)


def dependencies(store: Store, seeds: list[int], position: Mapping[int, int], limit: int) -> list[int]:
    """Chunks of the files next to the seed files in the import graph: what they import and what
    imports them, nearer seeds first, files the other strategies also found first. A file stands
    for its best chunk by the other strategies (`position`: chunk id -> best rank elsewhere), else
    the chunk defining what is imported from it, else its first chunk."""
    if not seeds:
        return []
    seed_set = set(seeds)
    near: dict[tuple[int, str], list[int]] = {}  # (seed, direction) -> neighbour files
    wanted: dict[int, set[str]] = {}  # names the seeds import from a neighbour
    for direction in ("out", "in"):
        for e in store.edges(seeds, direction):
            seed, other = (e.src, e.dst) if direction == "out" else (e.dst, e.src)
            if other in seed_set:
                continue
            near.setdefault((seed, direction), []).append(other)
            if direction == "out":
                wanted.setdefault(other, set()).update(n for n in e.names.split(",") if n and n != "*")
    if not near:
        return []
    spans = store.chunk_spans(sorted({f for files in near.values() for f in files}))
    best: dict[int, int] = {}  # file -> its chunk the other strategies rank best
    for fid, parts in spans.items():
        elsewhere = [cid for cid, *_ in parts if cid in position]
        if elsewhere:
            best[fid] = min(elsewhere, key=position.__getitem__)
    score: dict[int, float] = {}
    for i, seed in enumerate(seeds):
        for direction in ("out", "in"):
            files = list(dict.fromkeys(near.get((seed, direction), [])))
            files.sort(key=lambda f: (position[best[f]] if f in best else 1 << 30, f))
            for f in files[:MAX_NEIGHBOURS]:
                score[f] = score.get(f, 0.0) + 1.0 / (i + 1)
    chosen: dict[int, int] = {}
    for fid in score:
        ids = [cid for cid, *_ in spans.get(fid, [])]
        if fid in best:
            chosen[fid] = best[fid]
        elif ids:
            names = wanted.get(fid)
            defining = [s.chunk_id for s in store.symbols_in_file(fid) if s.name in names] if names else []
            chosen[fid] = next((c for c in defining if c is not None), ids[0])
    order = sorted(chosen, key=lambda f: (-score[f], position.get(chosen[f], 1 << 30), chosen[f]))
    return [chosen[f] for f in order][:limit]
