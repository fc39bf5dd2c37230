"""Replay tokenlean's fused ranking on the kept indexes of a run, for tuning fusion in seconds.

    python bench/retrieval/replay.py --split dev                       # the current code
    python bench/retrieval/replay.py --split dev --set natural.path=0.3 --set K=20
    python bench/retrieval/replay.py --split dev --use bm25            # one strategy alone

Needs the indexes a `run.py --keep-indexes` run left (same indexer code). Only the ranking is
replayed: every strategy on the task's index, fusion, the file-kind prior and grouping into places,
as `search` does, without the working tree (no freshness checks, no snippets), so only the rank
metrics are given (file hit@k, MRR@10, function hit@k over the first 30 places). On unchanged code
it reproduces run.py's ranks; a change that does better here still has to be confirmed with run.py.
`--set` overrides a fusion weight (`shape.strategy=w`) or `K`; `--prior kind=factor` a natural-query
prior.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

from benchlib import FAMILIES, REPOS_FILE, cache_dir, load_repos
from run import RANK_PLACES, _load_tasks, _overlaps, fingerprints

from tokenlean.indexers.catalog import open_store
from tokenlean.tools import prior as P
from tokenlean.tools import search as S
from tokenlean.tools.query import plan


def ranked_places(store, root: Path, query: str, names: list[str]) -> list:
    """`search._places` for one root, without the checks against the disk."""
    qp = plan(query)
    fused = S._rank_root(store, qp, names)
    rows = store.chunks([cid for cid, _, _ in fused])
    scored = S.weigh(
        [(root, rows[cid], score, why) for cid, score, why in fused if cid in rows], qp, lambda _: store
    )
    scored.sort(key=lambda x: (-x[2], min(r for _, r in x[3]), str(x[0]), x[1].path, x[1].start_line))
    return S._group(scored, lambda _root, rel: rel)


def task_ranks(places: list, task: dict) -> tuple[int | None, int | None]:
    files: list[str] = []
    func_rank = None
    for i, h in enumerate(places[:RANK_PLACES], start=1):
        if h.rel not in files:
            files.append(h.rel)
        if func_rank is None and _overlaps(h.rel, h.start_line, h.end_line, task["gold_functions"]):
            func_rank = i
    gold = set(task["gold_files"])
    return next((i for i, f in enumerate(files, start=1) if f in gold), None), func_rank


def metrics(ranks: list[tuple[int | None, int | None]]) -> str:
    n = len(ranks)

    def share(at: int, k: int) -> float:
        return 100 * sum(1 for r in ranks if r[at] is not None and r[at] <= k) / n

    mrr = sum(1 / r[0] for r in ranks if r[0] is not None and r[0] <= 10) / n
    return (
        f"n={n:3} F@1 {share(0, 1):3.0f} F@5 {share(0, 5):3.0f} F@10 {share(0, 10):3.0f} "
        f"MRR {mrr:.2f} Fn@5 {share(1, 5):3.0f} Fn@10 {share(1, 10):3.0f}"
    )


def apply_overrides(sets: list[str], prior_sets: list[str]) -> None:
    for item in sets:
        key, value = item.split("=", 1)
        if key == "K":
            S.K = int(value)
        else:
            shape, strategy = key.split(".", 1)
            S.WEIGHTS[shape][strategy] = float(value)
    for item in prior_sets:
        kind, value = item.split("=", 1)
        P.PRIORS["natural"][kind] = float(value)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=("dev", "heldout", "all"), default="dev")
    ap.add_argument("--repos", nargs="*")
    ap.add_argument("--cache")
    ap.add_argument("--use", nargs="*", help="strategies (default: all, fused)")
    ap.add_argument("--set", action="append", default=[], help="shape.strategy=weight or K=k")
    ap.add_argument("--prior", action="append", default=[], help="kind=factor for natural queries")
    ap.add_argument("--indexes", type=Path, help="folder of kept indexes (default: the current indexer's)")
    args = ap.parse_args(argv)
    apply_overrides(args.set, args.prior)
    cache = cache_dir(args.cache)
    repos = load_repos(REPOS_FILE, args.repos)
    tasks = _load_tasks(cache, repos, args.split, None)
    kept = args.indexes or cache / "task-indexes" / fingerprints()[0]
    names = args.use or list(S.STRATEGIES)
    by_lang: dict[str, list] = defaultdict(list)
    for repo in repos:
        tree = cache / "trees" / repo.slug
        for task in tasks[repo.name]:
            where = kept / repo.slug / task["parent"][:12]
            if not where.is_dir():
                print(f"no kept index for {task['id']}: run run.py --keep-indexes first", file=sys.stderr)
                return 1
            store = open_store(tree, where)
            try:
                ranks = task_ranks(ranked_places(store, tree, task["query"], names), task)
            finally:
                store.close()
            by_lang[task["language"]].append(ranks)
            by_lang["all"].append(ranks)
    for lang in (*FAMILIES, "all"):
        if by_lang.get(lang):
            print(f"{lang:7} {metrics(by_lang[lang])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
