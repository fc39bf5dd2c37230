"""Mine retrieval tasks from real commits: the message is the query, the changed code is the answer.

For each repository in repos.json, commits between `since` and the pinned `head` are filtered
(non-merge; a cleaned message of at least 40 characters; 1-4 changed source files in the main
language that are not tests/docs/examples; fewer than 200 lines added and 200 removed in them; not a
release, version bump, dependency update, revert or formatting change). The gold answer is the set
of those files that exist at the parent commit, and the functions/methods (tokenlean's chunker, at
the parent) whose line range holds a changed line. A task needs at least one gold function.

A deterministic sample of N tasks per repository is drawn, spread over time: the candidates, in
commit order, are cut into N equal strata and one task is drawn from each with a seeded RNG.

    python bench/retrieval/mine.py [--per-repo 30] [--seed 0] [--repos owner/name ...]

Tasks go to <cache>/tasks/<owner>+<name>.json (cache: --cache, $TOKENLEAN_BENCH_CACHE or
~/.cache/tokenlean-bench/retrieval). Nothing here is committed: tasks are derived from the repos.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from benchlib import (
    REPOS_FILE,
    Repo,
    cache_dir,
    git,
    git_dir,
    in_family,
    is_aux,
    is_code,
    load_repos,
    parse_overrides,
    split_of,
)

from tokenlean.indexers.chunks import chunk_file
from tokenlean.indexers.languages import language_of

MINE_VERSION = 1
MIN_MESSAGE_CHARS = 40
MAX_SOURCE_FILES = 4
MAX_LINES = 200  # added, and removed, over the source files of a commit
GOLD_KINDS = frozenset({"function", "method"})

_TRAILER = re.compile(
    r"^\s*(?:signed-off-by|co-authored-by|reviewed-by|acked-by|tested-by|reported-by|suggested-by|"
    r"helped-by|requested-by|original-commit|cc|pr-url|change-id|reviewed-on|backport-of|"
    r"release-notes?)\s*:",
    re.IGNORECASE,
)
# A line that only points at issues/PRs ("Fixes #12", "Closes: owner/repo#3", "Refs: <url>").
_REF_ONLY = re.compile(
    r"\s*(?:(?:fix(?:es|ed)?|close[sd]?|resolve[sd]?|refs?|see|related(?: to)?|part of|issues?|pr)"
    r"\s*:?\s*)?[\s,.]*",
    re.IGNORECASE,
)
_URL = re.compile(r"(?:https?://|www\.)\S+")
_REF = re.compile(r"\(\s*(?:[\w.-]+/[\w.-]+)?#\d+\s*\)|(?:\b[\w.-]+/[\w.-]+)?#\d+\b|\bGH-\d+\b")
_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|={3,}|\[skip ci\]|\[ci skip\])\s*$", re.IGNORECASE)
_SKIP_SUBJECT = re.compile(
    r"^(?:release|releasing|bump|prepare|preparing|version|changelog|update changelog|merge|revert|"
    r"back ?port|cherry.pick|\[automated\]|\[pre-commit|\[bot\]|dependabot|renovate)\b"
    r"|^v?\d+\.\d+(?:\.\d+)?\b"
    r"|^[\w.-]+[- ]v?\d+\.\d+\.\d+\s*$"
    r"|^(?:docs?|tests?|ci|build|style|deps|chore\((?:deps|release|ci)[^)]*\)|release)(?:\([^)]*\))?!?:"
    r"|\b(?:typos?|spelling|misspell\w*|rustfmt|gofmt|cargo fmt|go fmt|reformat\w*|formatting|"
    r"prettier|clippy|run black|apply black|ruff format|pre-commit autoupdate|bump version|"
    r"update dependenc\w+|upgrade dependenc\w+)\b",
    re.IGNORECASE,
)


def clean_message(message: str) -> str:
    """Subject and body without trailers, issue references, URLs and separator lines."""
    out: list[str] = []
    for i, raw in enumerate(message.replace("\r\n", "\n").split("\n")):
        if i > 0 and (_TRAILER.match(raw) or _RULE.match(raw)):
            continue
        line = _REF.sub(" ", _URL.sub(" ", raw))
        if i > 0 and line != raw and _REF_ONLY.fullmatch(line):
            continue  # the line only pointed at an issue or a URL
        line = re.sub(r"\(\s*\)", " ", line)
        out.append(" ".join(line.split()))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


@dataclass
class Commit:
    sha: str
    parents: list[str]
    time: int
    files: list[tuple[int | None, int | None, str]] = field(default_factory=list)  # added, removed, path
    message: str = ""


def list_commits(gdir: Path, repo: Repo) -> list[Commit]:
    log = git(
        gdir, "-c", "core.quotepath=off", "log", "--no-merges", "--no-renames", f"--since={repo.since}",
        "--format=%x1e%H %P%x1f%ct", "--numstat", repo.head,
    ).decode("utf-8", errors="replace")  # fmt: skip
    commits: dict[str, Commit] = {}
    for block in log.split("\x1e")[1:]:
        head, _, rest = block.partition("\n")
        ids, _, ct = head.partition("\x1f")
        sha, *parents = ids.split()
        c = Commit(sha, parents, int(ct))
        for line in rest.splitlines():
            parts = line.split("\t")
            if len(parts) == 3:
                a, d, path = parts
                c.files.append((int(a) if a.isdigit() else None, int(d) if d.isdigit() else None, path))
        commits[sha] = c
    messages = git(
        gdir, "log", "--no-merges", f"--since={repo.since}", "--format=%x1e%H%x1f%B", repo.head
    ).decode("utf-8", errors="replace")
    for block in messages.split("\x1e")[1:]:
        sha, _, body = block.partition("\x1f")
        if sha in commits:
            commits[sha].message = body.strip()
    return sorted(commits.values(), key=lambda c: (c.time, c.sha))


def cheap_filter(c: Commit, family: str, stats: Counter) -> tuple[str, list[str]] | None:
    """(query, source files) for a commit worth a closer look, else None (with the reason counted)."""
    if len(c.parents) != 1:
        stats["root or merge"] += 1
        return None
    subject = c.message.split("\n", 1)[0].strip()
    if _SKIP_SUBJECT.search(subject):
        stats["release/deps/docs/test/format subject"] += 1
        return None
    query = clean_message(c.message)
    if len(query) < MIN_MESSAGE_CHARS:
        stats["message < 40 chars"] += 1
        return None
    source = [(a, d, p) for a, d, p in c.files if is_code(p) and not is_aux(p)]
    if any(not in_family(p, family) for _, _, p in source):
        stats["other-language source"] += 1
        return None
    if not 1 <= len(source) <= MAX_SOURCE_FILES:
        stats[f"source files not 1-{MAX_SOURCE_FILES}"] += 1
        return None
    if any(a is None or d is None for a, d, _ in source):
        stats["binary"] += 1
        return None
    if sum(a for a, _, _ in source) >= MAX_LINES or sum(d for _, d, _ in source) >= MAX_LINES:
        stats[f"change >= {MAX_LINES} lines"] += 1
        return None
    return query, [p for _, _, p in source]


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def parse_hunks(diff: str) -> dict[str, list[tuple[int, int, int, int]]]:
    """Per file (new path; only files present on both sides), its hunks as (a, b, c, d) of
    `@@ -a,b +c,d @@`."""
    out: dict[str, list[tuple[int, int, int, int]]] = {}
    old = new = None
    current: list | None = None
    for line in diff.split("\n"):
        if line.startswith("diff --git "):
            old = new = current = None
        elif line.startswith("--- "):
            old = None if line[4:] == "/dev/null" else line[6:]
        elif line.startswith("+++ "):
            new = None if line[4:] == "/dev/null" else line[6:]
            current = out.setdefault(new, []) if old and new else None
        elif current is not None and (m := _HUNK.match(line)):
            a, b, c, d = m.groups()
            current.append((int(a), 1 if b is None else int(b), int(c), 1 if d is None else int(d)))
    return out


def _is_test_symbol(name: str, parent: str) -> bool:
    parts = {p.lower() for p in parent.split(".") if p}
    return bool(parts & {"test", "tests"}) or name.lower().startswith("test_")


def _functions(text: str, path: str) -> list:
    syms = chunk_file(text, language_of(path)).symbols
    return [s for s in syms if s.kind in GOLD_KINDS and not _is_test_symbol(s.name, s.parent)]


def gold(gdir: Path, c: Commit, files: list[str], stats: Counter) -> dict | None:
    parent = c.parents[0]
    significant = git(
        gdir, "diff", "-w", "--ignore-blank-lines", "-U0", "--no-renames", parent, c.sha, "--", *files
    )
    if b"\n@@ " not in b"\n" + significant:
        stats["whitespace-only change"] += 1
        return None
    diff = git(
        gdir,
        "-c",
        "core.quotepath=off",
        "diff",
        "-U0",
        "--no-renames",
        "--no-color",
        parent,
        c.sha,
        "--",
        *files,
    )
    hunks = parse_hunks(diff.decode("utf-8", errors="replace"))
    gold_files = [p for p in files if p in hunks]
    if not gold_files:
        stats["no source file present at the parent"] += 1
        return None
    functions: list[dict] = []
    changed: dict[str, list[int]] = {}
    for path in gold_files:
        before = git(gdir, "show", f"{parent}:{path}").decode("utf-8", errors="replace")
        after = git(gdir, "show", f"{c.sha}:{path}").decode("utf-8", errors="replace")
        old_fns = _functions(before, path)
        new_fns = _functions(after, path)
        by_name: dict[tuple[str, str], list] = {}
        for f in old_fns:
            by_name.setdefault((f.parent, f.name), []).append(f)
        lines: set[int] = set()
        inserts: list[int] = []  # insertion after old line a (between a and a+1)
        added: set[int] = set()
        for a, b, cc, d in hunks[path]:
            if b > 0:
                lines.update(range(a, a + b))
            else:
                inserts.append(a)
            if d > 0:
                added.update(range(cc, cc + d))
        hit = set()
        for i, f in enumerate(old_fns):
            if any(f.start_line <= ln <= f.end_line for ln in lines) or any(
                f.start_line <= a and a + 1 <= f.end_line for a in inserts
            ):
                hit.add(i)
        # Lines added inside a function that exists at the parent under the same qualified name
        # (a statement appended to a Python function ends after its last line at the parent).
        for f in new_fns:
            if any(f.start_line <= ln <= f.end_line for ln in added):
                same = by_name.get((f.parent, f.name), [])
                if len(same) == 1:
                    hit.add(old_fns.index(same[0]))
        for i in sorted(hit):
            f = old_fns[i]
            functions.append(
                {
                    "path": path,
                    "symbol": f"{f.parent}.{f.name}" if f.parent else f.name,
                    "kind": f.kind,
                    "start_line": f.start_line,
                    "end_line": f.end_line,
                }
            )
        changed[path] = sorted(lines | set(inserts))
    if not functions:
        stats["no gold function"] += 1
        return None
    return {"gold_files": gold_files, "gold_functions": functions, "changed_lines": changed}


def mine_repo(repo: Repo, gdir: Path, per_repo: int, seed: int) -> dict:
    if not git(gdir, "cat-file", "-t", repo.head, check=False).startswith(b"commit"):
        raise SystemExit(f"{repo.name}: pinned head {repo.head} is not in {gdir}; fetch a newer copy")
    stats: Counter = Counter()
    commits = list_commits(gdir, repo)
    candidates = []
    for c in commits:
        found = cheap_filter(c, repo.language, stats)
        if found:
            candidates.append((c, *found))
    stats["candidates after cheap filters"] = len(candidates)
    rng = random.Random(f"{seed}:{repo.name}")
    n = len(candidates)
    strata = [candidates[i * n // per_repo : (i + 1) * n // per_repo] for i in range(per_repo)] if n else []
    tried: set[str] = set()
    tasks: list[dict] = []

    def attempt(c: Commit, query: str, files: list[str]) -> bool:
        tried.add(c.sha)
        g = gold(gdir, c, files, stats)
        if g is None:
            return False
        tasks.append(
            {
                "id": f"{repo.slug}@{c.sha[:12]}",
                "repo": repo.name,
                "language": repo.language,
                "commit": c.sha,
                "parent": c.parents[0],
                "time": c.time,
                "date": time.strftime("%Y-%m-%d", time.gmtime(c.time)),
                "split": split_of(c.sha),
                "query": query,
                "source_files": files,
                **g,
            }
        )
        return True

    for stratum in strata:
        order = stratum[:]
        rng.shuffle(order)
        for c, query, files in order:
            if attempt(c, query, files):
                break
    if len(tasks) < per_repo:  # strata without a usable commit: fill from what was not tried
        rest = [x for x in candidates if x[0].sha not in tried]
        rng.shuffle(rest)
        for c, query, files in rest:
            if len(tasks) >= per_repo:
                break
            attempt(c, query, files)
    tasks.sort(key=lambda t: (t["time"], t["commit"]))
    return {
        "version": MINE_VERSION,
        "repo": repo.name,
        "language": repo.language,
        "head": repo.head,
        "since": repo.since,
        "seed": seed,
        "per_repo": per_repo,
        "commits": len(commits),
        "filter_stats": dict(stats),
        "tasks": tasks,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repos", nargs="*", help="owner/name of the repositories to mine (default: all)")
    ap.add_argument("--repos-file", type=Path, default=REPOS_FILE)
    ap.add_argument("--per-repo", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", help="cache directory (default $TOKENLEAN_BENCH_CACHE or ~/.cache/...)")
    ap.add_argument("--git-root", help="folder holding <owner>+<name>.git clones (or the mirror layout)")
    ap.add_argument("--git-dir", action="append", help="OWNER/NAME=PATH of one repository's git dir")
    args = ap.parse_args(argv)
    out_dir = cache_dir(args.cache) / "tasks"
    out_dir.mkdir(parents=True, exist_ok=True)
    overrides = parse_overrides(args.git_dir)
    total: Counter = Counter()
    for repo in load_repos(args.repos_file, args.repos):
        started = time.perf_counter()
        gdir = git_dir(repo, args.git_root, overrides)
        result = mine_repo(repo, gdir, args.per_repo, args.seed)
        path = out_dir / f"{repo.slug}.json"
        path.write_text(json.dumps(result, indent=1))
        tasks = result["tasks"]
        total[repo.language] += len(tasks)
        splits = Counter(t["split"] for t in tasks)
        span = f"{tasks[0]['date']}..{tasks[-1]['date']}" if tasks else "-"
        print(
            f"{repo.name:22} {len(tasks):3} tasks ({splits['dev']} dev, {splits['heldout']} held-out) "
            f"{span} from {result['filter_stats'].get('candidates after cheap filters', 0)} candidates / "
            f"{result['commits']} commits  {time.perf_counter() - started:.1f}s",
            file=sys.stderr,
        )
    print("tasks per language: " + ", ".join(f"{k} {v}" for k, v in total.items()), file=sys.stderr)
    print(f"written to {out_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
