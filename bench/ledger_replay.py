"""Replay scripted agent sessions on the stdlib through the MCP server and print the ledger's totals.

    python bench/ledger_replay.py [--corpus DIR]

Each task is what an agent does to localise code for a request: a search, then reads of the
symbols it needs, all through the real MCP server (in-memory client) with the ledger on. The naive
baseline is what the same agent would have read without tokenlean: the whole files behind the
hits. The last task runs with a tight hard budget to show shrinking and refusal.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sysconfig
import tempfile
from pathlib import Path

TASKS = {
    "fix-argparse-help": [
        ("search", {"query": "argparse help message formatting wraps long option lines"}),
        ("read", {"symbol": "HelpFormatter._format_usage"}),
        ("read", {"symbol": "HelpFormatter._split_lines"}),
    ],
    "json-nan-handling": [
        ("search", {"query": "json encoder allow_nan float infinity"}),
        ("read", {"symbol": "floatstr"}),
        ("search", {"query": "JSONDecoder parse_constant NaN"}),
    ],
    "asyncio-timeout-bug": [
        ("search", {"query": 'File "asyncio/tasks.py", line 480, in wait_for\nTimeoutError'}),
        ("read", {"path": "asyncio/tasks.py", "symbol": "wait_for"}),
        ("search", {"query": "asyncio.timeout context manager reschedule"}),
    ],
    "tight-budget": [
        ("ledger", {"action": "budget", "hard": 2500}),
        ("search", {"query": "shutil copytree ignore dangling symlinks"}),
        ("search", {"query": "copy file metadata permissions"}),
        ("read", {"symbol": "copytree"}),
        ("search", {"query": "rmtree onerror"}),
    ],
}


async def replay(corpus: Path, work: Path) -> None:
    from mcp import Client

    from tokenlean.indexers.ledger_store import LedgerStore
    from tokenlean.server.app import build_server
    from tokenlean.server.config import load_config
    from tokenlean.tools.ledger import Ledger, report_rows
    from tokenlean.tools.workspace import Workspace

    cfg = load_config([corpus], index_dir=work / "index")
    ws = Workspace(cfg.roots, cfg.workspace_options())
    book = Ledger(LedgerStore(work / "ledger.db"))
    server = build_server(ws, cfg, book)
    refused = 0
    async with Client(server) as client:
        for task, steps in TASKS.items():
            for tool, args in steps:
                result = await client.call_tool(tool, {**args, "task": task})
                if result.is_error:
                    refused += 1
                    print(f"  {task}: {tool} refused: {result.content[0].text[:110]}…")
    rows = report_rows(book.report("task"))
    print(f"\n{'task':<22}{'calls':>7}{'tokens':>10}{'whole files':>13}{'saved':>8}")
    total = [0, 0, 0]
    for r in rows:
        print(f"{r['key']:<22}{r['calls']:>7}{r['tokens']:>10,}{r['baseline']:>13,}{r['saved_pct']:>7.0f}%")
        total[0] += r["calls"]
        total[1] += r["tokens"]
        total[2] += r["baseline"]
    pct = 100 * (total[2] - total[1]) / total[2] if total[2] else 0.0
    print(f"{'total':<22}{total[0]:>7}{total[1]:>10,}{total[2]:>13,}{pct:>7.0f}%")
    print(f"refused calls (over a hard budget): {refused}")
    book.store.close()
    ws.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tokenlean-ledger-"))
    corpus = work / "corpus"
    shutil.copytree(args.corpus, corpus, ignore=shutil.ignore_patterns("site-packages", "__pycache__"))
    from tokenlean.indexers.indexer import Indexer

    Indexer(corpus, work / "index").run()
    asyncio.run(replay(corpus, work))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
