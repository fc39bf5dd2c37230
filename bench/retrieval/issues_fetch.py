"""Fetch the issue texts of issues.json (title and first post) into the cache, for issues.py.

    python bench/retrieval/issues_fetch.py                # every issue not cached yet
    GITHUB_TOKEN=... python bench/retrieval/issues_fetch.py --refetch

Reads `https://api.github.com/repos/{repo}/issues/{n}` with urllib (a `GITHUB_TOKEN` raises the rate
limit from 60 to 5,000 requests an hour) and writes `{"title": ..., "body": ...}` to
`<cache>/issues/<owner>+<name>-<n>.json`, the issue's own text, not its comments. Issues already
cached are skipped. Nothing fetched is committed (the README's rule for mined data).

This needs network access to api.github.com. It was not run where the set was built (offline): the
cached texts there were taken from a search index of public GitHub threads, where long issue bodies
are cut after about 1,500 characters, so texts fetched here can be longer.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from benchlib import HERE, cache_dir

ISSUES_FILE = HERE / "issues.json"
API = "https://api.github.com/repos/{repo}/issues/{n}"


def issue_path(cache: Path, repo: str, n: int) -> Path:
    return cache / "issues" / f"{repo.replace('/', '+')}-{n}.json"


def fetch(repo: str, n: int, token: str | None, timeout: float = 30) -> dict:
    request = urllib.request.Request(
        API.format(repo=repo, n=n),
        headers={
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "tokenlean-retrieval-bench",
            **({"Authorization": f"Bearer {token}"} if token else {}),
        },
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        data = json.load(response)
    if "pull_request" in data:
        raise ValueError(f"{repo}#{n} is a pull request, not an issue")
    return {"title": data["title"], "body": data.get("body") or ""}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--issues", type=Path, default=ISSUES_FILE)
    ap.add_argument("--cache", help="cache directory (default $TOKENLEAN_BENCH_CACHE or ~/.cache/...)")
    ap.add_argument("--refetch", action="store_true", help="fetch cached issues again")
    ap.add_argument("--delay", type=float, default=0.5, help="seconds between requests")
    args = ap.parse_args(argv)
    cache = cache_dir(args.cache)
    token = os.environ.get("GITHUB_TOKEN")
    entries = json.loads(args.issues.read_text())["issues"]
    fetched = skipped = 0
    for e in entries:
        path = issue_path(cache, e["repo"], e["issue"])
        if path.exists() and not args.refetch:
            skipped += 1
            continue
        try:
            text = fetch(e["repo"], e["issue"], token)
        except urllib.error.HTTPError as err:
            hint = " (rate limit: set GITHUB_TOKEN)" if err.code in (403, 429) else ""
            print(f"{e['repo']}#{e['issue']}: HTTP {err.code} {err.reason}{hint}", file=sys.stderr)
            return 1
        except (urllib.error.URLError, TimeoutError, OSError) as err:
            print(
                f"cannot reach api.github.com ({err}); this script needs network access. "
                f"{skipped} issue texts were already cached, {fetched} fetched now.",
                file=sys.stderr,
            )
            return 1
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(text, indent=1, ensure_ascii=False))
        fetched += 1
        time.sleep(args.delay)
    print(f"{fetched} fetched, {skipped} already cached, in {cache / 'issues'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
