"""A synthetic team corpus generated from real code: copies of this Python's standard library, each a
distinct repository (root) with its own directory layout and identifiers.

Copy i (repo_00, repo_01, ...) is the stdlib's .py files (no site-packages, no __pycache__) with:
- paths under `src/<project>/`, and every directory name suffixed per copy for a third of them;
- about a third of the identifiers (4+ characters, not keywords or builtins) renamed consistently
  within the copy: `name` -> `name_<word>`, the word picked from a fixed vocabulary by a hash of
  (copy, name). Code stays real code (syntax, structure, docstrings, comments); the copies differ in
  names, paths and therefore in terms, symbols, hashes and embeddings.
Deterministic (no randomness beyond sha1 of the seed strings): the same command makes the same
bytes. Each copy is ~68K chunks when indexed (~1,790 files).
"""

from __future__ import annotations

import builtins
import hashlib
import keyword
import re
import sysconfig
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

WORDS = (
    "cache node item entry record buffer stream frame handle token batch chunk layer scope slot queue "
    "cursor shard region span ledger vault index block bucket packet signal event trace probe"
).split()
PROJECTS = (
    "atlas boreal cinder delta ember fjord granite harbor iris juniper kestrel lumen meridian nimbus onyx "
    "prairie quartz raven sierra tundra umber vesper willow xenon yarrow zephyr"
).split()
IDENT = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]{3,}\b")
KEEP = set(keyword.kwlist) | set(dir(builtins)) | {"self", "cls", "__init__", "__name__", "__main__"}


def _h(*parts: object) -> int:
    return int.from_bytes(hashlib.sha1("\0".join(map(str, parts)).encode()).digest()[:8], "big")


def stdlib_files() -> list[Path]:
    base = Path(sysconfig.get_paths()["stdlib"])
    return sorted(
        p
        for p in base.rglob("*.py")
        if "site-packages" not in p.parts and "__pycache__" not in p.parts and p.is_file()
    )


def project(i: int) -> str:
    return f"{PROJECTS[i % len(PROJECTS)]}{i // len(PROJECTS) or ''}"


def vary_path(i: int, rel: Path) -> str:
    parts = [
        d + f"_{WORDS[_h(i, 'dir', d) % len(WORDS)]}" if _h(i, "d", d) % 3 == 0 else d for d in rel.parts[:-1]
    ]
    return "/".join(["src", project(i), *parts, rel.name])


def vary_text(i: int, text: str, memo: dict[str, str]) -> str:
    def rename(m: re.Match) -> str:
        name = m.group(0)
        out = memo.get(name)
        if out is None:
            if name in KEEP or name.startswith("__") or _h(i, "n", name) % 3:
                out = name
            else:
                out = f"{name}_{WORDS[_h(i, 'w', name) % len(WORDS)]}"
            memo[name] = out
        return out

    return IDENT.sub(rename, text)


def make_copy(i: int, dest: Path) -> int:
    """Write copy i under dest/repo_<i>; returns the number of files (skips an already complete copy)."""
    base = Path(sysconfig.get_paths()["stdlib"])
    root = dest / f"repo_{i:02d}"
    done = root / ".complete"
    files = stdlib_files()
    if done.exists():
        return len(files)
    memo: dict[str, str] = {}
    for src in files:
        rel = src.relative_to(base)
        out = root / vary_path(i, rel)
        out.parent.mkdir(parents=True, exist_ok=True)
        text = src.read_bytes().decode("utf-8", errors="replace")
        out.write_text(vary_text(i, text, memo), encoding="utf-8")
    done.write_text("")
    return len(files)


def generate(dest: Path, copies: int, workers: int = 2) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(make_copy, range(copies), [dest] * copies))
    return [dest / f"repo_{i:02d}" for i in range(copies)]


if __name__ == "__main__":
    import sys

    from .pg import home

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    for root in generate(home() / "corpus", n):
        print(root)
