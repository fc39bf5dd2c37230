"""Query latency of the shared index: lexical, vector and fused search at 1, 8 and 32 concurrent clients
spread across two server processes, on PostgreSQL (and, for context, on SQLite).

    python -m bench.team.run [--seconds 20] [--clients 1,8,32] [--sqlite]

- fused: real MCP clients (one session each, streamable HTTP on 127.0.0.1, bearer token) calling the
  `search` tool of two `tokenlean serve --transport http --store <url>` processes, client i on
  server i % 2. Every server serves one root (a repository of the corpus; the two serve different
  roots), so a query searches one repository's namespace in the whole shared database.
- lexical (bm25 alone) and vector alone: the MCP `search` tool has no strategy argument, so these run
  the same `tools.search.search(..., use=[strategy])` in two worker processes (standing in for the
  two servers; threads as clients), without the MCP/HTTP layer. `fused-inproc` does the same with
  every strategy, so the MCP/HTTP overhead can be read off against `fused`.
- fused-span: as fused, but both servers serve the first --span roots of the build (4) and every
  search ranks all of them (one namespace each, merged): a search across a team's repositories.
Each level runs for --seconds after one warm-up pass over the queries; bounded in clients (<= 64)
and time. Writes results/run-<time>.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from .pg import home, start

# Questions a developer might ask of a Python code base (the corpus is the stdlib, renamed per copy),
# natural text and identifiers mixed as agents send them.
QUERIES = [
    "parse the headers of an HTTP response",
    "compress data with zlib and write a gzip file",
    "decode JSON and report the line of a syntax error",
    "shut down a thread pool executor and wait for pending futures",
    "read rows from a CSV file with a dialect",
    "add an attachment to an email message",
    "open a URL with a timeout and follow redirects",
    "extract members of a tar archive safely",
    "rotate log files when they grow too large",
    "commit a sqlite3 transaction",
    "verify a server certificate in an SSL context",
    "run the asyncio event loop until a future completes",
    "match paths against a glob pattern",
    "convert a datetime between time zones",
    "communicate with a subprocess through pipes",
    "pick random elements with weights",
    "merge several sorted iterables lazily",
    "base64 decode with validation",
    "patch an object in a unit test with a mock",
    "argparse subcommands with their own help",
    "ThreadPoolExecutor",
    "urlsplit",
    "HTTPConnection request",
    "getaddrinfo",
    "SequenceMatcher ratio",
    "Decimal quantize rounding",
    "shutil copytree ignore",
    "tokenize generate_tokens",
    "pickle protocol dumps loads",
    "weakref finalize callback",
]
TOKEN = "team-bench-token"
MODES = ("lexical", "vector", "fused-inproc", "fused", "fused-span")
USE = {"lexical": ["bm25"], "vector": ["vector"], "fused-inproc": None}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- in-process drivers (one process per "server", threads as clients)


def inproc(root: str, location: str, use: list[str] | None, threads: int, seconds: float, seed: int) -> dict:
    from tokenlean.tools.search import search
    from tokenlean.tools.workspace import Workspace, WorkspaceOptions

    ws = Workspace([Path(root)], WorkspaceOptions(index_dir=location, refresh_seconds=3600, auto_index=False))
    for q in QUERIES:  # warm-up: connections, the embedding model, caches
        search(ws, q, use=use)
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds

    def client(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        while time.monotonic() < deadline:
            q = rng.choice(QUERIES)
            started = time.perf_counter()
            try:
                search(ws, q, use=use)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
            latencies.append((time.perf_counter() - started) * 1000)

    began = time.perf_counter()
    pool = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - began
    ws.close()
    return {"latencies": latencies, "errors": errors, "wall": wall}


def run_inproc(roots: list[str], location: str, mode: str, clients: int, seconds: float) -> dict:
    shares = [clients // 2 + clients % 2, clients // 2]  # client i on "server" i % 2
    jobs = [(roots[k], location, USE[mode], n, seconds, k) for k, n in enumerate(shares) if n]
    with ProcessPoolExecutor(len(jobs), mp_context=get_context("spawn")) as pool:
        parts = list(pool.map(inproc, *zip(*jobs, strict=True)))
    return {
        "latencies": [x for p in parts for x in p["latencies"]],
        "errors": [x for p in parts for x in p["errors"]],
        "wall": max(p["wall"] for p in parts),
    }


# -- MCP clients over streamable HTTP


def serve(roots: list[str], location: str, port: int, scratch: Path) -> subprocess.Popen:
    store = ["--store", location] if "://" in location else ["--index-dir", location]
    args = ["serve", *(a for root in roots for a in ("--root", root)), *store]
    args += ["--transport", "http", "--port", str(port), "--token", TOKEN]
    # As deployed: the background refresher re-walks the root every 10 s, off the request path.
    args += ["--ledger", str(scratch / f"ledger-{port}.db")]
    return subprocess.Popen(
        [sys.executable, "-m", "tokenlean", *args],
        stdout=subprocess.DEVNULL,
        stderr=(scratch / f"server-{port}.log").open("w"),
    )


async def mcp_clients(urls: list[str], clients: int, seconds: float) -> dict:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    latencies: list[float] = []
    errors: list[str] = []

    async def client(i: int, deadline: float, record: bool) -> None:
        rng = random.Random(i)
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120)
        async with http, Client(streamable_http_client(urls[i % len(urls)], http_client=http)) as mcp:
            queries = list(QUERIES) if not record else None
            while time.monotonic() < deadline if record else queries:
                q = queries.pop() if queries else rng.choice(QUERIES)
                started = time.perf_counter()
                try:
                    result = await mcp.call_tool("search", {"query": q, "task": f"bench-{i}"})
                    if result.is_error:
                        errors.append(result.content[0].text[:200])
                except Exception as exc:
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])
                if record:
                    latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(client(i, 0, False) for i in range(min(2, clients))))  # warm both servers
    deadline = time.monotonic() + seconds
    began = time.perf_counter()
    await asyncio.gather(*(client(i, deadline, True) for i in range(clients)))
    return {"latencies": latencies, "errors": errors, "wall": time.perf_counter() - began}


def wait_up(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {port} did not start") from None
            time.sleep(0.1)


def run_backend(
    backend: str,
    roots: list[str],
    location: str,
    levels: list[int],
    seconds: float,
    modes: tuple[str, ...],
    span: list[str] | None = None,
) -> list[dict]:
    rows = []
    for mode in modes:
        if mode == "fused-span" and not span:
            continue
        if mode not in ("fused", "fused-span"):
            for n in levels:
                rows.append(summarise(backend, mode, n, run_inproc(roots, location, mode, n, seconds)))
                print(table_row(rows[-1]), flush=True)
            continue
        scratch = Path(tempfile.mkdtemp(prefix="tokenlean-team-bench-"))
        ports = [free_port(), free_port()]
        # fused: server i serves root i; fused-span: both serve every root of `span`, so that each
        # search ranks all of them (one store per root, merged).
        served = [[root] for root in roots] if mode == "fused" else [span, span]
        procs = [serve(rs, location, port, scratch) for rs, port in zip(served, ports, strict=True)]
        try:
            for port, proc in zip(ports, procs, strict=True):
                wait_up(port, proc)
            urls = [f"http://127.0.0.1:{port}/mcp" for port in ports]
            for n in levels:
                rows.append(summarise(backend, mode, n, asyncio.run(mcp_clients(urls, n, seconds))))
                rows[-1]["server_rss_mb"] = [rss_mb(p.pid) for p in procs]
                print(table_row(rows[-1]), flush=True)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=20)
    return rows


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def summarise(backend: str, mode: str, clients: int, got: dict) -> dict:
    lat = got["latencies"]
    return {
        "backend": backend,
        "mode": mode,
        "clients": clients,
        "calls": len(lat),
        "p50_ms": round(statistics.median(lat), 1) if lat else float("nan"),
        "p99_ms": round(pct(lat, 0.99), 1),
        "qps": round(len(lat) / got["wall"], 1),
        "errors": len(got["errors"]),
        "error_samples": sorted(set(got["errors"]))[:3],
    }


HEADER = (
    "| backend | search | clients | p50 ms | p99 ms | queries/s | calls | errors |\n"
    "|---|---|---:|---:|---:|---:|---:|---:|"
)


def table_row(r: dict) -> str:
    return (
        f"| {r['backend']} | {r['mode']} | {r['clients']} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
        f"{r['qps']:.1f} | {r['calls']} | {r['errors']} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--clients", default="1,8,32")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--sqlite", action="store_true", help="also run on SQLite over the first root")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--roots", default="", help="comma-separated: the two roots served (default: build.json)")
    ap.add_argument("--span", type=int, default=4, help="roots every search spans in the fused-span mode")
    args = ap.parse_args()
    levels = [int(x) for x in args.clients.split(",")]
    if not all(1 <= n <= 64 for n in levels) or not 1 <= args.seconds <= 300:
        raise SystemExit("--clients must be 1-64 each and --seconds 1-300")
    modes = tuple(m for m in MODES if m in args.modes.split(","))
    build = json.loads((home() / "build.json").read_text()) if (home() / "build.json").exists() else {}
    roots = args.roots.split(",") if args.roots else build["roots"][:2]
    rows: list[dict] = []
    print(HEADER, flush=True)
    if not args.no_postgres:
        url = start()
        span = build.get("roots", roots)[: args.span]
        rows += run_backend("postgresql", roots, url, levels, args.seconds, modes, span)
    if args.sqlite:
        index_dir = home() / "sqlite"
        sqlite_root = roots[0]
        summary = subprocess.run(
            ["nice", "-n", "10", sys.executable, "-m", "tokenlean", "index", sqlite_root, "--index-dir",
             str(index_dir), "--vectors", "fast", "--json", "-q"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        build["sqlite_index"] = json.loads(summary.stdout)
        # Both servers over the same one-root SQLite index: the comparable subset is one repository.
        rows += run_backend("sqlite", [sqlite_root, sqlite_root], str(index_dir), levels, args.seconds, modes)
    out_dir = Path(__file__).parent / "results"
    out_dir.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    result = {
        "finished": stamp,
        "build": {k: v for k, v in build.items() if k != "per_root"},
        "served_roots": roots,
        "span_roots": build.get("roots", roots)[: args.span],
        "seconds_per_level": args.seconds,
        "cpus": os.cpu_count(),
        "load_avg_at_end": os.getloadavg(),
        "rows": rows,
    }
    (out_dir / f"run-{stamp}.json").write_text(json.dumps(result, indent=1))
    print()
    print(HEADER)
    for r in rows:
        print(table_row(r))
    print(f"\nwritten {out_dir / f'run-{stamp}.json'}")


if __name__ == "__main__":
    main()
