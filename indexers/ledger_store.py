"""The token ledger's storage: tool calls, task budgets, and usage imported from client transcripts.

One SQLite file per user (not per root): tasks span repositories. Like the index, all SQL stays
here behind plain methods, so a shared backend can replace it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from .migrations import LEDGER
from .sqlite_base import SQLiteDatabase

ENV_LEDGER = "TOKENLEAN_LEDGER"
GROUPS = {
    "task": "task",
    "tool": "tool",
    "agent": "agent",
    "client": "client",
    "session": "session",
    "root": "root",
    "source": "source",
    "day": "date(ts, 'unixepoch', 'localtime')",
    "user": "''",  # a SQLite ledger is one user's; the team ledger (pg_ledger_store.py) has many
}


class CallRecord(NamedTuple):
    """One tool call as the agent experienced it."""

    ts: float
    task: str
    session: str
    agent: str
    client: str
    source: str  # "tool" (the agent called it) or "hook" (the client's hook injected it)
    tool: str
    args_digest: str
    tokens: int  # what the call put in the agent's context
    baseline: int  # what the naive alternative would have put there (whole files, documents)
    seen_tokens: int  # tokens not re-sent because the agent had already received them
    latency_ms: float
    error: str  # "" for success, else the error's first line
    root: str


class UsageRecord(NamedTuple):
    """Token usage of one model request, from a client transcript."""

    key: str  # deduplication key (message id + request id, or file + position)
    client: str  # "claude-code" or "codex"
    session: str
    agent: str  # subagent id, "" for the main agent
    model: str
    ts: float
    project: str
    input: int  # uncached input tokens
    output: int  # output tokens, reasoning included
    cache_write_5m: int
    cache_write_1h: int
    cache_read: int
    reasoning: int
    sidechain: bool
    file: str

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_write_5m + self.cache_write_1h + self.cache_read


class ToolUseRecord(NamedTuple):
    """A tool call found in a transcript, with the size of its result."""

    key: str
    client: str
    session: str
    agent: str
    ts: float
    server: str  # MCP server name, "" for the client's built-in tools
    tool: str
    result_chars: int
    result_tokens: int
    is_error: bool


class Aggregate(NamedTuple):
    key: str
    calls: int
    tokens: int
    baseline: int
    seen_tokens: int
    errors: int
    latency_ms: float  # mean


def ledger_path(path: Path | str | None = None) -> Path:
    """The ledger file: the argument, else $TOKENLEAN_LEDGER, else the user data dir."""
    if path:
        return Path(path).expanduser()
    if os.environ.get(ENV_LEDGER):
        return Path(os.environ[ENV_LEDGER]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("tokenlean")) / "ledger.db"


class LedgerStore(SQLiteDatabase):
    migrations = LEDGER
    what = "ledger"

    def __init__(self, db_path: Path | str | None = None) -> None:
        super().__init__(ledger_path(db_path))

    # -- tool calls and budgets

    def record_call(self, call: CallRecord) -> None:
        with self._write() as db:
            db.execute(
                f"INSERT INTO calls({', '.join(CallRecord._fields)}) VALUES ({', '.join('?' * len(call))})",
                call,
            )

    def spent(self, task: str) -> int:
        row = self.db.execute("SELECT coalesce(sum(tokens), 0) FROM calls WHERE task = ?", (task,)).fetchone()
        return int(row[0])

    def set_budget(self, task: str, soft: int | None, hard: int | None, now: float) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO budgets(task, soft, hard, updated) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(task) DO UPDATE SET soft = excluded.soft, hard = excluded.hard, "
                "updated = excluded.updated",
                (task, soft, hard, now),
            )

    def budget(self, task: str) -> tuple[int | None, int | None] | None:
        row = self.db.execute("SELECT soft, hard FROM budgets WHERE task = ?", (task,)).fetchone()
        return (row[0], row[1]) if row else None

    def calls(self, since: float | None = None, until: float | None = None, task: str | None = None):
        where, params = time_window(since, until, task)
        rows = self.db.execute(
            f"SELECT {', '.join(CallRecord._fields)} FROM calls WHERE {where} ORDER BY ts, id", params
        )
        return [CallRecord._make(r) for r in rows]

    def aggregate(
        self, by: str, since: float | None = None, until: float | None = None, task: str | None = None
    ) -> list[Aggregate]:
        """Calls grouped by a field (see GROUPS), the biggest consumers first."""
        column = GROUPS[by]
        where, params = time_window(since, until, task)
        rows = self.db.execute(
            f"SELECT {column} AS k, count(*), sum(tokens), sum(baseline), sum(seen_tokens), "
            f"sum(error != ''), avg(latency_ms) FROM calls WHERE {where} GROUP BY k "
            "ORDER BY sum(tokens) DESC, k",
            params,
        )
        return [Aggregate(str(k), n, t, b, s, e, lat) for k, n, t, b, s, e, lat in rows]

    # -- imported usage

    def add_usage(self, records: Iterable[UsageRecord]) -> int:
        """Insert usage rows; a duplicate key keeps the larger row (and a main-chain row over a
        sidechain replay of it). Returns how many rows were new."""
        added = 0
        with self._write() as db:
            for rec in records:
                old = db.execute(
                    "SELECT input + output + cache_write_5m + cache_write_1h + cache_read, sidechain "
                    "FROM usage WHERE key = ?",
                    (rec.key,),
                ).fetchone()
                if old is None:
                    db.execute(
                        f"INSERT INTO usage({', '.join(UsageRecord._fields)}) "
                        f"VALUES ({', '.join('?' * len(rec))})",
                        rec,
                    )
                    added += 1
                elif (old[1] and not rec.sidechain) or (old[1] == rec.sidechain and rec.total > old[0]):
                    sets = ", ".join(f"{f} = ?" for f in UsageRecord._fields[1:])
                    db.execute(f"UPDATE usage SET {sets} WHERE key = ?", (*rec[1:], rec.key))
        return added

    def add_tool_uses(self, records: Iterable[ToolUseRecord]) -> int:
        added = 0
        with self._write() as db:
            for rec in records:
                cur = db.execute(
                    f"INSERT OR IGNORE INTO tool_uses({', '.join(ToolUseRecord._fields)}) "
                    f"VALUES ({', '.join('?' * len(rec))})",
                    rec,
                )
                added += cur.rowcount
        return added

    def usage(self, since: float | None = None, until: float | None = None) -> list[UsageRecord]:
        where, params = time_window(since, until)
        rows = self.db.execute(
            f"SELECT {', '.join(UsageRecord._fields)} FROM usage WHERE {where} ORDER BY ts, id", params
        )
        return [UsageRecord._make(r) for r in rows]

    def tool_uses(self, since: float | None = None, until: float | None = None) -> list[ToolUseRecord]:
        where, params = time_window(since, until)
        rows = self.db.execute(
            f"SELECT {', '.join(ToolUseRecord._fields)} FROM tool_uses WHERE {where} ORDER BY ts, id", params
        )
        return [ToolUseRecord._make(r) for r in rows]


def time_window(
    since: float | None, until: float | None, task: str | None = None, mark: str = "?"
) -> tuple[str, list[Any]]:
    """The WHERE clause of a time window (and a task) over ledger rows; `mark` is the driver's
    parameter placeholder (`?` for SQLite, `%s` for PostgreSQL), so both stores share it."""
    where, params = "1 = 1", []
    for clause, value in (("ts >=", since), ("ts <", until), ("task =", task)):
        if value is not None:
            where += f" AND {clause} {mark}"
            params.append(value)
    return where, params
