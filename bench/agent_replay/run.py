"""Tokens per task: what an agent spends to reach the code a task needs, with and without tokenlean.

Deterministic agent policies run on the retrieval benchmark's tasks (commit message -> the
functions it changed, bench/retrieval), each on the repository at the task's parent commit:

  naive         grep the query's keywords, then read whole files in grep order (no tokenlean)
  naive-code    the same grep restricted to the repository's language (`rg -t go`)
  naive-window  grep with line numbers, then 100-line windows around each file's densest line
  tool          tokenlean `search` (budget 1500), reads of the best places not fully shown, next pages
  injected      the UserPromptSubmit hook's search (budget 1000) in context up front, then as `tool`

tokenlean runs as its real MCP server in-process (`mcp.Client`), with a fresh ledger per run and
one ledger task per (policy, task); the naive policies' grep and reads go into the same ledger the
way the PostToolUse hook records a client's own tools. See README.md beside this file.

    python bench/agent_replay/run.py [--split all|dev|heldout] [--cap 20000] [--live N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import time
from pathlib import Path

import policies
import report
from shared import (
    FileCache,
    Indexes,
    cache_dir,
    fingerprints,
    git_dir,
    grep_keywords,
    in_family,
    load_repos,
    load_tasks,
    parse_overrides,
    rank_grep_files,
)

from tokenlean.indexers import tokens
from tokenlean.indexers.ledger_store import LedgerStore
from tokenlean.server import hooks
from tokenlean.server.app import build_server
from tokenlean.server.config import Config
from tokenlean.tools.ledger import Ledger

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DOCS_FIGURE = HERE.parent.parent / "docs" / "tokens_per_task.png"
POLICIES = ("naive", "naive-code", "naive-window", "tool", "injected")
REPLAY_VERSION = 1


def _mcp_client(server):
    from mcp import Client

    return Client(server)


async def tool_surface(server) -> dict:
    """Tokens of what a client loads from the server: every tool's name, description and input
    schema as the model is given them, and the server's instructions."""
    async with _mcp_client(server) as client:
        listed = await client.list_tools()
        instructions = client.instructions or ""
    per_tool = {}
    for tool in listed.tools:
        shown = {"name": tool.name, "description": tool.description or "", "input_schema": tool.input_schema}
        per_tool[tool.name] = tokens.count(json.dumps(shown, ensure_ascii=False))
    return {
        "tools": per_tool,
        "instructions": tokens.count(instructions),
        "all": sum(per_tool.values()) + tokens.count(instructions),
        "code": per_tool.get("search", 0) + per_tool.get("read", 0) + tokens.count(instructions),
    }


def _ranked(docs, query: str) -> tuple[list[str], list[tuple[str, int]]]:
    keywords = grep_keywords(query)
    order, _ = rank_grep_files(docs, query)
    ranked = [(docs[i].path, sum(1 for w in keywords if w in docs[i].lowered)) for i in order]
    return keywords, ranked


async def replay_task(ws, tree: Path, task: dict, docs, ledger: Ledger, args) -> dict:
    """Every policy on one task; returns each policy's trace summary."""
    cfg = Config(roots=[tree], index_dir=ws.options.index_dir, refresh_seconds=1e9)
    gold = policies.Gold.of(task)
    query = task["query"].strip()
    out: dict[str, dict] = {}

    def recorder(task_id: str):
        def record(tool: str, arguments: dict, text: str) -> None:
            event = {
                "hook_event_name": "PostToolUse",
                "session_id": task_id,
                "tool_name": tool,
                "tool_input": arguments,
                "tool_response": text,
                "cwd": str(tree),
            }
            hooks.handle(event, cfg, ledger, False, 0)

        return record

    for name, subset in (
        ("naive", docs),
        ("naive-code", [d for d in docs if in_family(d.path, task["language"])]),
    ):
        trace = policies.Trace(gold, args.horizon)
        keywords, ranked = _ranked(subset, query)
        policies.run_naive(trace, tree, keywords, ranked, recorder(f"{name}:{task['id']}"))
        out[name] = {**trace.summary(), "errors": 0}
    trace = policies.Trace(gold, args.horizon)
    code = [d for d in docs if in_family(d.path, task["language"])]
    keywords, ranked = _ranked(code, query)
    policies.run_naive_window(trace, tree, keywords, ranked, recorder(f"naive-window:{task['id']}"))
    out["naive-window"] = {**trace.summary(), "errors": 0}

    for name in ("tool", "injected"):
        trace = policies.Trace(gold, args.horizon)
        task_id = f"{name}:{task['id']}"
        # A server per agent: in-memory connections all get the process's session id, so one server
        # would treat what another policy received as already in this agent's context.
        server = build_server(ws, cfg, ledger)
        async with _mcp_client(server) as client:
            agent = policies.Agent(client, trace, task_id)
            if name == "tool":
                await policies.run_tool(agent, query, args.budget)
            else:
                event = {
                    "hook_event_name": "UserPromptSubmit",
                    "prompt": query,
                    "cwd": str(tree),
                    "session_id": task_id,
                }
                injected = hooks.handle(event, cfg, ledger, True, args.inject_budget)
                if injected is None:  # the hook declined (no index, prompt too short): plain tool use
                    await policies.run_tool(agent, query, args.budget)
                else:
                    context = injected["hookSpecificOutput"]["additionalContext"]
                    await policies.run_injected(agent, context, query, args.budget)
        out[name] = {**trace.summary(), "errors": agent.errors}
    return out


def _prune(work: Path, index_fp: str) -> None:
    """Drop kept indexes built by other indexer code (this benchmark's work folder only)."""
    folder = work / "task-indexes"
    if folder.is_dir():
        for d in folder.iterdir():
            if d.name != index_fp:
                shutil.rmtree(d, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=("dev", "heldout", "all"), default="all")
    ap.add_argument("--cap", type=int, default=20_000, help="token cap within which a task counts as solved")
    ap.add_argument(
        "--horizon", type=int, help="tokens after which a policy gives up (default 5x the cap, for the plot)"
    )
    ap.add_argument("--budget", type=int, default=1500, help="budget_tokens of the tool policies' searches")
    ap.add_argument("--inject-budget", type=int, default=1000, help="budget of the injected search")
    ap.add_argument("--repos", nargs="*", help="owner/name of the repositories to run (default: all)")
    ap.add_argument("--per-repo", type=int, help="only the first N mined tasks of each repository (by date)")
    ap.add_argument("--cache", help="the retrieval benchmark's cache (tasks are read from <cache>/tasks)")
    ap.add_argument(
        "--work",
        help="where working trees and kept indexes go (default <cache>/agent-replay; pass the cache "
        "itself to share the retrieval benchmark's trees and indexes when it is not running)",
    )
    ap.add_argument("--git-root", help="folder holding <owner>+<name>.git clones (or the mirror layout)")
    ap.add_argument("--git-dir", action="append", help="OWNER/NAME=PATH of one repository's git dir")
    ap.add_argument("--workers", type=int, default=2, help="indexer worker processes")
    ap.add_argument(
        "--fresh-indexes", action="store_true", help="index every task from scratch and do not keep the index"
    )
    ap.add_argument("--live", type=int, default=0, metavar="N", help="also run a real agent on N tasks")
    ap.add_argument("--live-agent", choices=("auto", "claude", "codex"), default="auto")
    ap.add_argument("--live-only", action="store_true", help="run only the live agents (implies --live 3)")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--out", type=Path, help="results JSON (default results/<split>-<fingerprint>.json)")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)
    args.horizon = args.horizon or 5 * args.cap
    args.keep_indexes = not args.fresh_indexes
    if args.live_only:
        args.live = args.live or 3

    def log(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    started = time.perf_counter()
    cache = cache_dir(args.cache)
    work = Path(args.work).expanduser().resolve() if args.work else cache / "agent-replay"
    work.mkdir(parents=True, exist_ok=True)
    repos = load_repos(only=args.repos)
    tasks = load_tasks(cache, repos, args.split, args.per_repo)
    fps = fingerprints()
    _prune(work, fps[0])
    overrides = parse_overrides(args.git_dir)
    RESULTS.mkdir(parents=True, exist_ok=True)
    ledger_path = RESULTS / f"ledger-{args.split}.db"
    if not args.live_only:  # a fresh ledger per run
        for suffix in ("", "-wal", "-shm"):
            Path(f"{ledger_path}{suffix}").unlink(missing_ok=True)
    ledger = Ledger(LedgerStore(ledger_path))

    records: list[dict] = []
    surface: dict | None = None
    timing = {"checkout_s": 0.0, "index_s": 0.0, "replay_s": 0.0}
    for repo in [] if args.live_only else repos:
        todo = tasks[repo.name]
        log(f"{repo.name}: {len(todo)} tasks")
        gdir = git_dir(repo, args.git_root, overrides)
        indexes = Indexes(work, repo, fps[0], args)
        files = FileCache()
        for task in todo:
            t0 = time.perf_counter()
            indexes.snapshot.checkout(gdir, task["parent"])
            t1 = time.perf_counter()
            ws, temporary, _ = indexes.open(task, False)
            t2 = time.perf_counter()
            try:
                if surface is None:
                    surface = asyncio.run(tool_surface(build_server(ws, Config(roots=[indexes.tree]), None)))
                docs = files.docs(ws, indexes.tree)
                result = asyncio.run(replay_task(ws, indexes.tree, task, docs, ledger, args))
            finally:
                indexes.close(ws, temporary)
            t3 = time.perf_counter()
            timing["checkout_s"] += t1 - t0
            timing["index_s"] += t2 - t1
            timing["replay_s"] += t3 - t2
            records.append(
                {
                    "id": task["id"],
                    "repo": task["repo"],
                    "language": task["language"],
                    "split": task["split"],
                    "date": task["date"],
                    "query_tokens": tokens.count(task["query"].strip()),
                    "gold_files": task["gold_files"],
                    "gold_functions": [
                        f"{g['path']}:{g['start_line']}-{g['end_line']} {g['symbol']}"
                        for g in task["gold_functions"]
                    ],
                    "policies": result,
                    "seconds": {
                        "checkout": round(t1 - t0, 2),
                        "index": round(t2 - t1, 2),
                        "replay": round(t3 - t2, 2),
                    },
                }
            )
            fn = {p: result[p]["reached"].get("fn", {}).get("tokens") for p in POLICIES}
            log(
                f"  {task['id']} index {t2 - t1:.1f}s replay {t3 - t2:.1f}s  fn tokens: "
                + " ".join(f"{p}={v if v is not None else '-'}" for p, v in fn.items())
            )
        indexes.shutdown()

    live = None
    if args.live:
        import live as live_mode

        live = live_mode.run(args, tasks, repos, work, fps, overrides, RESULTS, log)
    if args.live_only:
        out = args.out or RESULTS / f"live-{args.split}.json"
        out.write_text(json.dumps({"split": args.split, "live": live}, indent=1))
        print(live.get("message", "") + f"\nresults: {out}")
        return 0

    ledger_rows = report.ledger_totals(ledger)
    ledger.store.close()
    for r in records:
        r["ledger"] = {p: ledger_rows.get(f"{p}:{r['id']}") for p in POLICIES}
    elapsed = time.perf_counter() - started
    summary = report.summarise(records, POLICIES, args.cap, surface or {})
    if records:
        print(report.tables(summary, records, POLICIES, args.cap, surface or {}, args.split))
    if live is not None:
        print("\n" + live.get("message", ""))
    out = args.out or RESULTS / f"{args.split}-{fps[1]}.json"
    payload = {
        "version": REPLAY_VERSION,
        "split": args.split,
        "cap": args.cap,
        "horizon": args.horizon,
        "budget": args.budget,
        "inject_budget": args.inject_budget,
        "fingerprint": {"index": fps[0], "search": fps[1]},
        "surface": surface,
        "wall_seconds": round(elapsed, 1),
        "timing_seconds": {k: round(v, 1) for k, v in timing.items()},
        "summary": summary,
        "live": live,
        "tasks": records,
    }
    out.write_text(json.dumps(payload, indent=1))
    if not args.no_plot and records:
        figure = RESULTS / f"tokens_per_task-{args.split}.png"
        report.plot(records, POLICIES, args.cap, figure, args.split)
        if args.split == "all" and not args.repos and not args.per_repo:
            DOCS_FIGURE.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(figure, DOCS_FIGURE)
            print(f"plot: {figure} (copied to {DOCS_FIGURE})")
        else:
            print(f"plot: {figure}")
    print(
        f"\n{len(records)} tasks, {elapsed:.0f}s wall (checkouts {timing['checkout_s']:.0f}s, indexing "
        f"{timing['index_s']:.0f}s, policies {timing['replay_s']:.0f}s)"
    )
    print(f"ledger: {ledger_path}\nresults: {out}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    raise SystemExit(main())
