"""Issue texts as queries: the same tasks searched with the GitHub issue their commit fixed.

    python bench/retrieval/issues_fetch.py          # once, with network: issue texts -> <cache>/issues/
    python bench/retrieval/issues.py                # as run.py: fused, each strategy, whole-file baselines
    python bench/retrieval/issues.py --replay       # rank metrics only, on the kept indexes, seconds
    python bench/retrieval/issues.py --batch 2      # only the entries of one batch (default: all)

`issues.json` lists, for some of the mined tasks, the real issue (a bug report or feature request,
written before the fix) that the task's commit fixed. The query is the issue's title and first post
(`title + "\\n\\n" + body`, as a search over a held-out set of issues would get it); corpus and gold
are the task's own (the parent commit; the gold files and functions of run.py). Each task is also
searched with its commit message, on the same index, so the two kinds of query are compared on the
same tasks. Tasks whose issue text is not cached are skipped (and counted). Tables per language go
to stdout (issue text, commit message, and both side by side), every task's ranks to
bench/retrieval/results/issues-<fingerprint>.json (issues-batch<N>-<fingerprint>.json with --batch N).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

from benchlib import FAMILIES, REPOS_FILE, RESULTS_DIR, cache_dir, git_dir, load_repos, parse_overrides
from issues_fetch import ISSUES_FILE, issue_path
from run import (
    LANGUAGES,
    LEGEND,
    FileCache,
    Indexes,
    _load_tasks,
    by_language,
    fingerprints,
    run_baselines,
    run_tokenlean,
    table,
)

KINDS = ("issue", "commit")
TL_NAMES = ("tokenlean", "tl:bm25", "tl:symbol", "tl:path", "tl:vector")
# A query tokenlean raised on: every strategy counts as a miss (nothing found, nothing read).
CRASHED = {
    "shape": "error",
    "file_rank": None,
    "func_rank": None,
    "resp_file": False,
    "resp_func": False,
    "tok_first": None,
    "window_tokens": 0,
    "resp_hits": 0,
    "resp_tokens": 0,
    "latency_ms": 0.0,
    "top": [],
}


def tokenlean_or_crash(ws, task: dict) -> tuple[dict, str | None]:
    """run.py's tokenlean methods, or misses and the error when search raises on the query."""
    try:
        return run_tokenlean(ws, task), None
    except Exception as exc:  # measured, not handled: the error is reported
        return {name: dict(CRASHED) for name in TL_NAMES}, f"{type(exc).__name__}: {exc}"


SIDE_COLUMNS = (("file@1", "F@1"), ("file@5", "F@5"), ("file@10", "F@10"), ("mrr@10", "MRR"))
SIDE_FN_COLUMNS = (("func@5", "Fn@5"), ("func@10", "Fn@10"))


def load_issue_tasks(
    cache: Path, repos: list, issues_file: Path, log, batch: int | None = None
) -> tuple[list[tuple[dict, dict, dict]], int]:
    """[(task, issue entry, {"title", "body"})] for every listed issue whose text is cached
    (only those of `batch` when given)."""
    tasks = {t["id"]: t for ts in _load_tasks(cache, repos, "all", None).values() for t in ts}
    names = {r.name for r in repos}
    out, missing = [], 0
    for e in json.loads(issues_file.read_text())["issues"]:
        if e["repo"] not in names or (batch is not None and e.get("batch") != batch):
            continue
        if e["task"] not in tasks:
            raise SystemExit(f"{e['repo']}#{e['issue']}: no task {e['task']} (run mine.py)")
        path = issue_path(cache, e["repo"], e["issue"])
        if not path.exists():
            missing += 1
            log(f"  no cached text for {e['repo']}#{e['issue']} (run issues_fetch.py)")
            continue
        out.append((tasks[e["task"]], e, json.loads(path.read_text())))
    return out, missing


def issue_query(text: dict) -> str:
    return f"{text['title']}\n\n{text.get('body') or ''}".strip()


def side_by_side(summaries: dict[str, dict], methods: list[str], title: str) -> str:
    """Markdown: per language and method, each metric as `issue / commit`."""
    cols = [*SIDE_COLUMNS, *SIDE_FN_COLUMNS]
    head = ["lang", "method", "n", *(c[1] for c in cols)]
    lines = [f"**{title}**", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    issue, commit = summaries["issue"], summaries["commit"]
    for lang in (*LANGUAGES, "all, no error"):
        for name in methods:
            a, b = issue.get(lang, {}).get(name), commit.get(lang, {}).get(name)
            if a is None or b is None:
                continue
            cells = [lang, name, str(a["n"])]
            for key, _ in cols:
                if a[key] is None:
                    cells.append("-")
                elif key.startswith("mrr"):
                    cells.append(f"{a[key]:.2f} / {b[key]:.2f}")
                else:
                    cells.append(f"{100 * a[key]:.0f} / {100 * b[key]:.0f}")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--issues", type=Path, default=ISSUES_FILE)
    ap.add_argument(
        "--batch",
        type=int,
        help="only the issues of this batch of issues.json (1: built first, looked at while tuning "
        "search; 2: built after, untouched); default: all",
    )
    ap.add_argument("--repos", nargs="*", help="owner/name of the repositories to run (default: all)")
    ap.add_argument("--cache", help="cache directory (default $TOKENLEAN_BENCH_CACHE or ~/.cache/...)")
    ap.add_argument("--git-root", help="folder holding <owner>+<name>.git clones (or the mirror layout)")
    ap.add_argument("--git-dir", action="append", help="OWNER/NAME=PATH of one repository's git dir")
    ap.add_argument("--workers", type=int, default=2, help="indexer worker processes (for missing indexes)")
    ap.add_argument(
        "--out", type=Path, help="results JSON (default bench/retrieval/results/issues-<fp>.json)"
    )
    ap.add_argument(
        "--replay",
        action="store_true",
        help="rank metrics only, on the kept indexes (as replay.py): no checkout, baselines or snippets",
    )
    ap.add_argument("--indexes", type=Path, help="with --replay: the folder of kept indexes")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    cache = cache_dir(args.cache)
    repos = load_repos(REPOS_FILE, args.repos)
    items, missing = load_issue_tasks(cache, repos, args.issues, log, args.batch)
    if not items:
        raise SystemExit(f"no cached issue texts under {cache / 'issues'}: run issues_fetch.py")
    if args.batch is not None:
        log(f"batch {args.batch}: {len(items)} tasks")
    if args.replay:
        return replay_main(args, cache, items, missing)
    args.keep_indexes, args.incremental = True, False  # what Indexes reads

    started = time.perf_counter()
    fps = fingerprints()
    overrides = parse_overrides(args.git_dir)
    records: list[dict] = []
    for repo in repos:
        mine = sorted(
            (i for i in items if i[0]["repo"] == repo.name), key=lambda i: (i[0]["time"], i[0]["id"])
        )
        if not mine:
            continue
        gdir = git_dir(repo, args.git_root, overrides)
        indexes = Indexes(cache, repo, fps[0], args)
        files = FileCache()
        for task, entry, text in mine:
            indexes.snapshot.checkout(gdir, task["parent"])
            ws, temporary, _ = indexes.open(task, False)
            docs = files.docs(ws, indexes.tree)
            queries = {"issue": issue_query(text), "commit": task["query"]}
            for kind, query in queries.items():
                qt = {**task, "query": query}
                tl, error = tokenlean_or_crash(ws, qt)
                methods = {**tl, **run_baselines(docs, qt)}
                records.append(
                    {
                        "task": task["id"],
                        "language": task["language"],
                        "split": task["split"],
                        "issue": entry["issue"],
                        "batch": entry.get("batch"),
                        "kind": kind,
                        "query_words": len(query.split()),
                        "error": error,
                        "gold_files": task["gold_files"],
                        "methods": methods,
                    }
                )
            log(
                f"  {task['id']} #{entry['issue']:<6} "
                + " ".join(
                    f"{m}#{r['methods'][m]['file_rank']}"
                    for r in records[-2:]
                    for m in ("tokenlean", "tl:bm25", "bm25-file")
                )
                + "  (issue | commit)"
            )
            indexes.close(ws, temporary)
        indexes.shutdown()
    crashed = sorted({r["task"] for r in records if r["error"]})
    summaries = {k: by_language([r for r in records if r["kind"] == k]) for k in KINDS}
    for k in KINDS:  # the same tasks without those tokenlean raised on (either query)
        summaries[k]["all, no error"] = by_language(
            [r for r in records if r["kind"] == k and r["task"] not in crashed]
        )["all"]
    n = len(records) // 2
    print(table(summaries["issue"], f"issue text as the query ({n} tasks)"))
    print()
    print(table(summaries["commit"], f"commit message as the query, same tasks ({n} tasks)"))
    print()
    methods = list(summaries["issue"]["all"])
    print(side_by_side(summaries, methods, "issue text / commit message"))
    print()
    print(LEGEND)
    for r in records:
        if r["error"]:
            print(f"\ntokenlean raised on the {r['kind']} query of {r['task']} (#{r['issue']}): {r['error']}")
    words = sorted(r["query_words"] for r in records if r["kind"] == "issue")
    cwords = sorted(r["query_words"] for r in records if r["kind"] == "commit")
    print(
        f"\n{n} tasks ({missing} listed issues without a cached text), "
        f"median query words: issue {words[len(words) // 2]}, commit {cwords[len(cwords) // 2]}; "
        f"{time.perf_counter() - started:.0f}s wall"
    )
    batch = "" if args.batch is None else f"batch{args.batch}-"
    out = args.out or RESULTS_DIR / f"issues-{batch}{fps[1]}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {"fingerprint": fps[1], "batch": args.batch, "summary": summaries, "tasks": records}, indent=1
        )
    )
    print(f"results: {out}")
    return 0


def replay_main(args: argparse.Namespace, cache: Path, items: list, missing: int) -> int:
    """Fused and each strategy alone, rank metrics only, on the kept indexes (as replay.py)."""
    from replay import metrics, ranked_places, task_ranks

    from tokenlean.indexers.catalog import open_store
    from tokenlean.tools.search import STRATEGIES

    methods = {
        "tokenlean": list(STRATEGIES),
        **{f"tl:{n}": [n] for n in ("bm25", "symbol", "path", "vector")},
    }
    kept = args.indexes or cache / "task-indexes" / fingerprints()[0]
    groups: dict[tuple[str, str, str], list] = defaultdict(list)
    errors: set[str] = set()
    for task, _entry, text in items:
        slug = task["id"].split("@")[0]
        where = kept / slug / task["parent"][:12]
        if not where.is_dir():
            raise SystemExit(f"no kept index for {task['id']}: run run.py --keep-indexes first")
        root = cache / "trees" / slug
        store = open_store(root, where)
        try:
            for kind, query in (("issue", issue_query(text)), ("commit", task["query"])):
                for name, use in methods.items():
                    try:
                        ranks = task_ranks(ranked_places(store, root, query, use), task)
                    except Exception as exc:  # a miss, reported
                        ranks = (None, None)
                        errors.add(f"{task['id']} ({kind}): {type(exc).__name__}: {exc}")
                    for group in (task["language"], "all"):
                        groups[(group, kind, name)].append(ranks)
        finally:
            store.close()
    which = "" if args.batch is None else f"batch {args.batch}: "
    print(
        f"{which}{len(items)} tasks ({missing} listed issues without a cached text); "
        "issue text | commit message"
    )
    for group in (*FAMILIES, "all"):
        for name in methods:
            if groups.get((group, "issue", name)):
                print(
                    f"{group:7} {name:10} {metrics(groups[(group, 'issue', name)])}"
                    f"  |  {metrics(groups[(group, 'commit', name)])[6:]}"
                )
    for e in sorted(errors):
        print(f"tokenlean raised (counted as a miss): {e}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    raise SystemExit(main())
