"""Who is calling: the connection (MCP session), its client, and the task and agent it works for."""

from __future__ import annotations

import os
import threading
import uuid
import weakref
from dataclasses import dataclass
from typing import Any

TASK_HEADER = "x-tokenlean-task"
AGENT_HEADER = "x-tokenlean-agent"
TASK_META = "tokenlean/task"
AGENT_META = "tokenlean/agent"
MAX_ID_CHARS = 120


@dataclass(frozen=True)
class Caller:
    session: str  # one per MCP connection: a subagent with its own connection is its own session
    client: str  # the client's name from `initialize`, e.g. "claude-code", "codex-mcp-client"
    task: str  # explicit task id, else the session
    agent: str  # agent id when the client says, else ""
    # False for stateless (2026-07-28+) requests without a session id: nothing says which agent's
    # context they come from, so no "already sent" state may be assumed for them.
    stateful: bool = True


class Sessions:
    """Stable ids for connections, which the SDK does not name on stdio or in memory."""

    def __init__(self) -> None:
        self._ids: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
        self._fallback: dict[int, str] = {}
        self._lock = threading.Lock()
        self._process = f"p{os.getpid()}"

    def _session_id(self, ctx: Any) -> tuple[str, bool]:
        """(session id, whether it really identifies one agent's connection)."""
        connection = _get(ctx, "request_context", "session", "_connection")
        if connection is None:
            return self._process, False
        sid = getattr(connection, "session_id", None)
        if sid:
            return f"http-{sid}"[:MAX_ID_CHARS], True
        if getattr(connection, "protocol_version", "") in _stateless_versions():
            # Stateless requests each arrive on a fresh connection object. For the ledger, the
            # server process and client name are the closest thing to a session; for what an agent
            # has already seen, nothing is (two clients could be behind it).
            return f"{self._process}-{client_name(ctx) or 'client'}"[:MAX_ID_CHARS], False
        with self._lock:
            try:
                known = self._ids.get(connection)
                if known is None:
                    known = self._ids[connection] = f"s-{uuid.uuid4().hex[:12]}"
            except TypeError:  # not weak-referenceable: fall back to its id for this process
                known = self._fallback.setdefault(id(connection), f"s-{uuid.uuid4().hex[:12]}")
            return known, True

    def caller(self, ctx: Any, task: str | None = None) -> Caller:
        session, stateful = self._session_id(ctx)
        headers = {k.lower(): v for k, v in (_get(ctx, "headers") or {}).items()}
        meta = _meta(ctx)
        chosen_task = task or headers.get(TASK_HEADER) or meta.get(TASK_META) or session
        agent = headers.get(AGENT_HEADER) or meta.get(AGENT_META) or ""
        return Caller(session, client_name(ctx) or "", _clean(chosen_task), _clean(agent), stateful)


def _stateless_versions() -> frozenset[str]:
    try:
        from mcp_types.version import MODERN_PROTOCOL_VERSIONS
    except ImportError:  # an SDK without the stateless protocol
        return frozenset()
    return frozenset(MODERN_PROTOCOL_VERSIONS)


def client_name(ctx: Any) -> str | None:
    params = _get(ctx, "session", "client_params")
    info = getattr(params, "client_info", None)
    return getattr(info, "name", None)


def _meta(ctx: Any) -> dict:
    meta = _get(ctx, "request_context", "meta")
    if meta is None:
        return {}
    if isinstance(meta, dict):
        return meta
    try:
        return meta.model_dump(by_alias=True)
    except AttributeError:
        return {}


def _get(obj: Any, *names: str) -> Any:
    for name in names:
        if obj is None:
            return None
        try:
            obj = getattr(obj, name)
        except (AttributeError, ValueError, RuntimeError):
            return None
    return obj


def _clean(value: Any) -> str:
    text = str(value).strip().replace("\n", " ")
    return text[:MAX_ID_CHARS]
