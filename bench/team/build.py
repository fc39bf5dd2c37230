"""Index the synthetic team corpus into PostgreSQL through the real CLI, root by root, and time it.

    python -m bench.team.build [--chunks 1000000] [--minutes 60] [--parallel 2] [--fresh]

Runs `tokenlean index <root> --store <url> --vectors fast --json` (two at a time by default: indexers
of different roots run concurrently by design) until the target number of chunks is indexed or the
time budget is spent (no new root starts after it). Writes build.json next to the data.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from .corpus import make_copy
from .pg import home, start

CHUNKS_PER_COPY = 65_310  # measured: one copy of this Python's stdlib as tokenlean chunks it


def db_size(url: str) -> int:
    from tokenlean.indexers.pg_base import connect

    db = connect(url)
    try:
        return int(db.execute("SELECT pg_database_size(current_database())").fetchone()[0])
    finally:
        db.close()


def fresh(url: str) -> None:
    from tokenlean.indexers.pg_base import connect, migrate

    db = connect(url)
    db.execute("DROP SCHEMA IF EXISTS tokenlean CASCADE")
    db.close()
    migrate(url)


def index_root(url: str, root: Path, workers: int) -> dict:
    started = time.perf_counter()
    code = commit()
    out = subprocess.run(
        ["nice", "-n", "10", sys.executable, "-m", "tokenlean", "index", str(root), "--store", url,
         "--vectors", "fast", "--json", "-q", "--workers", str(workers), "--rebuild"],
        capture_output=True, text=True, check=False,
        env=dict(os.environ, TOKENLEAN_STORE=url),
    )  # fmt: skip
    if out.returncode:
        raise RuntimeError(f"indexing {root} failed: {out.stderr[-2000:]}")
    summary = json.loads(out.stdout)
    summary["commit"] = code
    summary["wall_seconds"] = time.perf_counter() - started
    return summary


def commit() -> str:
    """The code measured: HEAD, marked dirty when the store's files differ from it."""
    here = Path(__file__).resolve().parents[2]
    head = subprocess.run(
        ["git", "-C", str(here), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "-C", str(here), "status", "--porcelain", "indexers", "tools", "server"],
        capture_output=True,
        text=True,
    )
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunks", type=int, default=1_000_000, help="stop once this many chunks are indexed")
    ap.add_argument("--minutes", type=float, default=60.0, help="start no new root after this long")
    ap.add_argument("--parallel", type=int, default=2, help="roots indexed at once")
    ap.add_argument("--fresh", action="store_true", help="drop every tokenlean table first")
    ap.add_argument(
        "--add", action="store_true", help="keep the roots of build.json and add more (timed as an increment)"
    )
    args = ap.parse_args()
    url = start()
    if args.fresh:
        fresh(url)
    before = json.loads((home() / "build.json").read_text()) if args.add else {}
    previous: list[dict] = before.get("per_root", [])
    corpus = home() / "corpus"
    copies = -(-args.chunks // CHUNKS_PER_COPY)
    began = time.perf_counter()
    budget = began + args.minutes * 60
    results: list[dict] = []
    have = {r["root"] for r in previous}
    pending = iter([i for i in range(copies) if str(home() / "corpus" / f"repo_{i:02d}") not in have])
    workers = max(1, (os.cpu_count() or 2) // args.parallel)

    def job(i: int) -> dict:
        make_copy(i, corpus)  # ~5 s; counted in the wall time like any checkout would not be
        return index_root(url, corpus / f"repo_{i:02d}", workers)

    first = [i for i in (next(pending, None) for _ in range(args.parallel)) if i is not None]
    with ThreadPoolExecutor(args.parallel) as pool:
        running = {pool.submit(job, i) for i in first}
        while running:
            done = next(as_completed(running))
            running.remove(done)
            r = done.result()
            results.append(r)
            total = sum(x["chunks"] for x in results)
            print(
                f"{r['root']}: {r['chunks']:,} chunks in {r['wall_seconds']:.0f} s (vectors "
                f"{r['vectors']['seconds']:.0f} s); total {total:,} after "
                f"{time.perf_counter() - began:.0f} s",
                flush=True,
            )
            nxt = next(pending, None)
            if nxt is not None and time.perf_counter() < budget:
                running.add(pool.submit(job, nxt))
    wall = time.perf_counter() - began
    increment = {"roots": len(results), "chunks": sum(r["chunks"] for r in results), "wall_seconds": wall}
    increment["chunks_per_second"] = increment["chunks"] / wall
    results = previous + results
    chunks = sum(r["chunks"] for r in results)
    if previous:  # throughput stays the first (fresh) build's; each addition is its own increment
        wall = before["wall_seconds"]
        chunks_first = before.get("first_chunks", before["chunks"])
    else:
        chunks_first = chunks
    out = {
        "roots": [r["root"] for r in results],
        "files": sum(r["files"] for r in results),
        "chunks": chunks,
        "symbols": sum(r["symbols"] for r in results),
        "wall_seconds": wall,
        "chunks_per_second": chunks_first / wall,
        "first_chunks": chunks_first,
        "db_bytes": db_size(url),
        "parallel": args.parallel,
        "increments": [*before.get("increments", []), increment] if previous else [],
        "per_root": results,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (home() / "build.json").write_text(json.dumps(out, indent=1))
    print(json.dumps({k: v for k, v in out.items() if k != "per_root"}, indent=1))


if __name__ == "__main__":
    main()
