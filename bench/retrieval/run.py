"""Run the retrieval benchmark: tokenlean's search and two whole-file baselines on mined tasks.

For every task (see mine.py) the repository is materialised at the PARENT commit, indexed with
tokenlean, and searched with the cleaned commit message as the query by:

  tokenlean     fused search (all strategies), as an agent calls it
  tl:bm25 / tl:symbol / tl:path   one tokenlean strategy alone
  bm25-file     baseline A: BM25Okapi (rank_bm25) over whole files, tokenlean's code-aware terms
  grep-file     baseline B: files ranked by distinct query keywords contained, then occurrences

    python bench/retrieval/run.py [--split dev|heldout|all] [--repos owner/name ...]

Snapshots: one working tree per repository, moved from parent to parent with `git read-tree
--reset -u` (a private index file; stray files are cleaned and restored), so the tree is exactly the
parent commit. Indexes: by default a fresh tokenlean index per task (rankings then depend only on the
commit); `--keep-indexes` keeps them for re-runs; `--incremental` updates one index per repository
from task to task, as tokenlean updates an agent's working tree: faster, but places with equal scores
can come out in another order (`--verify K` compares both ways for K tasks per repository). Per-task
results are cached under <cache>/runs/, keyed by a fingerprint of tokenlean's code, so a re-run only
computes what changed; tables go to stdout and everything to bench/retrieval/results/.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from benchlib import (
    FAMILIES,
    REPOS_FILE,
    RESULTS_DIR,
    Repo,
    cache_dir,
    git,
    git_dir,
    load_repos,
    parse_overrides,
)
from rank_bm25 import BM25Okapi

from tokenlean.indexers import tokens
from tokenlean.indexers.indexer import IndexOptions
from tokenlean.indexers.terms import STOPWORDS, index_text, query_terms
from tokenlean.tools.render import search_text
from tokenlean.tools.search import search
from tokenlean.tools.workspace import Workspace, WorkspaceOptions

RUN_VERSION = 1  # bump when what is measured per task changes
RANK_BUDGET = 8000  # large enough that every place of a page gets its snippet floor
DEFAULT_BUDGET = 1500
RANK_PLACES = 30  # places fetched for the rank metrics (file ranks are over their distinct files)
PAGE = 10  # places of a default response
TOP_K = 10
TL_METHODS: dict[str, list[str] | None] = {
    "tokenlean": None,
    "tl:bm25": ["bm25"],
    "tl:symbol": ["symbol"],
    "tl:path": ["path"],
    "tl:vector": ["vector"],
}
BASELINES = ("bm25-file", "grep-file")
METHODS = (*TL_METHODS, *BASELINES)
LANGUAGES = (*FAMILIES, "all")


# -- fingerprints: cached results are valid only for the code that produced them


def _fingerprint(modules: Iterable[str], extra: str) -> str:
    digest = hashlib.sha256(extra.encode())
    for name in modules:
        folder = Path(import_module(name).__file__).parent
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".py", ".scm") and "__pycache__" not in path.parts:
                digest.update(path.relative_to(folder).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def fingerprints() -> tuple[str, str]:
    """(index fingerprint: indexers code, search fingerprint: all of tokenlean)."""
    idx = _fingerprint(["tokenlean.indexers"], f"run{RUN_VERSION}")
    full = _fingerprint(["tokenlean", "tokenlean.tools", "tokenlean.indexers"], f"run{RUN_VERSION}")
    return idx, full


# -- snapshots


class Snapshot:
    """A working tree that can be moved to any commit of a git directory: `git read-tree --reset -u`
    with a private index file rewrites exactly the files that differ and removes the ones that went;
    `git clean` removes anything else (leftovers of an interrupted run)."""

    def __init__(self, tree: Path, index_file: Path):
        self.tree, self.index_file = tree, index_file
        self.tree.mkdir(parents=True, exist_ok=True)

    def checkout(self, gdir: Path, commit: str) -> None:
        env = {"GIT_INDEX_FILE": str(self.index_file)}
        work = f"--work-tree={self.tree}"
        if not any(self.tree.iterdir()):
            self.index_file.unlink(missing_ok=True)
        git(gdir, work, "read-tree", "--reset", "-u", commit, env=env)
        git(gdir, work, "clean", "-ffdxq", env=env)
        # Files edited or deleted behind git's back: restore them from the commit.
        git(gdir, work, "update-index", "-q", "--refresh", env=env, check=False)
        stray = git(gdir, work, "diff-files", "--name-only", "-z", env=env)
        if stray.strip(b"\0"):
            git(gdir, work, "checkout-index", "-f", "-z", "--stdin", env=env, stdin=stray)


# -- baselines over whole files


class FileBM25(BM25Okapi):
    """BM25Okapi fed precomputed (length, term frequencies) per document; scores are identical."""

    def _initialize(self, corpus):
        nd: dict[str, int] = {}
        total = 0
        for length, freqs in corpus:
            self.doc_len.append(length)
            total += length
            self.doc_freqs.append(freqs)
            for word in freqs:
                nd[word] = nd.get(word, 0) + 1
            self.corpus_size += 1
        self.avgdl = total / self.corpus_size
        return nd


@dataclass
class FileDoc:
    path: str
    tokens: int  # o200k tokens of the whole file
    length: int  # number of index terms
    freqs: dict[str, int]
    lowered: str


class FileCache:
    """Per-content analysis of files, shared by all snapshots of a repository."""

    def __init__(self) -> None:
        self._by_hash: dict[str, tuple[int, dict[str, int], str]] = {}

    def docs(self, ws: Workspace, root: Path) -> list[FileDoc]:
        store = ws.store(root)
        states = store.file_states()
        rows = store.files([s.id for s in states.values()])
        out = []
        for path, state in sorted(states.items()):
            cached = self._by_hash.get(state.hash)
            if cached is None:
                text = (root / path).read_bytes().decode("utf-8", errors="replace").removeprefix("\ufeff")
                terms = index_text(text).split()
                freqs: dict[str, int] = {}
                for t in terms:
                    freqs[t] = freqs.get(t, 0) + 1
                cached = (len(terms), freqs, text.lower())
                self._by_hash[state.hash] = cached
            out.append(FileDoc(path, rows[state.id].tokens, *cached))
        return out


def grep_keywords(query: str) -> list[str]:
    """What a person would grep for: the query's words, lower-cased, without stopwords."""
    words = []
    for w in query_terms(query, keep_stopwords=True):
        if len(w) >= 3 and w not in STOPWORDS and not w.isdigit() and w not in words:
            words.append(w)
    return words


def rank_bm25_files(docs: list[FileDoc], query: str) -> tuple[list[int], float]:
    bm = FileBM25([(d.length, d.freqs) for d in docs])
    started = time.perf_counter()
    scores = bm.get_scores(query_terms(query))
    order = sorted(range(len(docs)), key=lambda i: (-scores[i], docs[i].path))
    return order, (time.perf_counter() - started) * 1000


def rank_grep_files(docs: list[FileDoc], query: str) -> tuple[list[int], float]:
    started = time.perf_counter()
    words = grep_keywords(query)
    keys = []
    for i, d in enumerate(docs):
        counts = [d.lowered.count(w) for w in words]
        keys.append((-sum(1 for c in counts if c), -sum(counts), d.path, i))
    order = [k[-1] for k in sorted(keys) if k[0] < 0]  # files without any keyword are not listed
    return order, (time.perf_counter() - started) * 1000


# -- one task


def _overlaps(rel: str, start: int, end: int, gold_fns: list[dict]) -> bool:
    return any(g["path"] == rel and start <= g["end_line"] and end >= g["start_line"] for g in gold_fns)


def run_tokenlean(ws: Workspace, task: dict) -> dict:
    gold_files = set(task["gold_files"])
    gold_fns = task["gold_functions"]
    out = {}
    for name, use in TL_METHODS.items():
        ranked = search(ws, task["query"], limit=RANK_PLACES, budget_tokens=RANK_BUDGET, use=use)
        files: list[str] = []
        func_rank = None
        for i, h in enumerate(ranked.hits + ranked.omitted, start=1):
            if h.rel not in files:
                files.append(h.rel)
            if func_rank is None and _overlaps(h.rel, h.start_line, h.end_line, gold_fns):
                func_rank = i
        file_rank = next((i for i, f in enumerate(files, start=1) if f in gold_files), None)
        started = time.perf_counter()
        first = search(ws, task["query"], limit=PAGE, budget_tokens=DEFAULT_BUDGET, use=use)
        latency = (time.perf_counter() - started) * 1000
        search_text(first)  # what the agent reads: may drop the last places to honour the budget
        counts = [tokens.count(h.text) for h in first.hits]
        gold_at = next((i for i, h in enumerate(first.hits) if h.rel in gold_files), None)
        out[name] = {
            "shape": first.shape,
            "file_rank": file_rank,
            "func_rank": func_rank,
            "resp_file": gold_at is not None,
            "resp_func": any(_overlaps(h.rel, h.start_line, h.end_line, gold_fns) for h in first.hits),
            "tok_first": sum(counts[: gold_at + 1]) if gold_at is not None else None,
            "window_tokens": sum(counts),
            "resp_hits": len(first.hits),
            "resp_tokens": first.tokens,
            "latency_ms": round(latency, 2),
            "top": [
                [h.rel, h.start_line, h.end_line, h.qualified] for h in (ranked.hits + ranked.omitted)[:PAGE]
            ],
        }
    return out


def run_baselines(docs: list[FileDoc], task: dict) -> dict:
    gold_files = set(task["gold_files"])
    out = {}
    for name, ranker in (("bm25-file", rank_bm25_files), ("grep-file", rank_grep_files)):
        order, latency = ranker(docs, task["query"])
        file_rank = next((i for i, j in enumerate(order, start=1) if docs[j].path in gold_files), None)
        top = [docs[j] for j in order[:TOP_K]]
        found = file_rank is not None and file_rank <= TOP_K
        out[name] = {
            "file_rank": file_rank,
            "func_rank": None,
            "tok_first": sum(d.tokens for d in top[:file_rank]) if found else None,
            "window_tokens": sum(d.tokens for d in top),
            "latency_ms": round(latency, 2),
            "top": [d.path for d in top],
        }
    return out


# -- the run


def _load_tasks(cache: Path, repos: list[Repo], split: str, per_repo: int | None) -> dict[str, list[dict]]:
    out = {}
    for repo in repos:
        path = cache / "tasks" / f"{repo.slug}.json"
        if not path.exists():
            raise SystemExit(f"no tasks for {repo.name} at {path}: run bench/retrieval/mine.py first")
        data = json.loads(path.read_text())
        if data["head"] != repo.head:
            raise SystemExit(
                f"tasks of {repo.name} were mined up to {data['head'][:12]}, not the pinned head"
            )
        tasks = sorted(data["tasks"], key=lambda t: (t["time"], t["commit"]))
        if per_repo:
            tasks = tasks[:per_repo]
        out[repo.name] = [t for t in tasks if split == "all" or t["split"] == split]
    return out


def _workspace(root: Path, index_dir: Path, workers: int) -> Workspace:
    # refresh_seconds: the index is updated before the queries; a query should not walk the tree again.
    opts = WorkspaceOptions(index_dir=index_dir, index=IndexOptions(workers=workers), refresh_seconds=1e9)
    return Workspace([root], opts)


def _restore_mtimes(ws: Workspace, root: Path) -> None:
    """Give a fresh checkout the sizes/mtimes a kept index recorded, so the index is seen as current."""
    for path, state in ws.store(root).file_states().items():
        target = root / path
        if target.is_file() and target.stat().st_size == state.size:
            os.utime(target, ns=(state.mtime_ns, state.mtime_ns))


class Indexes:
    """Where a task's index lives, by mode.

    fresh (default): a new index per task, deleted afterwards (or kept with --keep-indexes, and reused
    by later runs of the same indexer code); incremental: one index per repository, updated from task
    to task like an agent's working tree (fast, but rankings can differ from a fresh index at ties).
    """

    def __init__(self, cache: Path, repo: Repo, idx_fp: str, args: argparse.Namespace):
        self.args = args
        self.tree = cache / "trees" / repo.slug
        self.snapshot = Snapshot(self.tree, cache / "trees" / f"{repo.slug}.git-index")
        self.incremental_dir = cache / "indexes" / idx_fp / repo.slug
        self.kept_dir = cache / "task-indexes" / idx_fp / repo.slug
        self.tmp = cache / "tmp"
        self._shared: Workspace | None = None

    def open(self, task: dict, incremental: bool) -> tuple[Workspace, Path | None, float]:
        """A workspace whose index is current for the tree (already at the task's parent)."""
        if incremental:
            if self._shared is None:
                self._shared = _workspace(self.tree, self.incremental_dir, self.args.workers)
            started = time.perf_counter()
            self._shared.update(self.tree)
            return self._shared, None, time.perf_counter() - started
        if self.args.keep_indexes:
            where = self.kept_dir / task["parent"][:12]
            ws = _workspace(self.tree, where, self.args.workers)
            if (where.is_dir() and any(where.iterdir())) and ws.store(self.tree).get_meta("last_update"):
                _restore_mtimes(ws, self.tree)
            temporary = None
        else:
            self.tmp.mkdir(parents=True, exist_ok=True)
            where = temporary = Path(tempfile.mkdtemp(dir=self.tmp))
            ws = _workspace(self.tree, where, self.args.workers)
        started = time.perf_counter()
        ws.update(self.tree)
        return ws, temporary, time.perf_counter() - started

    def close(self, ws: Workspace, temporary: Path | None) -> None:
        if ws is not self._shared:
            ws.close()
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)

    def shutdown(self) -> None:
        if self._shared is not None:
            self._shared.close()


def _compare(a: dict, b: dict) -> dict:
    """Per method: 'same', 'order' (top places differ, gold ranks equal) or 'rank' (gold ranks differ)."""
    out = {}
    for name in a:
        if any(a[name][k] != b[name][k] for k in ("file_rank", "func_rank", "resp_file", "resp_func")):
            out[name] = "rank"
        else:
            out[name] = "same" if a[name]["top"] == b[name]["top"] else "order"
    return out


def run_repo(
    repo: Repo,
    tasks: list[dict],
    gdir: Path,
    cache: Path,
    fps: tuple[str, str],
    args: argparse.Namespace,
    log,
) -> tuple[list[dict], list[dict]]:
    idx_fp, full_fp = fps
    mode = "incremental" if args.incremental else "fresh"
    tl_dir = cache / "runs" / f"tl-{full_fp}-{mode}" / repo.slug
    base_dir = cache / "runs" / f"base-{idx_fp}" / repo.slug
    tl_dir.mkdir(parents=True, exist_ok=True)
    base_dir.mkdir(parents=True, exist_ok=True)
    records: list[dict] = []
    verifications: list[dict] = []
    indexes = Indexes(cache, repo, idx_fp, args)
    files = FileCache()
    for n, task in enumerate(tasks):
        key = task["commit"][:12]
        tl_path, base_path = tl_dir / f"{key}.json", base_dir / f"{key}.json"
        tl = None if args.rerun or not tl_path.exists() else json.loads(tl_path.read_text())
        base = None if args.rerun or not base_path.exists() else json.loads(base_path.read_text())
        verify = n < args.verify
        if tl is None or base is None or verify:
            started = time.perf_counter()
            indexes.snapshot.checkout(gdir, task["parent"])
            timing = {"checkout_s": time.perf_counter() - started}
            ws, temporary, timing["index_s"] = indexes.open(task, args.incremental)
            if tl is None or verify:
                started = time.perf_counter()
                tl_new = run_tokenlean(ws, task)
                timing["search_s"] = time.perf_counter() - started
                if verify:  # the same tree, indexed the other way
                    other, other_tmp, _ = indexes.open(task, not args.incremental)
                    same = _compare(tl_new, run_tokenlean(other, task))
                    indexes.close(other, other_tmp)
                    verifications.append({"id": task["id"], **same})
                    log(f"  verify {task['id']}: " + " ".join(f"{k}={v}" for k, v in same.items()))
                if tl is None:
                    tl = {"methods": tl_new, **timing}
                    tl_path.write_text(json.dumps(tl))
            if base is None:
                started = time.perf_counter()
                docs = files.docs(ws, indexes.tree)
                indexed = {d.path for d in docs}
                base = {
                    "methods": run_baselines(docs, task),
                    "corpus_files": len(docs),
                    "gold_files_indexed": sum(1 for p in task["gold_files"] if p in indexed),
                    "baseline_s": time.perf_counter() - started,
                }
                base_path.write_text(json.dumps(base))
            indexes.close(ws, temporary)
            log(
                f"  {task['id']} {task['split']:7} checkout {timing['checkout_s']:.1f}s "
                f"index {timing['index_s']:.1f}s  tokenlean file#{tl['methods']['tokenlean']['file_rank']} "
                f"bm25-file#{base['methods']['bm25-file']['file_rank']}"
            )
        records.append(
            {
                "id": task["id"],
                "repo": task["repo"],
                "language": task["language"],
                "split": task["split"],
                "date": task["date"],
                "query": task["query"],
                "gold_files": task["gold_files"],
                "gold_functions": [
                    f"{g['path']}:{g['start_line']}-{g['end_line']} {g['symbol']}"
                    for g in task["gold_functions"]
                ],
                "gold_files_indexed": base["gold_files_indexed"],
                "corpus_files": base["corpus_files"],
                "timing": {k: round(v, 3) for d in (tl, base) for k, v in d.items() if k.endswith("_s")},
                "methods": {**tl["methods"], **base["methods"]},
            }
        )
    indexes.shutdown()
    return records, verifications


# -- metrics and tables


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarise(records: list[dict]) -> dict:
    """Per method, the metrics over `records` (None where a metric does not apply)."""
    out = {}
    n = len(records)
    for name in METHODS:
        rows = [r["methods"][name] for r in records if name in r["methods"]]
        if not rows:
            continue
        fr = [r["file_rank"] for r in rows]
        tl = name in TL_METHODS
        m: dict[str, float | int | None] = {"n": n}
        for k in (1, 5, 10):
            m[f"file@{k}"] = sum(1 for x in fr if x is not None and x <= k) / n
        m["mrr@10"] = sum(1 / x for x in fr if x is not None and x <= TOP_K) / n
        for k in (5, 10):
            m[f"func@{k}"] = (
                sum(1 for r in rows if r["func_rank"] is not None and r["func_rank"] <= k) / n if tl else None
            )
        m["resp_file"] = sum(1 for r in rows if r["resp_file"]) / n if tl else None
        m["resp_func"] = sum(1 for r in rows if r["resp_func"]) / n if tl else None
        found = [r["tok_first"] for r in rows if r["tok_first"] is not None]
        m["found"] = len(found) / n
        m["tok_first_p50"] = _median(found)
        m["tok_window_mean"] = statistics.fmean(
            r["tok_first"] if r["tok_first"] is not None else r["window_tokens"] for r in rows
        )
        m["latency_p50_ms"] = _median([r["latency_ms"] for r in rows])
        out[name] = m
    return out


COLUMNS = (
    ("file@1", "F@1", "pct"),
    ("file@5", "F@5", "pct"),
    ("file@10", "F@10", "pct"),
    ("mrr@10", "MRR", "num"),
    ("func@5", "Fn@5", "pct"),
    ("func@10", "Fn@10", "pct"),
    ("resp_file", "R.file", "pct"),
    ("resp_func", "R.fn", "pct"),
    ("tok_first_p50", "tok1st", "int"),
    ("tok_window_mean", "tokAvg", "int"),
    ("latency_p50_ms", "p50ms", "ms"),
)


def _cell(value, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "pct":
        return f"{100 * value:.0f}"
    if kind == "num":
        return f"{value:.2f}"
    if kind == "int":
        return f"{value:,.0f}"
    return f"{value:.1f}"


def table(
    summary: dict[str, dict], title: str, groups: Iterable[str] = LANGUAGES, label: str = "lang"
) -> str:
    """Markdown table: one row per (group: a language by default, method)."""
    head = [label, "method", "n", *(c[1] for c in COLUMNS)]
    lines = [f"**{title}**", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for lang in groups:
        for name, m in summary.get(lang, {}).items():
            cells = [lang, name, str(m["n"]), *(_cell(m[c[0]], c[2]) for c in COLUMNS)]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


LEGEND = (
    "F@k: a gold file among the first k distinct files; MRR: file-level MRR@10; Fn@k: a gold function "
    "overlapped by one of the first k places (tokenlean only); R.file/R.fn: gold file/function in the "
    "default response (limit 10, 1500 tokens); tok1st: median o200k tokens read up to and including the "
    "first gold hit (tokenlean: snippet text of the default response; whole-file baselines: whole files "
    "of the top 10), over tasks where it was found; tokAvg: mean tokens with a miss charged the whole "
    "window (all 10 snippets / all 10 files); p50ms: median query latency (tokenlean: the default call; "
    "baselines: scoring a prepared corpus)."
)


def by_language(records: list[dict]) -> dict[str, dict]:
    out = {}
    for lang in LANGUAGES:
        rows = [r for r in records if lang == "all" or r["language"] == lang]
        if rows:
            out[lang] = summarise(rows)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=("dev", "heldout", "all"), default="all")
    ap.add_argument("--repos", nargs="*", help="owner/name of the repositories to run (default: all)")
    ap.add_argument("--repos-file", type=Path, default=REPOS_FILE)
    ap.add_argument("--per-repo", type=int, help="only the first N mined tasks of each repository (by date)")
    ap.add_argument("--cache", help="cache directory (default $TOKENLEAN_BENCH_CACHE or ~/.cache/...)")
    ap.add_argument("--git-root", help="folder holding <owner>+<name>.git clones (or the mirror layout)")
    ap.add_argument("--git-dir", action="append", help="OWNER/NAME=PATH of one repository's git dir")
    ap.add_argument("--workers", type=int, default=2, help="indexer worker processes")
    ap.add_argument(
        "--incremental",
        action="store_true",
        help="one index per repository, updated from task to task (faster; ties may rank differently)",
    )
    ap.add_argument(
        "--keep-indexes",
        action="store_true",
        help="keep each task's fresh index in the cache so re-runs after search changes skip indexing",
    )
    ap.add_argument(
        "--verify", type=int, default=0, metavar="K", help="compare with a fresh index for K tasks/repo"
    )
    ap.add_argument("--rerun", action="store_true", help="ignore cached per-task results")
    ap.add_argument(
        "--out", type=Path, help="results JSON (default bench/retrieval/results/<split>-<fp>.json)"
    )
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    started = time.perf_counter()
    cache = cache_dir(args.cache)
    repos = load_repos(args.repos_file, args.repos)
    tasks = _load_tasks(cache, repos, args.split, args.per_repo)
    fps = fingerprints()
    _prune(cache, fps)
    overrides = parse_overrides(args.git_dir)
    records: list[dict] = []
    verifications: list[dict] = []
    for repo in repos:
        log(f"{repo.name}: {len(tasks[repo.name])} tasks")
        recs, ver = run_repo(
            repo, tasks[repo.name], git_dir(repo, args.git_root, overrides), cache, fps, args, log
        )
        records += recs
        verifications += ver
    elapsed = time.perf_counter() - started
    splits = ("dev", "heldout") if args.split == "all" else (args.split,)
    summaries = {s: by_language([r for r in records if r["split"] == s]) for s in splits}
    if args.split == "all":
        summaries["all"] = by_language(records)
    for s, summ in summaries.items():
        print(table(summ, f"split: {s} ({sum(1 for r in records if s == 'all' or r['split'] == s)} tasks)"))
        print()
    print(LEGEND)
    missing = sum(1 for r in records if r["gold_files_indexed"] < len(r["gold_files"]))
    print(
        f"\n{len(records)} tasks, {elapsed:.0f}s wall; "
        f"tasks with a gold file tokenlean did not index: {missing}"
    )
    if verifications:
        diffs = {k: dict(Counter(v[k] for v in verifications)) for k in TL_METHODS}
        print(f"verify (incremental vs fresh index, {len(verifications)} tasks): {diffs}")
    out = args.out or RESULTS_DIR / f"{args.split}-{fps[1]}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "split": args.split,
        "fingerprint": {"index": fps[0], "search": fps[1]},
        "repos": [{"name": r.name, "language": r.language, "head": r.head, "since": r.since} for r in repos],
        "wall_seconds": round(elapsed, 1),
        "summary": summaries,
        "verify": verifications,
        "tasks": records,
    }
    out.write_text(json.dumps(payload, indent=1))
    print(f"results: {out}")
    return 0


def _prune(cache: Path, fps: tuple[str, str]) -> None:
    """Drop indexes built by other indexer code: they would be updated incorrectly."""
    for kind in ("indexes", "task-indexes"):
        folder = cache / kind
        if folder.is_dir():
            for d in folder.iterdir():
                if d.name != fps[0]:
                    shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    raise SystemExit(main())
