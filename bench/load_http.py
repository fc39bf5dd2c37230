"""Load over streamable HTTP: many concurrent MCP clients calling tools on one server, on loopback.

    python bench/load_http.py [--root DIR] [--clients 50] [--seconds 30]

Starts `tokenlean serve --transport http` (with a bearer token) on a free loopback port, lets
N clients (each its own MCP session) call search and read in a loop for T seconds, and prints
throughput, p50/p99 latency, errors (must be 0) and the server's peak RSS. Bounded in count and
time; loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUERIES = [
    "where is the bearer token checked",
    "how are markdown headings chunked",
    "read a symbol within a token budget",
    "ledger budget refuses a call",
    "gitignore negation",
    "reciprocal rank fusion",
    "search_text",
    "tools/read.py",
]
READS = [{"path": "tools/search.py", "symbol": "search"}, {"path": "server/app.py", "lines": "1-40"}]
TOKEN = "load-test-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


async def client(url: str, deadline: float, seed: int, latencies: list[float], errors: list[str]) -> int:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    rng = random.Random(seed)
    calls = 0
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    async with http, Client(streamable_http_client(url, http_client=http), mode="legacy") as mcp:
        while time.monotonic() < deadline:
            if rng.random() < 0.7:
                name, args = "search", {"query": rng.choice(QUERIES), "task": f"load-{seed}"}
            else:
                name, args = "read", {**rng.choice(READS), "task": f"load-{seed}"}
            started = time.perf_counter()
            try:
                result = await mcp.call_tool(name, args)
                if result.is_error:
                    errors.append(result.content[0].text[:200])
            except Exception as exc:  # every failure counts; the run goes on
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
            latencies.append((time.perf_counter() - started) * 1000)
            calls += 1
    return calls


async def drive(url: str, clients: int, seconds: float) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    started = time.perf_counter()
    await asyncio.gather(*(client(url, deadline, i, latencies, errors) for i in range(clients)))
    return latencies, errors, time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    if not 1 <= args.clients <= 500 or not 1 <= args.seconds <= 600:
        raise SystemExit("--clients must be 1-500 and --seconds 1-600")
    scratch = tempfile.mkdtemp(prefix="tokenlean-load-")
    env = dict(os.environ, TOKENLEAN_INDEX_DIR=scratch, TOKENLEAN_LEDGER=f"{scratch}/ledger.db")
    subprocess.run(
        [sys.executable, "-m", "tokenlean", "index", str(args.root), "-q"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tokenlean",
            "serve",
            "--root",
            str(args.root),
            "--transport",
            "http",
            "--port",
            str(port),
            "--token",
            TOKEN,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(f"{scratch}/server.log", "w"),  # noqa: SIM115 - closed with the process
    )
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        latencies, errors, wall = asyncio.run(
            drive(f"http://127.0.0.1:{port}/mcp", args.clients, args.seconds)
        )
        rss = peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=20)
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else float("nan")
    print(f"{args.clients} clients x {args.seconds:.0f} s on 127.0.0.1 ({args.root})")
    print(f"{'calls':<28}{len(latencies):>10,}")
    print(f"{'throughput (calls/s)':<28}{len(latencies) / wall:>10.1f}")
    print(f"{'latency p50 (ms)':<28}{statistics.median(ordered) if ordered else float('nan'):>10.1f}")
    print(f"{'latency p99 (ms)':<28}{p99:>10.1f}")
    print(f"{'errors':<28}{len(errors):>10}")
    print(f"{'server peak RSS (MB)':<28}{rss:>10.0f}")
    for e in sorted(set(errors))[:5]:
        print(f"  error: {e}")
    if errors:
        print(f"  server log: {scratch}/server.log")
    if errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
