"""Short agent-style queries: fused search against each strategy alone and whole-file BM25.

    python bench/retrieval/short.py                     # every query of short_queries.json
    python bench/retrieval/short.py --kinds words       # plain-word queries only

The commit-message tasks measure long queries; agents also send 2-4 words ("multipart boundary
parsing") or a name (`safe_join`). `short_queries.json` holds such queries, written by hand for dev
tasks (see its `about`). Each is searched on its task's corpus (the parent commit) exactly as run.py
searches the commit message: the same methods (`search` fused and per strategy, as an agent calls
it; whole-file BM25 and grep baselines), the same metrics, with the query's own gold files (a subset
of the task's) and the task's gold functions inside them. The task's index is the one
`run.py --keep-indexes` kept (built if missing). Tables per language and per query kind go to stdout,
every query's ranks to bench/retrieval/results/short-<fingerprint>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

from benchlib import HERE, REPOS_FILE, RESULTS_DIR, cache_dir, git_dir, load_repos, parse_overrides
from run import (
    LEGEND,
    FileCache,
    Indexes,
    _load_tasks,
    by_language,
    fingerprints,
    run_baselines,
    run_tokenlean,
    summarise,
    table,
)

QUERIES_FILE = HERE / "short_queries.json"
KINDS = ("words", "mixed", "identifier")


def load_queries(path: Path, kinds: list[str] | None) -> list[dict]:
    queries = json.loads(path.read_text())["queries"]
    return [q for q in queries if not kinds or q["kind"] in kinds]


def query_task(task: dict, q: dict) -> dict:
    """The task with the short query and its gold in place of the commit message and its gold."""
    missing = set(q["gold_files"]) - set(task["gold_files"])
    if missing:
        raise SystemExit(f"{q['query']!r}: gold {sorted(missing)} is not a gold file of {task['id']}")
    gold = set(q["gold_files"])
    return {
        **task,
        "query": q["query"],
        "gold_files": q["gold_files"],
        "gold_functions": [g for g in task["gold_functions"] if g["path"] in gold],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--queries", type=Path, default=QUERIES_FILE)
    ap.add_argument("--kinds", nargs="*", choices=KINDS, help="only these kinds of query (default: all)")
    ap.add_argument("--repos", nargs="*", help="owner/name of the repositories to run (default: all)")
    ap.add_argument("--cache", help="cache directory (default $TOKENLEAN_BENCH_CACHE or ~/.cache/...)")
    ap.add_argument("--git-root", help="folder holding <owner>+<name>.git clones (or the mirror layout)")
    ap.add_argument("--git-dir", action="append", help="OWNER/NAME=PATH of one repository's git dir")
    ap.add_argument("--workers", type=int, default=2, help="indexer worker processes (for missing indexes)")
    ap.add_argument("--out", type=Path, help="results JSON (default bench/retrieval/results/short-<fp>.json)")
    ap.add_argument(
        "--replay",
        action="store_true",
        help="rank metrics only, on the kept indexes (as replay.py): no checkout, baselines or snippets",
    )
    ap.add_argument(
        "--indexes",
        type=Path,
        help="with --replay: the folder of kept indexes (default: the current indexer's)",
    )
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)
    if args.replay:
        return replay_main(args)
    args.keep_indexes, args.incremental = True, False  # what Indexes reads

    def log(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    started = time.perf_counter()
    cache = cache_dir(args.cache)
    repos = load_repos(REPOS_FILE, args.repos)
    tasks = {t["id"]: t for ts in _load_tasks(cache, repos, "all", None).values() for t in ts}
    queries = load_queries(args.queries, args.kinds)
    fps = fingerprints()
    overrides = parse_overrides(args.git_dir)
    records: list[dict] = []
    for repo in repos:
        by_task: dict[str, list[dict]] = defaultdict(list)
        for q in queries:
            if q["task"].split("@")[0] == repo.slug:
                if q["task"] not in tasks:
                    raise SystemExit(f"{q['query']!r}: no task {q['task']} (run mine.py)")
                by_task[q["task"]].append(q)
        if not by_task:
            continue
        gdir = git_dir(repo, args.git_root, overrides)
        indexes = Indexes(cache, repo, fps[0], args)
        files = FileCache()
        for task_id in sorted(by_task, key=lambda i: (tasks[i]["time"], i)):
            task = tasks[task_id]
            indexes.snapshot.checkout(gdir, task["parent"])
            ws, temporary, _ = indexes.open(task, False)
            docs = files.docs(ws, indexes.tree)
            for q in by_task[task_id]:
                qt = query_task(task, q)
                methods = {**run_tokenlean(ws, qt), **run_baselines(docs, qt)}
                records.append(
                    {
                        "task": task_id,
                        "language": task["language"],
                        "kind": q["kind"],
                        "query": q["query"],
                        "gold_files": q["gold_files"],
                        "methods": methods,
                    }
                )
                log(
                    f"  {q['kind']:10} {q['query'][:40]:40} shape={methods['tokenlean']['shape']:10} "
                    + " ".join(f"{m}#{v['file_rank']}" for m, v in methods.items())
                )
            indexes.close(ws, temporary)
        indexes.shutdown()
    langs = by_language(records)
    kinds = {k: summarise([r for r in records if r["kind"] == k]) for k in KINDS}
    kinds = {k: v for k, v in kinds.items() if v}
    print(table(langs, f"short queries by language ({len(records)} queries)"))
    print()
    print(table(kinds, "short queries by kind", KINDS, "kind"))
    print()
    print(LEGEND)
    shapes = defaultdict(lambda: defaultdict(int))
    for r in records:
        shapes[r["kind"]][r["methods"]["tokenlean"]["shape"]] += 1
    print("\nquery shape (plan) by kind: " + "; ".join(f"{k}: {dict(v)}" for k, v in shapes.items()))
    out = args.out or RESULTS_DIR / f"short-{fps[1]}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = {"by_language": langs, "by_kind": kinds}
    out.write_text(json.dumps({"fingerprint": fps[1], "summary": summary, "queries": records}, indent=1))
    print(f"\n{len(records)} queries, {time.perf_counter() - started:.0f}s wall; results: {out}")
    return 0


def replay_main(args: argparse.Namespace) -> int:
    """Fused and each strategy alone, rank metrics only, on the kept indexes (as replay.py)."""
    from replay import metrics, ranked_places, task_ranks

    from tokenlean.indexers.catalog import open_store
    from tokenlean.tools.search import STRATEGIES

    cache = cache_dir(args.cache)
    repos = load_repos(REPOS_FILE, args.repos)
    tasks = {t["id"]: t for ts in _load_tasks(cache, repos, "all", None).values() for t in ts}
    queries = load_queries(args.queries, args.kinds)
    methods = {
        "tokenlean": list(STRATEGIES),
        **{f"tl:{n}": [n] for n in ("bm25", "symbol", "path", "vector")},
    }
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for q in queries:
        task = tasks[q["task"]]
        kept = args.indexes or cache / "task-indexes" / fingerprints()[0]
        where = kept / q["task"].split("@")[0] / task["parent"][:12]
        if not where.is_dir():
            raise SystemExit(f"no kept index for {task['id']}: run run.py --keep-indexes first")
        root = cache / "trees" / q["task"].split("@")[0]
        store = open_store(root, where)
        try:
            qt = query_task(task, q)
            for name, use in methods.items():
                ranks = task_ranks(ranked_places(store, root, q["query"], use), qt)
                for group in (task["language"], q["kind"], "all"):
                    groups[(group, name)].append(ranks)
        finally:
            store.close()
    for group in ("python", "js/ts", "go", "rust", *KINDS, "all"):
        for name in methods:
            if groups.get((group, name)):
                print(f"{group:10} {name:10} {metrics(groups[(group, name)])}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    raise SystemExit(main())
