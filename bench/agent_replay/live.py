"""Live mode: a real agent localises the code for a few tasks, with and without tokenlean.

Runs Claude Code headless (`claude -p`) or Codex (`codex exec`) in the task's tree at the parent
commit, once with the client's built-in tools only and once with tokenlean's MCP server added (and,
for Claude Code, once more with the UserPromptSubmit hook injecting a search). The transcripts are
then imported into a ledger with `tokenlean ledger import` and each session's real usage (input,
output, cache tokens, peak context, cost, tokenlean calls) is read back with `tokenlean ledger usage`.
The agent's answer (`path:function` lines) is scored against the gold functions.

It needs credentials: ANTHROPIC_API_KEY with `claude` on PATH, or OPENAI_API_KEY with `codex` on
PATH, or a logged-in CLI named explicitly with --live-agent. Without them it says so and returns.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from shared import Indexes, git_dir

TIMEOUT = 900  # seconds per agent run
MAX_TURNS = 40
PROMPT = (
    "Find the function(s) in this repository that must change to implement the commit message below. "
    "Do not edit any file. Answer with one `path:function` per line (path relative to the repository "
    "root) and nothing else.\n\nCommit message:\n{query}"
)
_ANSWER = re.compile(r"`?([\w./@+-]+\.\w+)(?::\d+)?[:#]\s*`?([\w.$<>:]+)`?")


def detect(choice: str) -> tuple[str | None, str]:
    """(agent, '') when live mode can run, else (None, why not)."""
    claude, codex = shutil.which("claude"), shutil.which("codex")
    if choice == "auto":
        if os.environ.get("ANTHROPIC_API_KEY") and claude:
            return "claude", ""
        if os.environ.get("OPENAI_API_KEY") and codex:
            return "codex", ""
        found = ", ".join(n for n, p in (("claude", claude), ("codex", codex)) if p) or "neither CLI"
        return None, (
            "live mode skipped: no credentials for a real agent (ANTHROPIC_API_KEY with `claude` on PATH, or "
            f"OPENAI_API_KEY with `codex` on PATH; found {found} on PATH). With a CLI that is logged in "
            "instead, name it: --live-agent claude or --live-agent codex."
        )
    exe = claude if choice == "claude" else codex
    if exe is None:
        package = "@anthropic-ai/claude-code" if choice == "claude" else "@openai/codex"
        return None, f"live mode skipped: `{choice}` is not on PATH (npm install -g {package})"
    return choice, ""


def _pick(tasks: dict[str, list[dict]], n: int) -> list[dict]:
    """N tasks spread over the repositories: the first task of each, then the second, ..."""
    out: list[dict] = []
    depth = 0
    while len(out) < n and any(len(t) > depth for t in tasks.values()):
        for repo_tasks in tasks.values():
            if depth < len(repo_tasks) and len(out) < n:
                out.append(repo_tasks[depth])
        depth += 1
    return out


def score(answer: str, task: dict) -> dict:
    """Which gold files and functions the answer names (a function matches by its last name part)."""
    named = {
        (m.group(1).removeprefix("./"), m.group(2).split(".")[-1].split("::")[-1])
        for m in _ANSWER.finditer(answer)
    }
    files = {p for p, _ in named}
    gold_fns = {(g["path"], g["symbol"].split(".")[-1]) for g in task["gold_functions"]}
    return {
        "named": sorted(f"{p}:{s}" for p, s in named),
        "file": bool(files & set(task["gold_files"])),
        "fn": bool(named & gold_fns),
    }


def _tokenlean_cmd() -> list[str]:
    return [sys.executable, "-m", "tokenlean"]


def _claude(tree: Path, prompt: str, mode: str, env: dict, serve: list[str]) -> dict:
    cmd = ["claude", "-p", prompt, "--output-format", "json", "--max-turns", str(MAX_TURNS)]
    allowed = ["Read", "Grep", "Glob"]
    if mode in ("tool", "injected"):
        config = {"mcpServers": {"tokenlean": {"type": "stdio", "command": serve[0], "args": serve[1:]}}}
        cmd += ["--mcp-config", json.dumps(config), "--strict-mcp-config"]
        allowed.append("mcp__tokenlean")
    if mode == "injected":
        hook = " ".join([*_tokenlean_cmd(), "hook", "claude", "--inject", "--budget-tokens", "1000"])
        settings = {"hooks": {"UserPromptSubmit": [{"hooks": [{"type": "command", "command": hook}]}]}}
        cmd += ["--settings", json.dumps(settings)]
    cmd += ["--allowedTools", ",".join(allowed)]
    proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    try:
        out = json.loads(proc.stdout)
    except json.JSONDecodeError:
        out = {}
    return {
        "ok": proc.returncode == 0 and not out.get("is_error"),
        "session": out.get("session_id", ""),
        "answer": out.get("result", ""),
        "reported_usage": out.get("usage"),
        "reported_cost_usd": out.get("total_cost_usd"),
        "error": "" if proc.returncode == 0 else (proc.stderr or proc.stdout)[-500:],
    }


def _codex(tree: Path, prompt: str, mode: str, env: dict, serve: list[str]) -> dict:
    cmd = ["codex", "exec", "--json", "--skip-git-repo-check", "--sandbox", "read-only", "-C", str(tree)]
    if mode == "tool":
        cmd += ["-c", f"mcp_servers.tokenlean.command={json.dumps(serve[0])}"]
        cmd += ["-c", f"mcp_servers.tokenlean.args={json.dumps(serve[1:])}"]
    cmd.append(prompt)
    proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    session, answer = "", ""
    for line in proc.stdout.splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        session = event.get("thread_id") or session
        item = event.get("item") or {}
        if item.get("type") == "agent_message":
            answer = item.get("text", answer)
    return {
        "ok": proc.returncode == 0,
        "session": session,
        "answer": answer,
        "error": "" if proc.returncode == 0 else (proc.stderr or proc.stdout)[-500:],
    }


def run(args, tasks, repos, work: Path, fps, overrides, ledger_dir: Path, log) -> dict:
    """Run the live comparison; returns its rows and a message (which says why when it was skipped)."""
    agent, why = detect(args.live_agent)
    if agent is None:
        return {"skipped": True, "message": why}
    chosen = _pick(tasks, args.live)
    ledger = ledger_dir / "ledger-live.db"
    modes = ("builtin", "tool", "injected") if agent == "claude" else ("builtin", "tool")
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    by_repo = {r.name: r for r in repos}
    rows = []
    for task in chosen:
        repo = by_repo[task["repo"]]
        indexes = Indexes(work, repo, fps[0], args)
        indexes.snapshot.checkout(git_dir(repo, args.git_root, overrides), task["parent"])
        ws, temporary, _ = indexes.open(task, False)
        index_dir = ws.options.index_dir
        indexes.close(ws, temporary)
        env = {**os.environ, "TOKENLEAN_INDEX_DIR": str(index_dir), "TOKENLEAN_LEDGER": str(ledger)}
        serve = [*_tokenlean_cmd(), "serve", "--root", str(indexes.tree), "--index-dir", str(index_dir)]
        prompt = PROMPT.format(query=task["query"].strip())
        for mode in modes:
            t0 = time.perf_counter()
            try:
                got = (_claude if agent == "claude" else _codex)(indexes.tree, prompt, mode, env, serve)
            except (subprocess.TimeoutExpired, OSError) as exc:
                got = {"ok": False, "session": "", "answer": "", "error": str(exc)[:500]}
            got.update(task=task["id"], mode=mode, seconds=round(time.perf_counter() - t0, 1))
            got["score"] = score(got["answer"], task)
            rows.append(got)
            log(f"  live {agent} {mode:8} {task['id']}: ok={got['ok']} fn={got['score']['fn']}")
            if not got["ok"] and not rows[:-1]:
                message = f"live mode skipped: the first {agent} run failed ({got['error'][-200:].strip()})"
                return {"skipped": True, "message": message, "rows": rows}
        indexes.shutdown()
    imported = [*_tokenlean_cmd(), "ledger", "import", "--ledger", str(ledger), "--since", started]
    subprocess.run(imported, check=False)
    usage = subprocess.run(
        [*_tokenlean_cmd(), "ledger", "usage", "--json", "--ledger", str(ledger), "--since", started],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        sessions = {s["session"]: s for s in json.loads(usage.stdout or "[]")}
    except json.JSONDecodeError:
        sessions = {}
    for row in rows:
        row["usage"] = sessions.get(row["session"])
    return {"skipped": False, "agent": agent, "rows": rows, "message": live_table(rows, modes)}


def live_table(rows: list[dict], modes: tuple[str, ...]) -> str:
    lines = [
        "**Live runs (real agent, imported usage)**",
        "",
        "| mode | runs | fn named | tokens (all requests) p50 | peak context p50 | cost $ total "
        "| tokenlean calls |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode in modes:
        got = [r for r in rows if r["mode"] == mode]
        used = [r["usage"] for r in got if r.get("usage")]

        def med(key, used=used):
            values = sorted(u[key] for u in used)
            return f"{values[len(values) // 2]:,}" if values else "-"

        cost = sum(u["cost_total"] for u in used)
        calls = sum(u["tokenlean_calls"] for u in used)
        fn = sum(1 for r in got if r["score"]["fn"])
        lines.append(
            f"| {mode} | {len(got)} | {fn} | {med('tokens')} | {med('peak_context')} | {cost:.2f} | {calls} |"
        )
    return "\n".join(lines)
