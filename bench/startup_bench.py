"""Time from launching `tokenlean serve` (stdio) to its answer to `initialize`, and to a first search.

    python bench/startup_bench.py [--root DIR] [--runs N]

Speaks raw JSON-RPC over the child's stdin/stdout, as Claude Code and Codex do, then runs five
searches and reads the server's peak RSS (with vectors, the embedding model is loaded by then). The root is
indexed once beforehand, so the figures are for a warm index; the first search after start-up
includes opening the index. Codex gives MCP servers 10 s to start; our target is 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "startup-bench", "version": "1"},
    },
}


def rpc(proc: subprocess.Popen, message: dict) -> dict:
    proc.stdin.write(json.dumps(message) + "\n")
    proc.stdin.flush()
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"server exited: {proc.stderr.read()}")
        reply = json.loads(line)
        if reply.get("id") == message["id"]:
            return reply


QUERIES = [
    "parse command line arguments",
    "compress data with zlib",
    "ThreadPoolExecutor.submit",
    "asyncio/tasks.py",
    "retry when the connection is reset",
]


def peak_rss_mb(pid: int) -> float:
    """The child's high-water resident set (Linux /proc), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def one_run(root: Path, env: dict) -> tuple[float, float, float]:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tokenlean", "serve", "--root", str(root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        rpc(proc, INIT)
        initialized = time.perf_counter() - started
        proc.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
        searched = 0.0
        for i, query in enumerate(QUERIES):
            call = {
                "jsonrpc": "2.0",
                "id": 2 + i,
                "method": "tools/call",
                "params": {"name": "search", "arguments": {"query": query}},
            }
            reply = rpc(proc, call)
            assert not reply["result"].get("isError"), reply
            searched = searched or time.perf_counter() - started
        rss = peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return initialized, searched, rss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    env = dict(os.environ)
    scratch = tempfile.mkdtemp(prefix="tokenlean-startup-")
    env["TOKENLEAN_INDEX_DIR"] = scratch
    env["TOKENLEAN_LEDGER"] = f"{scratch}/ledger.db"  # keep the user's ledger out of the measurement
    subprocess.run(
        [sys.executable, "-m", "tokenlean", "index", str(args.root), "-q"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    runs = [one_run(args.root, env) for _ in range(args.runs)]
    init = [r[0] for r in runs]
    first = [r[1] for r in runs]
    rss = [r[2] for r in runs]
    print(f"root: {args.root} ({args.runs} runs)")
    print(f"{'measure':<36}{'median':>9}{'max':>9}")
    print(f"{'start -> initialize answered (s)':<36}{statistics.median(init):>9.2f}{max(init):>9.2f}")
    print(f"{'start -> first search answered (s)':<36}{statistics.median(first):>9.2f}{max(first):>9.2f}")
    print(f"{'server peak RSS after 5 searches (MB)':<36}{statistics.median(rss):>9.0f}{max(rss):>9.0f}")


if __name__ == "__main__":
    main()
