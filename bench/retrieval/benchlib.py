"""Shared pieces of the retrieval benchmark: repositories, git access, cache layout, file classes."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tokenlean.indexers.languages import language_of

HERE = Path(__file__).resolve().parent
REPOS_FILE = HERE / "repos.json"
RESULTS_DIR = HERE / "results"
ENV_CACHE = "TOKENLEAN_BENCH_CACHE"
ENV_GIT_ROOT = "TOKENLEAN_BENCH_GIT_ROOT"
DEFAULT_GIT_ROOT = "/work/.mirror"  # where the fetch tool puts <owner>+<name>/repo

# Main language family of a repository -> the tokenlean language names that belong to it.
FAMILIES: dict[str, frozenset[str]] = {
    "python": frozenset({"python"}),
    "js/ts": frozenset({"javascript", "typescript", "tsx"}),
    "go": frozenset({"go"}),
    "rust": frozenset({"rust"}),
}
# Languages that count as program source (anything else is docs, data or configuration).
CODE_LANGUAGES = frozenset(
    {
        "python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp", "ruby", "php",
        "kotlin", "swift", "scala", "csharp", "lua", "elixir", "haskell", "ocaml", "zig", "dart",
    }
)  # fmt: skip
# Directories whose files are tests, docs, examples, benchmarks, tooling or vendored code.
AUX_DIRS = frozenset(
    {
        "__tests__", "__mocks__", "spec", "specs", "e2e", "testdata", "fixtures", "__fixtures__",
        "__snapshots__", "bench", "benches", "benchmark", "benchmarks", "example", "examples", "doc",
        "docs", "script", "scripts", ".github", "fuzz", "vendor", "third_party", "playground",
    }
)  # fmt: skip
_TEST_DIR = re.compile(r"(?:^|[-_.])tests?(?:$|[-_.])|^testing$")
_TEST_FILE = re.compile(r"^(?:test_.*|.*_test|.*[._-](?:test|spec)s?|conftest)\.\w+$")


@dataclass(frozen=True)
class Repo:
    name: str  # owner/name on GitHub
    language: str  # a key of FAMILIES
    head: str  # pinned newest commit
    since: str  # oldest commit date mined (YYYY-MM-DD)

    @property
    def slug(self) -> str:
        return self.name.replace("/", "+")

    @property
    def url(self) -> str:
        return f"https://github.com/{self.name}.git"


def load_repos(path: Path = REPOS_FILE, only: list[str] | None = None) -> list[Repo]:
    data = json.loads(path.read_text())
    repos = [Repo(r["name"], r["language"], r["head"], r["since"]) for r in data["repos"]]
    if only:
        wanted = {o.lower() for o in only}
        repos = [r for r in repos if r.name.lower() in wanted or r.slug.lower() in wanted]
        missing = wanted - {r.name.lower() for r in repos} - {r.slug.lower() for r in repos}
        if missing:
            raise SystemExit(f"unknown repositories: {', '.join(sorted(missing))} (see {path})")
    return repos


def cache_dir(arg: str | None = None) -> Path:
    """Where tasks, snapshots, indexes and per-task results are kept (never inside the repository)."""
    raw = arg or os.environ.get(ENV_CACHE) or str(Path.home() / ".cache" / "tokenlean-bench" / "retrieval")
    path = Path(raw).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def git_dir(repo: Repo, git_root: str | None, overrides: dict[str, str]) -> Path:
    """The git directory of a repository: an explicit override, else `<root>/<owner>+<name>/repo`
    (the layout of the mirror tool) or `<root>/<owner>+<name>.git` (a `git clone --bare`)."""
    if repo.name in overrides:
        return Path(overrides[repo.name])
    root = git_root_dir(git_root)
    for candidate in (root / repo.slug / "repo", root / f"{repo.slug}.git", root / repo.slug):
        if (candidate / "objects").is_dir() or (candidate / ".git").exists():
            return candidate
    raise SystemExit(
        f"no git directory for {repo.name} under {root}: run `git clone --bare {repo.url} "
        f"{root / (repo.slug + '.git')}` or pass --git-dir {repo.name}=PATH"
    )


def git_root_dir(git_root: str | None = None) -> Path:
    """The folder holding the repositories' git directories: the one given, else $TOKENLEAN_BENCH_GIT_ROOT,
    else DEFAULT_GIT_ROOT."""
    return Path(git_root or os.environ.get(ENV_GIT_ROOT) or DEFAULT_GIT_ROOT)


def parse_overrides(items: list[str] | None) -> dict[str, str]:
    out = {}
    for item in items or []:
        name, sep, path = item.partition("=")
        if not sep:
            raise SystemExit(f"--git-dir wants OWNER/NAME=PATH, got {item!r}")
        out[name] = path
    return out


def git(
    gdir: Path, *args: str, check: bool = True, env: dict[str, str] | None = None, stdin: bytes | None = None
) -> bytes:
    full_env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C", **(env or {})}
    proc = subprocess.run(["git", f"--git-dir={gdir}", *args], input=stdin, capture_output=True, env=full_env)
    if check and proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args[:4])} failed: {proc.stderr.decode(errors='replace')[:500]}")
    return proc.stdout


def is_aux(path: str) -> bool:
    """Tests, docs, examples, benchmarks, scripts, vendored code: not the source a fix belongs in."""
    parts = path.lower().split("/")
    for part in parts[:-1]:
        if part in AUX_DIRS or _TEST_DIR.search(part):
            return True
    return bool(_TEST_FILE.match(parts[-1]))


def is_code(path: str) -> bool:
    return language_of(path) in CODE_LANGUAGES


def in_family(path: str, family: str) -> bool:
    return language_of(path) in FAMILIES[family]


def split_of(commit: str) -> str:
    """dev or heldout, by a hash of the commit id (stable, about half each)."""
    return "dev" if int(hashlib.sha256(commit.encode()).hexdigest()[:8], 16) % 2 == 0 else "heldout"
