"""Read real usage from client transcripts: Claude Code sessions and Codex CLI rollouts.

Formats and their traps are written up, with sources, in the project's ledger-formats notes; the
rules applied here:
- Claude Code writes one line per content block, each repeating the message's id and usage: rows
  are keyed by message id, the larger copy wins, and a sidechain replay (`/btw`) of a main-chain
  message never replaces it. `<synthetic>` models and API-error rows are skipped. Subagent
  transcripts (`<session>/subagents/**/agent-*.jsonl`) are read too: scanning only the top level
  misses part of the spend.
- Codex reports cumulative `total_token_usage` and re-emits unchanged totals: usage is the delta
  of totals per file, unchanged totals are skipped, and `last_token_usage` is used only when the
  total is missing or drops (resume, compaction). Input includes cached input there; we store the
  uncached part as `input` and the cached part as `cache_read`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tokenlean.indexers import tokens
from tokenlean.indexers.ledger_store import ToolUseRecord, UsageRecord

_MCP_NAME = re.compile(r"^mcp__(?:plugin_[^_]+_)?(?P<server>[A-Za-z0-9_-]+?)__(?P<tool>.+)$")
_OLD_CODEX_MCP = re.compile(r"^(?P<server>[A-Za-z0-9_-]+)__(?P<tool>[A-Za-z0-9_-]+)$")
_TASK_IN_FOOTER = re.compile(r"· task (\S+): [\d,]+")


@dataclass
class Imported:
    usage: list[UsageRecord] = field(default_factory=list)
    tool_uses: list[ToolUseRecord] = field(default_factory=list)
    files: int = 0
    bad_lines: int = 0
    tasks: dict[str, set[str]] = field(default_factory=dict)  # client session -> tokenlean tasks seen


def _ts(value: Any) -> float:
    if isinstance(value, (int, float)):
        return float(value) / (1000 if value > 1e11 else 1)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return 0.0
    return 0.0


def _jsonl(path: Path, out: Imported) -> Iterator[tuple[int, dict]]:
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    out.bad_lines += 1  # a line being written as we read, or a damaged one
                    continue
                if isinstance(row, dict):
                    yield n, row
    except OSError:
        out.bad_lines += 1


def split_tool_name(name: str, client: str) -> tuple[str, str]:
    """(MCP server, tool) from a transcript's tool name; server is "" for built-in tools."""
    m = _MCP_NAME.match(name)
    if m:
        return m.group("server"), m.group("tool")
    if client == "codex":
        m = _OLD_CODEX_MCP.match(name)
        if m:
            return m.group("server"), m.group("tool")
    return "", name


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(item.get("text", "") if isinstance(item, dict) else str(item) for item in content)
    if isinstance(content, dict):
        return str(content.get("text") or content.get("output") or json.dumps(content))
    return "" if content is None else str(content)


# -- Claude Code


def claude_roots() -> list[Path]:
    """Where Claude Code keeps transcripts: $CLAUDE_CONFIG_DIR (comma-separated) or the defaults."""
    env = os.environ.get("CLAUDE_CONFIG_DIR")
    if env:
        return [Path(p).expanduser() / "projects" for p in env.split(",") if p.strip()]
    home = Path.home()
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return [home / ".claude" / "projects", xdg / "claude" / "projects"]


def read_claude(roots: list[Path], since: float | None = None) -> Imported:
    out = Imported()
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*.jsonl")):
            out.files += 1
            _read_claude_file(path, out, since)
    return out


def read_claude_session(transcript: Path) -> Imported:
    """One session's transcript and its subagents' (what a SessionEnd hook points at)."""
    out = Imported()
    if transcript.is_file():
        out.files += 1
        _read_claude_file(transcript, out, None)
    subagents = transcript.with_suffix("") / "subagents"
    if subagents.is_dir():
        for path in sorted(subagents.rglob("*.jsonl")):
            out.files += 1
            _read_claude_file(path, out, None)
    return out


def _claude_agent(path: Path) -> str:
    if "subagents" in path.parts and path.stem.startswith("agent-"):
        return path.stem.removeprefix("agent-")
    return ""


def _read_claude_file(path: Path, out: Imported, since: float | None) -> None:
    file_agent = _claude_agent(path)
    pending: dict[str, tuple[str, str, str, float, str]] = {}  # tool_use id -> (session, agent, name, ts, "")
    for n, row in _jsonl(path, out):
        kind = row.get("type")
        envelope = row
        message = row.get("message")
        if kind == "progress":  # older builds nested subagent messages in progress rows
            data = row.get("data") or {}
            envelope = data.get("message") or {}
            message = envelope.get("message")
            kind = envelope.get("type", "assistant")
        if not isinstance(message, dict):
            continue
        ts = _ts(envelope.get("timestamp") or row.get("timestamp"))
        session = str(envelope.get("sessionId") or row.get("sessionId") or path.stem)
        agent = str(envelope.get("agentId") or row.get("agentId") or file_agent or "")
        if kind == "assistant":
            _claude_assistant(path, n, envelope, message, ts, session, agent, out, since, pending)
        elif kind == "user":
            _claude_results(message, ts, session, agent, out, since, pending)


def _claude_assistant(path, n, envelope, message, ts, session, agent, out, since, pending) -> None:
    for item in message.get("content") or []:
        if isinstance(item, dict) and item.get("type") == "tool_use" and item.get("id"):
            pending[item["id"]] = (session, agent, str(item.get("name", "")), ts, "")
    usage = message.get("usage")
    model = str(message.get("model") or "")
    if not isinstance(usage, dict) or model == "<synthetic>" or envelope.get("isApiErrorMessage"):
        return
    if since is not None and ts < since:
        return
    created = int(usage.get("cache_creation_input_tokens") or 0)
    split = usage.get("cache_creation") or {}
    one_hour = int(split.get("ephemeral_1h_input_tokens") or 0) if isinstance(split, dict) else 0
    five_min = created - one_hour if split else created
    message_id = message.get("id")
    key = f"claude:{message_id}" if message_id else f"claude:{path}:{n}"
    out.usage.append(
        UsageRecord(
            key=key,
            client="claude-code",
            session=session,
            agent=agent,
            model=model,
            ts=ts,
            project=str(envelope.get("cwd") or ""),
            input=int(usage.get("input_tokens") or 0),
            output=int(usage.get("output_tokens") or 0),
            cache_write_5m=max(five_min, 0),
            cache_write_1h=one_hour,
            cache_read=int(usage.get("cache_read_input_tokens") or 0),
            reasoning=0,
            sidechain=bool(envelope.get("isSidechain")),
            file=str(path),
        )
    )


def _claude_results(message, ts, session, agent, out, since, pending) -> None:
    content = message.get("content")
    if not isinstance(content, list):
        return
    for item in content:
        if not isinstance(item, dict) or item.get("type") != "tool_result":
            continue
        call_id = str(item.get("tool_use_id") or "")
        started = pending.pop(call_id, None)
        if started is None or (since is not None and ts < since):
            continue
        text = _result_text(item.get("content"))
        server, tool = split_tool_name(started[2], "claude-code")
        _note_task(out, session, server, text)
        out.tool_uses.append(
            ToolUseRecord(
                key=f"claude:{call_id}",
                client="claude-code",
                session=session,
                agent=started[1] or agent,
                ts=ts,
                server=server,
                tool=tool,
                result_chars=len(text),
                result_tokens=tokens.count(text),
                is_error=bool(item.get("is_error")),
            )
        )


def _note_task(out: Imported, session: str, server: str, text: str) -> None:
    """tokenlean's footer names its ledger task: link it to the client's session."""
    if server != "tokenlean":
        return
    m = _TASK_IN_FOOTER.search(text.rsplit("\n", 1)[-1])
    if m:
        out.tasks.setdefault(session, set()).add(m.group(1))


# -- Codex CLI


def codex_roots() -> list[Path]:
    base = Path(os.environ.get("CODEX_HOME") or Path.home() / ".codex").expanduser()
    return [base / "sessions", base / "archived_sessions"]


def read_codex(roots: list[Path], since: float | None = None) -> Imported:
    out = Imported()
    seen: set[str] = set()
    for root in roots:  # sessions/ first: it wins over the same file in archived_sessions/
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("rollout-*.jsonl")):
            rel = str(path.relative_to(root))
            if rel in seen:
                continue
            seen.add(rel)
            out.files += 1
            _read_codex_file(path, rel, out, since)
    return out


_USAGE_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")


def _usage_tuple(u: Any) -> tuple[int, ...] | None:
    if not isinstance(u, dict):
        return None
    return tuple(int(u.get(f) or 0) for f in _USAGE_FIELDS)


def _read_codex_file(path: Path, rel: str, out: Imported, since: float | None) -> None:
    session = rel.removesuffix(".jsonl")
    model = ""
    project = ""
    previous: tuple[int, ...] | None = None
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:16384]
    except OSError:
        head = ""
    # A subagent's rollout starts by replaying its parent's history, totals included: the first
    # total it reports is the parent's, not its own spend, so deltas start from there.
    baseline_pending = "thread_spawn" in head
    pending: dict[str, tuple[str, float]] = {}
    done: set[str] = set()
    for n, row in _jsonl(path, out):
        kind, payload = row.get("type"), row.get("payload") or {}
        ts = _ts(row.get("timestamp"))
        if kind == "session_meta":
            session = str(payload.get("id") or session)
            project = str(payload.get("cwd") or project)
        elif kind == "turn_context":
            model = str(payload.get("model") or model)
            project = str(payload.get("cwd") or project)
        elif kind == "event_msg" and payload.get("type") == "token_count":
            info = payload.get("info") or {}
            model = str(info.get("model") or info.get("model_name") or model)
            total = _usage_tuple(info.get("total_token_usage"))
            last = _usage_tuple(info.get("last_token_usage"))
            if total is not None and baseline_pending:
                previous, baseline_pending = total, False
                continue
            if total is not None and previous is not None and total == previous:
                continue  # re-emitted, unchanged: counting it again is the known overcount
            grew = previous is None or all(t >= p for t, p in zip(total or (), previous, strict=False))
            if total is not None and grew:
                delta = tuple(t - p for t, p in zip(total, previous or (0,) * 4, strict=True))
            elif last is not None:
                delta = last  # the total reset (resume, compaction)
            else:
                continue
            previous = total if total is not None else previous
            if not any(delta) or (since is not None and ts < since):
                continue
            inp, cached, output, reasoning = delta
            cached = min(cached, inp)
            out.usage.append(
                UsageRecord(
                    key=f"codex:{rel}:{n}",
                    client="codex",
                    session=session,
                    agent="",
                    model=model or "gpt-5",
                    ts=ts,
                    project=project,
                    input=inp - cached,
                    output=output,
                    cache_write_5m=0,
                    cache_write_1h=0,
                    cache_read=cached,
                    reasoning=reasoning,
                    sidechain=False,
                    file=str(path),
                )
            )
        elif kind == "event_msg" and payload.get("type") == "mcp_tool_call_end":
            # Legacy rollouts log MCP calls as events; newer ones as function_call items (below).
            call_id = str(payload.get("call_id") or "")
            invocation = payload.get("invocation") or {}
            if not call_id or call_id in done or (since is not None and ts < since):
                continue
            result = payload.get("result") or {}
            if isinstance(result, dict):
                result = result.get("Ok", result.get("Err", result))
            text = _result_text(result.get("content") if isinstance(result, dict) else result)
            server = str(invocation.get("server") or "")
            _note_task(out, session, server, text)
            done.add(call_id)
            out.tool_uses.append(
                ToolUseRecord(
                    f"codex:{call_id}",
                    "codex",
                    session,
                    "",
                    ts,
                    server,
                    str(invocation.get("tool") or ""),
                    len(text),
                    tokens.count(text),
                    isinstance(payload.get("result"), dict) and "Err" in payload["result"],
                )
            )
        elif kind == "response_item" and payload.get("type") in ("function_call", "custom_tool_call"):
            call_id = str(payload.get("call_id") or "")
            if call_id:
                pending[call_id] = (str(payload.get("name") or ""), ts)
        elif kind == "response_item" and payload.get("type") in (
            "function_call_output",
            "custom_tool_call_output",
        ):
            call_id = str(payload.get("call_id") or "")
            started = pending.pop(call_id, None)
            if started is None or call_id in done or (since is not None and ts < since):
                continue
            done.add(call_id)
            text = _result_text(payload.get("output"))
            server, tool = split_tool_name(started[0], "codex")
            _note_task(out, session, server, text)
            out.tool_uses.append(
                ToolUseRecord(
                    key=f"codex:{call_id}",
                    client="codex",
                    session=session,
                    agent="",
                    ts=ts,
                    server=server,
                    tool=tool,
                    result_chars=len(text),
                    result_tokens=tokens.count(text),
                    is_error=False,
                )
            )
