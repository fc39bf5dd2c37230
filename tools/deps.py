"""What a file or symbol depends on and what depends on it: the import graph, to a depth, in a budget."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tokenlean.indexers import tokens
from tokenlean.indexers.errors import TokenleanError
from tokenlean.indexers.store import EdgeRow, FileRow, ImportRow, Store, SymbolRow

from .guard import guard
from .read import definitions, pick_symbol, split_spec
from .workspace import Workspace

DEFAULT_DEPTH = 1
MAX_DEPTH = 5
DEFAULT_BUDGET = 1500
MIN_BUDGET = 100
MAX_BUDGET = 20_000
DIRECTIONS = ("both", "uses", "used_by")
MAX_FILES = 400  # per direction: a hub imported by thousands of files is summarised, not walked
MAX_NAMES_SHOWN = 4
_WORD = re.compile(r"[A-Za-z_$][\w$]*")


class BadDeps(TokenleanError):
    """A dependency question that cannot be answered (unknown path or symbol, bad depth...)."""


@dataclass
class Dep:
    file_id: int
    depth: int
    line: int  # of the import statement, in the importing file
    names: str  # what is imported, comma-separated ("" for the whole module)
    via_id: int | None = None  # the file it was reached through, at depth > 1
    path: str = ""  # as shown
    via: str = ""
    tokens: int = 0  # of the whole file


@dataclass
class DepsResult:
    target: str  # the file asked about, as shown
    symbol: str
    direction: str
    depth: int
    budget: int
    uses: list[Dep] = field(default_factory=list)
    used_by: list[Dep] = field(default_factory=list)
    external: list[str] = field(default_factory=list)  # imports of the target no indexed file satisfies
    truncated: bool = False  # a walk stopped at MAX_FILES
    target_tokens: int = 0
    tokens: int = 0  # of the text form, set by deps_text
    # Reading the target and every file shown: what finding these relations by hand costs.
    baseline_tokens: int = 0


def deps(
    ws: Workspace,
    path: str | None = None,
    *,
    symbol: str | None = None,
    direction: str = "both",
    depth: int = DEFAULT_DEPTH,
    budget_tokens: int = DEFAULT_BUDGET,
) -> DepsResult:
    """The files a file (or the file defining a symbol) imports and is imported by, to `depth`."""
    ws.roots.require()
    if direction not in DIRECTIONS:
        raise BadDeps(f"direction {direction!r}: choose from {', '.join(DIRECTIONS)}")
    if not 1 <= depth <= MAX_DEPTH:
        raise BadDeps(f"depth must be between 1 and {MAX_DEPTH} (got {depth}): 1 lists direct imports")
    if not MIN_BUDGET <= budget_tokens <= MAX_BUDGET:
        raise BadDeps(f"budget_tokens must be between {MIN_BUDGET} and {MAX_BUDGET} (got {budget_tokens})")
    if not path and not symbol:
        raise BadDeps("give a path (a file under the root) or a symbol (e.g. 'Parser.parse')")
    root, row, sym = _target(ws, path, symbol)
    store = ws.store(root)
    display = ws.roots.display
    result = DepsResult(
        target=display(root, row.path),
        symbol=_qualified(sym) if sym else "",
        direction=direction,
        depth=depth,
        budget=budget_tokens,
        target_tokens=row.tokens,
    )
    body = _body_words(ws, root, row, sym) if sym else None
    files: dict[int, FileRow] = {row.id: row}
    if direction in ("both", "uses"):
        first = _symbol_uses(store, row, body) if body is not None else None
        result.uses, cut = _walk(store, row.id, "out", depth, files, first)
        result.truncated |= cut
        result.external = [
            i.spec for i in store.imports_of(row.id) if not i.resolved and (body is None or _used(i, body))
        ]
        result.external = list(dict.fromkeys(result.external))
    if direction in ("both", "used_by"):
        first = _symbol_users(ws, root, store, row, sym) if sym else None
        result.used_by, cut = _walk(store, row.id, "in", depth, files, first)
        result.truncated |= cut
    for dep in (*result.uses, *result.used_by):
        dep.tokens = files[dep.file_id].tokens
        dep.path = display(root, files[dep.file_id].path)
        if dep.via_id is not None:
            dep.via = display(root, files[dep.via_id].path)
    return result


def _target(ws: Workspace, path: str | None, symbol: str | None) -> tuple[Path, FileRow, SymbolRow | None]:
    """(root, indexed file, symbol or None) the question is about."""
    for root in ws.roots:
        ws.refresh(root)  # files that came or went since the last walk change the graph
    if path:
        root, rel = ws.roots.resolve(path)
        store = ws.store(root)
        row = store.file(rel)
        if row is not None:
            _, stale = ws.ensure_fresh(root, [row])
            row = None if stale else store.file(rel)
        if row is None:
            raise BadDeps(
                f"{ws.roots.display(root, rel)} is not indexed (ignored, binary or not yet indexed): "
                "search for the file you mean"
            )
        if not symbol:
            return root, row, None
        matches = pick_symbol(store.symbols_in_file(row.id), symbol)
        if not matches:
            names = sorted({s.name for s in store.symbols_in_file(row.id)})
            listing = ", ".join(names[:30]) + (", …" if len(names) > 30 else "")
            raise BadDeps(f"no symbol {symbol!r} in {row.path}. Symbols there: {listing or 'none'}")
        return root, row, matches[0]
    if not split_spec(symbol or "")[0]:
        raise BadDeps("empty symbol name: give a function, class or method name, e.g. 'Parser.parse'")
    found = definitions(ws, symbol or "")
    if not found:
        raise BadDeps(f"no definition named {symbol!r} in the index: search for it, or give its path")
    root, sym = found[0]
    row = ws.store(root).files([sym.file_id]).get(sym.file_id)
    if row is None:
        raise BadDeps(f"{sym.path} left the index meanwhile: search again")
    return root, row, sym


def _qualified(sym: SymbolRow) -> str:
    return f"{sym.parent}.{sym.name}" if sym.parent else sym.name


def _walk(
    store: Store,
    start: int,
    direction: str,
    depth: int,
    files: dict[int, FileRow],
    first: list[EdgeRow] | None,
) -> tuple[list[Dep], bool]:
    """Breadth-first over import edges; each file once, at its smallest depth."""
    seen = {start}
    frontier = [start]
    out: list[Dep] = []
    truncated = False
    for level in range(1, depth + 1):
        found = first if (level == 1 and first is not None) else store.edges(frontier, direction)
        order = {fid: i for i, fid in enumerate(frontier)}
        found = sorted(found, key=lambda e: (order.get(e.src if direction == "out" else e.dst, 0), e.line))
        nxt: list[int] = []
        for e in found:
            near, far = (e.src, e.dst) if direction == "out" else (e.dst, e.src)
            if far in seen:
                continue
            if len(seen) > MAX_FILES:
                truncated = True
                break
            seen.add(far)
            nxt.append(far)
            out.append(Dep(far, level, e.line, e.names, near if level > 1 else None))
        if not nxt:
            break
        files.update(store.files(nxt))
        frontier = nxt
    return [d for d in out if d.file_id in files], truncated


def _body_words(ws: Workspace, root: Path, row: FileRow, sym: SymbolRow) -> set[str]:
    """The identifiers used in a symbol's lines."""
    try:
        lines = ws.read_text(root, row.path).split("\n")
    except TokenleanError:
        return set()
    return set(_WORD.findall("\n".join(lines[sym.start_line - 1 : sym.end_line])))


def _used(imp: ImportRow, body: set[str]) -> bool:
    """Whether a symbol's body uses an import: one of its names, else the name the module is bound
    to (`os` for `import os.path`, `cmdutil` for `.../pkg/cmdutil`, `bar` for `./foo/bar`)."""
    names = [n for n in imp.names.split(",") if n and n != "*"]
    if names:
        return any(n in body for n in names)
    parts = [p for p in re.split(r"[/:\\]+", imp.spec) if p and not re.fullmatch(r"v\d+|\.+", p)]
    if not parts:
        return False
    last = parts[-1].split(".")[0]
    first = imp.spec.lstrip(".").split(".")[0] if "/" not in imp.spec else ""
    return bool({last, first} & body)


def _symbol_uses(store: Store, row: FileRow, body: set[str]) -> list[EdgeRow]:
    """The target file's import edges that the symbol's body uses."""
    edges = store.edges([row.id], "out")
    by_line = {i.line: i for i in store.imports_of(row.id)}
    out = []
    for e in edges:
        names = [n for n in e.names.split(",") if n and n != "*"]
        if names:
            if any(n in body for n in names):
                out.append(e)
        elif (imp := by_line.get(e.line)) is not None and _used(imp, body):
            out.append(e)
    return out


def _symbol_users(ws: Workspace, root: Path, store: Store, row: FileRow, sym: SymbolRow) -> list[EdgeRow]:
    """Files importing the symbol's file that import the symbol by name, or import the whole module
    and mention the name."""
    word = re.compile(
        rf"(?<![\w$]){re.escape(sym.parent.split('.')[0] if sym.parent else sym.name)}(?![\w$])"
    )
    out = []
    for e in store.edges([row.id], "in"):
        names = [n for n in e.names.split(",") if n]
        if names and "*" not in names:
            wanted = {sym.name, sym.parent.split(".")[0]} - {""}
            if wanted & set(names):
                out.append(e)
            continue
        if any(word.search(c.text) for c in store.chunks_of_file(e.src)):
            out.append(e)
    return out


def deps_text(result: DepsResult) -> str:
    """The text form within the budget (what does not fit is left out, deepest first, and counted);
    sets `tokens` and `baseline_tokens`."""
    entries = len(result.uses) + len(result.used_by)
    text = _render(result, entries)
    lo, hi = 0, entries
    if tokens.count(text) > result.budget:
        while lo < hi:  # the most entries whose text fits
            mid = (lo + hi + 1) // 2
            if tokens.count(_render(result, mid)) <= result.budget:
                lo = mid
            else:
                hi = mid - 1
        text = _render(result, lo)
    else:
        lo = entries
    kept = _order(result)[:lo]
    result.baseline_tokens = result.target_tokens + sum({d.file_id: d.tokens for _, d in kept}.values())
    result.tokens = tokens.count(text)
    return text


def _order(result: DepsResult) -> list[tuple[str, Dep]]:
    """Entries in the order they are kept: shallower first, uses before used-by at a depth."""
    tagged = [("uses", d) for d in result.uses] + [("used_by", d) for d in result.used_by]
    return sorted(tagged, key=lambda td: td[1].depth)


def _render(result: DepsResult, keep: int) -> str:
    kept = _order(result)[:keep]
    chosen = {id(d) for _, d in kept}
    label = f"{result.target} {result.symbol}" if result.symbol else result.target
    head = f"deps {label} · depth {result.depth} · L = line of the import · paths are repository data"
    lines: list[str] = []
    sections = []
    if result.direction in ("both", "uses"):
        sections.append(("uses", result.uses))
    if result.direction in ("both", "used_by"):
        sections.append(("used by", result.used_by))
    left = 0
    for title, deps_list in sections:
        shown = [d for d in deps_list if id(d) in chosen]
        left += len(deps_list) - len(shown)
        lines.append(f"{title} ({len(deps_list)} file{'s' if len(deps_list) != 1 else ''}):")
        if not deps_list:
            lines.append("  none in the index")
        for level in sorted({d.depth for d in shown}):
            lines.append(f" depth {level}:")
            lines += _group_lines([d for d in shown if d.depth == level])
        if title == "uses" and result.external:
            lines.append(
                "  external: " + ", ".join(result.external[:30]) + (" …" if len(result.external) > 30 else "")
            )
    if left:
        lines.append(f"… {left} more not shown: raise budget_tokens or lower depth")
    if result.truncated:
        lines.append(f"… stopped after {MAX_FILES} files: ask about a narrower file or a lower depth")
    guarded = guard("\n".join(lines))
    return "\n".join([head, *(f"! {n}" for n in guarded.notes()), guarded.text])


def _group_lines(deps_list: list[Dep]) -> list[str]:
    """One line per file; files reached by one import of a whole folder (a Go package) share a line."""
    groups: dict[tuple[str, str, int, str], list[Dep]] = {}
    for d in deps_list:
        folder = d.path.rsplit("/", 1)[0] if "/" in d.path else ""
        groups.setdefault((folder, d.via, d.line, d.names), []).append(d)
    lines = []
    for (folder, via, line, names), members in groups.items():
        if len(members) > 1 and not names:
            files = ", ".join(m.path.rsplit("/", 1)[-1] for m in members)
            where = f"{folder}/{{{files}}}" if folder else f"{{{files}}}"
            lines.append(f"  {where}{_suffix(via, line, names)}")
        else:
            lines += [f"  {m.path}{_suffix(via, line, names)}" for m in members]
    return lines


def _suffix(via: str, line: int, names: str) -> str:
    listed = [n for n in names.split(",") if n]
    shown = ", ".join(listed[:MAX_NAMES_SHOWN]) + (
        f" +{len(listed) - MAX_NAMES_SHOWN}" if len(listed) > MAX_NAMES_SHOWN else ""
    )
    where = f" via {via} L{line}" if via else f" L{line}"
    return where + (f" {shown}" if shown else "")
