"""Do both store backends find the same code? The retrieval benchmark's tasks, searched over a SQLite
index and over the shared PostgreSQL store of the same tree.

    python bench/store_parity.py --store postgresql://... [--repos gin-gonic/gin ...] [--per-repo 10]

Uses the tasks `bench/retrieval/mine.py` wrote to its cache (read only) and the same search as
`bench/retrieval/run.py` (`run_tokenlean`), but its own working tree (in a temp dir), so it can run
beside the retrieval benchmark. Per task: check out the parent commit, build a fresh index in each
backend (SQLite in a temp dir; PostgreSQL with --rebuild of the tree's root), search, compare. Prints
file hit@5 and MRR@10 per backend and how many tasks ranked the gold file and function identically.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "retrieval"))

from benchlib import cache_dir, git_dir, load_repos
from run import Snapshot, _load_tasks, run_tokenlean

from tokenlean.indexers.indexer import Indexer, IndexOptions
from tokenlean.tools.workspace import Workspace, WorkspaceOptions

METHOD = "tokenlean"  # the fused search, as agents get it


def _search(tree: Path, location: Path | str, task: dict) -> tuple[dict, float]:
    started = time.perf_counter()
    Indexer(tree, location, IndexOptions(workers=2)).run(rebuild=True)
    seconds = time.perf_counter() - started
    ws = Workspace([tree], WorkspaceOptions(index_dir=location, refresh_seconds=1e9))
    try:
        return run_tokenlean(ws, task)[METHOD], seconds
    finally:
        ws.close()


def _metrics(ranks: list[int | None]) -> tuple[float, float]:
    n = len(ranks) or 1
    hit5 = sum(1 for r in ranks if r is not None and r <= 5) / n
    mrr = sum(1 / r for r in ranks if r is not None and r <= 10) / n
    return hit5, mrr


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True, help="postgresql:// URL of a migrated store")
    ap.add_argument("--repos", nargs="*", default=["gin-gonic/gin", "BurntSushi/ripgrep", "pallets/werkzeug"])
    ap.add_argument("--per-repo", type=int, default=10)
    ap.add_argument("--split", choices=("dev", "heldout", "all"), default="all")
    ap.add_argument("--cache", help="the retrieval benchmark's cache (its tasks are read, nothing written)")
    args = ap.parse_args(argv)
    cache = cache_dir(args.cache)
    repos = load_repos(only=args.repos)
    tasks = _load_tasks(cache, repos, args.split, args.per_repo)
    rows: list[tuple[str, dict, dict, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="tl-parity-") as tmp:
        for repo in repos:
            tree = Path(tmp) / "trees" / repo.slug
            snapshot = Snapshot(tree, Path(tmp) / f"{repo.slug}.git-index")
            for task in tasks[repo.name]:
                snapshot.checkout(git_dir(repo, None, {}), task["parent"])
                lite, lite_s = _search(tree, Path(tmp) / "sqlite" / task["id"].replace("/", "_"), task)
                pg, pg_s = _search(tree, args.store, task)
                rows.append((task["id"], lite, pg, lite_s, pg_s))
                print(
                    f"{task['id']:40} file#{lite['file_rank']}/{pg['file_rank']} "
                    f"func#{lite['func_rank']}/{pg['func_rank']}  index {lite_s:.1f}s/{pg_s:.1f}s",
                    flush=True,
                )
    print(f"\n{len(rows)} tasks of {', '.join(args.repos)}\n")
    print("| backend | file hit@5 | file MRR@10 | function hit@5 | index s (sum) |")
    print("|---|---|---|---|---|")
    for name, i in (("SQLite", 1), ("PostgreSQL", 2)):
        hit5, mrr = _metrics([r[i]["file_rank"] for r in rows])
        fhit5, _ = _metrics([r[i]["func_rank"] for r in rows])
        print(f"| {name} | {hit5:.1%} | {mrr:.3f} | {fhit5:.1%} | {sum(r[i + 2] for r in rows):.0f} |")
    same = sum(
        1 for r in rows if (r[1]["file_rank"], r[1]["func_rank"]) == (r[2]["file_rank"], r[2]["func_rank"])
    )
    same_top = sum(1 for r in rows if r[1]["top"] == r[2]["top"])
    print(f"\nsame gold ranks: {same}/{len(rows)}; identical top {len(rows[0][1]['top']) if rows else 0}: "
          f"{same_top}/{len(rows)}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
