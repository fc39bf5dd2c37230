"""The team ledger: every server of a team records its tool calls in the shared PostgreSQL, so
`tokenlean ledger` reports across agents, users and repositories. Same methods as `LedgerStore`;
each row also says which user made it ($TOKENLEAN_USER, else the login name)."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable

from .ledger_store import GROUPS, Aggregate, CallRecord, ToolUseRecord, UsageRecord, time_window
from .pg_base import PgDatabase, guard
from .pg_migrations import PG_LEDGER

ENV_USER = "TOKENLEAN_USER"
# The SQLite ledger's groups, in PostgreSQL's words, plus the user (one per row here).
PG_GROUPS = {**GROUPS, "day": "to_char(to_timestamp(ts), 'YYYY-MM-DD')", "user": "user_name"}


def current_user() -> str:
    try:
        return os.environ.get(ENV_USER) or getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return ""


class PgLedgerStore(PgDatabase):
    """The ledger in the `tokenlean_ledger` schema of a shared database. Thread-safe."""

    migrations = PG_LEDGER
    what = "ledger"

    def __init__(self, url: str, user: str | None = None) -> None:
        super().__init__(url)
        self.user = current_user() if user is None else user
        self.location = self.url
        self.db  # noqa: B018  # connect now: a wrong URL or schema fails here, not at the first call

    # -- tool calls and budgets

    def record_call(self, call: CallRecord) -> None:
        columns = (*CallRecord._fields, "user_name")
        self.db.execute(
            f"INSERT INTO calls({', '.join(columns)}) VALUES ({_marks(columns)})",
            (*call, self.user),
        )

    def spent(self, task: str) -> int:
        row = self.db.execute(
            "SELECT coalesce(sum(tokens), 0) FROM calls WHERE task = %s", (task,)
        ).fetchone()
        return int(row[0])

    def set_budget(self, task: str, soft: int | None, hard: int | None, now: float) -> None:
        self.db.execute(
            "INSERT INTO budgets(task, soft, hard, updated) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (task) DO UPDATE SET soft = excluded.soft, hard = excluded.hard, "
            "updated = excluded.updated",
            (task, soft, hard, now),
        )

    def budget(self, task: str) -> tuple[int | None, int | None] | None:
        row = self.db.execute("SELECT soft, hard FROM budgets WHERE task = %s", (task,)).fetchone()
        return (row[0], row[1]) if row else None

    def calls(
        self, since: float | None = None, until: float | None = None, task: str | None = None
    ) -> list[CallRecord]:
        where, params = time_window(since, until, task, mark="%s")
        rows = self.db.execute(
            f"SELECT {', '.join(CallRecord._fields)} FROM calls WHERE {where} ORDER BY ts, id", params
        )
        return [CallRecord._make(r) for r in rows]

    def aggregate(
        self, by: str, since: float | None = None, until: float | None = None, task: str | None = None
    ) -> list[Aggregate]:
        """Calls grouped by a field (see PG_GROUPS), the biggest consumers first."""
        column = PG_GROUPS[by]
        where, params = time_window(since, until, task, mark="%s")
        rows = self.db.execute(
            f"SELECT {column} AS k, count(*), sum(tokens), sum(baseline), sum(seen_tokens), "
            f"count(*) FILTER (WHERE error != ''), avg(latency_ms) FROM calls WHERE {where} GROUP BY k "
            "ORDER BY sum(tokens) DESC, k",
            params,
        )
        return [Aggregate(str(k), n, int(t), int(b), int(s), e, float(lat)) for k, n, t, b, s, e, lat in rows]

    # -- imported usage

    def add_usage(self, records: Iterable[UsageRecord]) -> int:
        """Insert usage rows; a duplicate key keeps the larger row (and a main-chain row over a
        sidechain replay of it). Returns how many rows were new."""
        added = 0
        db = self.db
        columns = (*UsageRecord._fields, "user_name")
        with db.transaction():
            for rec in records:
                old = db.execute(
                    "SELECT input + output + cache_write_5m + cache_write_1h + cache_read, sidechain "
                    "FROM usage WHERE key = %s FOR UPDATE",
                    (rec.key,),
                ).fetchone()
                if old is None:
                    cur = db.execute(
                        f"INSERT INTO usage({', '.join(columns)}) VALUES ({_marks(columns)}) "
                        "ON CONFLICT (key) DO NOTHING",
                        (*rec, self.user),
                    )
                    added += cur.rowcount
                elif (old[1] and not rec.sidechain) or (old[1] == rec.sidechain and rec.total > old[0]):
                    sets = ", ".join(f"{f} = %s" for f in UsageRecord._fields[1:])
                    db.execute(f"UPDATE usage SET {sets} WHERE key = %s", (*rec[1:], rec.key))
        return added

    def add_tool_uses(self, records: Iterable[ToolUseRecord]) -> int:
        columns = (*ToolUseRecord._fields, "user_name")
        added = 0
        db = self.db
        with db.transaction():
            for rec in records:
                cur = db.execute(
                    f"INSERT INTO tool_uses({', '.join(columns)}) VALUES ({_marks(columns)}) "
                    "ON CONFLICT (key) DO NOTHING",
                    (*rec, self.user),
                )
                added += cur.rowcount
        return added

    def usage(self, since: float | None = None, until: float | None = None) -> list[UsageRecord]:
        where, params = time_window(since, until, mark="%s")
        rows = self.db.execute(
            f"SELECT {', '.join(UsageRecord._fields)} FROM usage WHERE {where} ORDER BY ts, id", params
        )
        return [UsageRecord._make(r) for r in rows]

    def tool_uses(self, since: float | None = None, until: float | None = None) -> list[ToolUseRecord]:
        where, params = time_window(since, until, mark="%s")
        rows = self.db.execute(
            f"SELECT {', '.join(ToolUseRecord._fields)} FROM tool_uses WHERE {where} ORDER BY ts, id", params
        )
        return [ToolUseRecord._make(r) for r in rows]


def _marks(columns: tuple[str, ...]) -> str:
    return ", ".join(["%s"] * len(columns))


guard(PgLedgerStore, writes=frozenset(("record_call", "set_budget", "add_usage", "add_tool_uses")))
