"""The token ledger: what each call cost a task, what it saved, and when a task must stop.

Tokens are counted per task (an explicit task id, else the MCP session), not per request. A task
may have a soft budget (the footer warns past it) and a hard one (calls are refused past it);
before refusing, responses shrink to what is left.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from datetime import datetime

from tokenlean.indexers.errors import TokenleanError
from tokenlean.indexers.ledger_store import GROUPS, Aggregate, CallRecord, LedgerStore

FOOTER_RESERVE = 40  # tokens kept back for the footer, so a shrunk call stays inside the hard budget
BRIEF_SHARE = 0.1  # below this share of the hard budget left, search returns signatures, not bodies
_RELATIVE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")


class BudgetExceeded(TokenleanError):
    """The task's hard token budget is spent."""


class BadLedgerRequest(TokenleanError):
    """A ledger report or budget request that cannot be honoured."""


@dataclass(frozen=True)
class Allowance:
    """What one call may spend, given its task's budget."""

    task: str
    budget_tokens: int  # the call's effective token ceiling
    spent: int  # by the task before this call
    soft: int | None
    hard: int | None
    shrunk: bool  # the ceiling was lowered to what the task has left
    brief: bool  # so little is left that bodies give way to signatures


def digest(arguments: dict) -> str:
    """A short stable digest of a call's arguments (the arguments themselves are not stored)."""
    raw = json.dumps(arguments, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def parse_time(value: str | None, now: float | None = None) -> float | None:
    """'24h', '7d', '30m', '2w', an ISO date or date-time, or None."""
    if value is None or not value.strip():
        return None
    now = time.time() if now is None else now
    m = _RELATIVE.match(value)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        seconds = {"m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
        return now - n * seconds
    try:
        return datetime.fromisoformat(value.strip()).timestamp()
    except ValueError:
        raise BadLedgerRequest(
            f"time {value!r} not understood: use e.g. 24h, 7d, 2026-11-01 or 2026-11-01T09:00"
        ) from None


class Ledger:
    """Records calls and gates them on their task's budget. Thread-safe (the store is)."""

    def __init__(self, store: LedgerStore, soft: int | None = None, hard: int | None = None) -> None:
        self.store = store
        self.default_soft = soft
        self.default_hard = hard

    def limits(self, task: str) -> tuple[int | None, int | None]:
        own = self.store.budget(task)
        return own if own is not None else (self.default_soft, self.default_hard)

    def allow(self, task: str, requested: int, minimum: int) -> Allowance:
        """The ceiling for a call of `task` asking for `requested` tokens; refuses past the hard budget."""
        spent = self.store.spent(task)
        soft, hard = self.limits(task)
        if hard is None:
            return Allowance(task, requested, spent, soft, hard, False, False)
        left = hard - spent
        if left < minimum + FOOTER_RESERVE:
            raise BudgetExceeded(
                f"task {task!r} has spent {spent:,} of its hard budget of {hard:,} tokens "
                f"({max(left, 0):,} left; this call needs at least {minimum + FOOTER_RESERVE:,}). "
                "To continue: raise the budget with the ledger tool (action='budget', hard=N) or "
                f"`tokenlean ledger budget {task} --hard N`, set task_budget_hard in the config, "
                "or work under a new task id."
            )
        budget = min(requested, max(left - FOOTER_RESERVE, minimum))
        return Allowance(task, budget, spent, soft, hard, budget < requested, left < hard * BRIEF_SHARE)

    def record(self, call: CallRecord) -> None:
        self.store.record_call(call)

    def status(self, allowance: Allowance, tokens: int) -> str:
        """The budget part of a footer, after a call that cost `tokens`."""
        spent = allowance.spent + tokens
        parts = [f"task {allowance.task}: {spent:,}"]
        if allowance.hard is not None:
            parts[0] += f" of {allowance.hard:,}"
            parts.append(f"{max(allowance.hard - spent, 0):,} left")
        if allowance.soft is not None and spent > allowance.soft:
            parts.append(f"over the soft budget of {allowance.soft:,}: finish up or narrow the search")
        if allowance.shrunk:
            parts.append("response shrunk to fit the budget")
        return " · ".join(parts)

    def set_budget(self, task: str, soft: int | None, hard: int | None) -> str:
        for name, value in (("soft", soft), ("hard", hard)):
            if value is not None and value <= 0:
                raise BadLedgerRequest(f"{name} budget must be a positive number of tokens (got {value})")
        if soft is not None and hard is not None and soft > hard:
            raise BadLedgerRequest(f"soft budget {soft:,} is above the hard budget {hard:,}")
        old_soft, old_hard = self.limits(task)
        soft = old_soft if soft is None else soft
        hard = old_hard if hard is None else hard
        self.store.set_budget(task, soft, hard, time.time())
        spent = self.store.spent(task)
        return (
            f"task {task}: soft budget {_fmt(soft)}, hard budget {_fmt(hard)}; {spent:,} tokens spent so far"
        )

    def report(
        self,
        by: str = "task",
        since: str | None = None,
        until: str | None = None,
        task: str | None = None,
    ) -> list[Aggregate]:
        if by not in GROUPS:
            raise BadLedgerRequest(f"cannot group by {by!r}: choose from {', '.join(GROUPS)}")
        return self.store.aggregate(by, parse_time(since), parse_time(until), task)


def _fmt(value: int | None) -> str:
    return "none" if value is None else f"{value:,}"


def saved(tokens: int, baseline: int) -> tuple[int, float]:
    """Tokens saved against the baseline, and as a share of it (0 when there is no baseline)."""
    if baseline <= 0:
        return 0, 0.0
    return baseline - tokens, (baseline - tokens) / baseline


def report_rows(rows: list[Aggregate]) -> list[dict]:
    out = []
    for r in rows:
        s, share = saved(r.tokens, r.baseline)
        out.append(
            {
                "key": r.key,
                "calls": r.calls,
                "tokens": r.tokens,
                "baseline": r.baseline,
                "saved": s,
                "saved_pct": round(100 * share, 1),
                "seen_tokens": r.seen_tokens,
                "errors": r.errors,
                "latency_ms": round(r.latency_ms or 0.0, 1),
            }
        )
    return out


def report_text(rows: list[Aggregate], by: str) -> str:
    """A compact plain-text table (for models); the CLI renders the same rows with rich."""
    if not rows:
        return "ledger: no calls recorded in that window"
    lines = [f"{by:<24} {'calls':>6} {'tokens':>10} {'baseline':>11} {'saved':>7}"]
    total = Aggregate("total", 0, 0, 0, 0, 0, 0.0)
    for r in rows:
        _, share = saved(r.tokens, r.baseline)
        lines.append(f"{r.key[:24]:<24} {r.calls:>6} {r.tokens:>10,} {r.baseline:>11,} {100 * share:>6.0f}%")
        total = Aggregate(
            "total", total.calls + r.calls, total.tokens + r.tokens, total.baseline + r.baseline, 0, 0, 0.0
        )
    if len(rows) > 1:
        _, share = saved(total.tokens, total.baseline)
        lines.append(
            f"{'total':<24} {total.calls:>6} {total.tokens:>10,} {total.baseline:>11,} {100 * share:>6.0f}%"
        )
    return "\n".join(lines)
