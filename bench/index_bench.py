"""Index and query benchmark on the reference corpus: the running Python's standard library.

    python bench/index_bench.py [--corpus DIR] [--workers N] [--repeat R]

Copies the corpus (stdlib without site-packages) to a temp dir, then measures: cold index,
unchanged re-run, one-file change, index size, peak RSS, and warm query latency per strategy
(store ranking alone) and end to end (search + snippets + rendering), over a fixed query set.
Prints a table; `--json` prints the figures for the README.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sysconfig
import tempfile
import time
from pathlib import Path

QUERIES = {
    "identifier": [
        "urlparse",
        "ThreadPoolExecutor",
        "SequenceMatcher.get_matching_blocks",
        "JSONDecoder.raw_decode",
        "getaddrinfo",
        "make_archive",
        "OrderedDict.move_to_end",
        "TextIOWrapper",
        "iscoroutinefunction",
        "shlex.split",
        "ArgumentParser.add_argument",
        "heappush",
    ],
    "path": [
        "asyncio/tasks.py",
        "json/decoder.py",
        "email/parser.py",
        "http/client.py",
        "logging/handlers.py",
        "concurrent/futures/process.py",
        "unittest/mock.py",
        "xml/etree/ElementTree.py",
    ],
    "natural": [
        "parse a date string into a datetime object",
        "compress data with zlib and write a gzip file",
        "retry when the connection is reset by peer",
        "how are HTTP chunked transfer encodings decoded",
        "split a command line into arguments respecting quotes",
        "find the longest matching block between two sequences",
        "send an email with an attachment over SMTP",
        "walk a directory tree and copy files preserving metadata",
        "context manager that temporarily changes the working directory",
        "thread pool that runs callables and returns futures",
    ],
}


def stdlib() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def copy_corpus(src: Path, dst: Path) -> None:
    shutil.copytree(
        src, dst, ignore=shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc"), symlinks=True
    )


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=None, help="folder to index (default: the stdlib)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeat", type=int, default=5, help="timed runs of each query")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from tokenlean.indexers.catalog import open_store
    from tokenlean.indexers.indexer import Indexer, IndexOptions
    from tokenlean.tools import render, strategies
    from tokenlean.tools.query import plan
    from tokenlean.tools.search import search
    from tokenlean.tools.workspace import Workspace, WorkspaceOptions

    work = Path(tempfile.mkdtemp(prefix="tokenlean-bench-"))
    corpus = work / "corpus"
    copy_corpus(args.corpus or stdlib(), corpus)
    files = sum(1 for p in corpus.rglob("*.py"))
    lines = sum(p.read_bytes().count(b"\n") for p in corpus.rglob("*.py"))
    index_dir = work / "index"
    options = IndexOptions(workers=args.workers)
    figures: dict[str, object] = {"corpus": str(args.corpus or stdlib()), "py_files": files}
    figures["py_lines"] = lines

    t = time.perf_counter()
    cold = Indexer(corpus, index_dir, options).run()
    figures["cold_s"] = time.perf_counter() - t
    figures.update(files=cold.files, chunks=cold.chunks, symbols=cold.symbols)
    vec = cold.vectors
    figures["vectors_s"] = vec.seconds if vec else 0.0
    figures["vectors"] = f"{vec.profile} {vec.model} {vec.embedded:,}" if vec else "none"
    figures["lexical_s"] = figures["cold_s"] - figures["vectors_s"]
    figures["chunks_per_s"] = cold.chunks / figures["lexical_s"]
    figures["index_mb"] = cold.index_bytes / 1e6
    figures["index_peak_rss_mb"] = peak_rss_mb()

    t = time.perf_counter()
    warm = Indexer(corpus, index_dir, options).run()
    figures["unchanged_s"] = time.perf_counter() - t
    assert warm.changed == 0, warm

    target = corpus / "argparse.py"
    target.write_text(target.read_text() + "\n\ndef bench_added_function():\n    return 42\n")
    t = time.perf_counter()
    one = Indexer(corpus, index_dir, options).run()
    figures["one_file_s"] = time.perf_counter() - t
    assert one.updated == 1, one

    store = open_store(corpus, index_dir)
    ws = Workspace([corpus], WorkspaceOptions(index_dir=index_dir, refresh_seconds=3600))
    ws.refresh(corpus)
    latency: dict[str, list[float]] = {}
    for shape, queries in QUERIES.items():
        for q in queries:
            qp = plan(q)
            for name, fn in (
                ("bm25", strategies.lexical),
                ("symbol", strategies.symbols),
                ("path", strategies.paths),
                ("vector", strategies.vectors),
            ):
                fn(store, qp, 100)  # warm caches
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    fn(store, qp, 100)
                    latency.setdefault(f"{name}", []).append((time.perf_counter() - t) * 1000)
            search(ws, q)
            for _ in range(args.repeat):
                t = time.perf_counter()
                result = search(ws, q)
                text = render.search_text(result)
                latency.setdefault(f"fused:{shape}", []).append((time.perf_counter() - t) * 1000)
                latency.setdefault("fused:all", []).append((time.perf_counter() - t) * 1000)
            figures.setdefault("response_tokens", []).append(result.tokens)
            figures.setdefault("baseline_tokens", []).append(result.baseline_tokens)
            assert len(text) > 0
    figures["latency_ms"] = {
        k: {"p50": statistics.median(v), "p95": pct(v, 0.95), "n": len(v)} for k, v in latency.items()
    }
    figures["peak_rss_mb"] = peak_rss_mb()
    resp = figures.pop("response_tokens")
    base = figures.pop("baseline_tokens")
    figures["response_tokens_median"] = statistics.median(resp)
    figures["response_tokens_max"] = max(resp)
    figures["whole_files_tokens_median"] = statistics.median(base)
    store.close()
    ws.close()
    shutil.rmtree(work, ignore_errors=True)

    if args.json:
        print(json.dumps(figures, indent=1))
        return
    print(
        f"corpus: {figures['corpus']} ({files:,} .py files, {lines:,} lines; "
        f"{figures['files']:,} files indexed)"
    )
    print(f"{'measure':<34}{'value':>14}")
    rows = [
        ("cold index, lexical (s)", f"{figures['lexical_s']:.1f}"),
        ("embeddings (s)", f"{figures['vectors_s']:.1f} ({figures['vectors']})"),
        ("chunks / symbols", f"{figures['chunks']:,} / {figures['symbols']:,}"),
        ("chunks per second", f"{figures['chunks_per_s']:,.0f}"),
        ("unchanged re-run (s)", f"{figures['unchanged_s']:.2f}"),
        ("one file changed (s)", f"{figures['one_file_s']:.2f}"),
        ("index size (MB)", f"{figures['index_mb']:.1f}"),
        ("peak RSS while indexing (MB)", f"{figures['index_peak_rss_mb']:.0f}"),
        ("peak RSS overall (MB)", f"{figures['peak_rss_mb']:.0f}"),
        (
            "response tokens median / max",
            f"{figures['response_tokens_median']:.0f} / {figures['response_tokens_max']}",
        ),
        ("whole files behind hits (median)", f"{figures['whole_files_tokens_median']:,.0f}"),
    ]
    for k, v in figures["latency_ms"].items():
        rows.append((f"query {k} p50 / p95 (ms)", f"{v['p50']:.1f} / {v['p95']:.1f}"))
    for name, value in rows:
        print(f"{name:<34}{value:>14}")


if __name__ == "__main__":
    main()
