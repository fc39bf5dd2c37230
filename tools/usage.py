"""Reports over imported usage: tokens and cost per model, per session, and tokenlean's share."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from tokenlean.indexers.ledger_store import LedgerStore, ToolUseRecord, UsageRecord

from . import pricing
from .ledger import parse_time
from .transcripts import Imported, claude_roots, codex_roots, read_claude, read_codex


@dataclass
class ModelRow:
    model: str
    priced_as: str  # the price-table row used, "" when the model is unknown
    requests: int = 0
    input: int = 0
    output: int = 0
    cache_write: int = 0
    cache_read: int = 0
    cost: pricing.Cost = field(default_factory=pricing.Cost)


@dataclass
class SessionRow:
    session: str
    client: str
    project: str
    models: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)
    requests: int = 0
    tokens: int = 0  # input + output + cache writes + cache reads, over all requests
    peak_context: int = 0  # the largest prompt of a request: input + cache writes + cache reads
    cost: pricing.Cost = field(default_factory=pricing.Cost)
    tool_result_tokens: int = 0
    tokenlean_tokens: int = 0
    tokenlean_calls: int = 0
    start: float = 0.0

    @property
    def tokenlean_share_of_context(self) -> float:
        return self.tokenlean_tokens / self.peak_context if self.peak_context else 0.0

    @property
    def tokenlean_share_of_tools(self) -> float:
        return self.tokenlean_tokens / self.tool_result_tokens if self.tool_result_tokens else 0.0


def import_transcripts(
    store: LedgerStore,
    claude: list | None = None,
    codex: list | None = None,
    since: str | None = None,
) -> dict[str, Imported]:
    """Read both clients' transcripts into the ledger (idempotent: keys deduplicate)."""
    start = parse_time(since)
    results = {
        "claude-code": read_claude(claude if claude is not None else claude_roots(), start),
        "codex": read_codex(codex if codex is not None else codex_roots(), start),
    }
    for imported in results.values():
        store.add_usage(imported.usage)
        store.add_tool_uses(imported.tool_uses)
    return results


def by_model(usage: list[UsageRecord]) -> list[ModelRow]:
    rows: dict[str, ModelRow] = {}
    for u in usage:
        price = pricing.lookup(u.model)
        row = rows.setdefault(u.model, ModelRow(u.model, price.model if price else ""))
        row.requests += 1
        row.input += u.input
        row.output += u.output
        row.cache_write += u.cache_write_5m + u.cache_write_1h
        row.cache_read += u.cache_read
        row.cost = row.cost + pricing.cost(u, price)
    return sorted(rows.values(), key=lambda r: (-r.cost.total, -r.requests, r.model))


def by_session(usage: list[UsageRecord], tool_uses: list[ToolUseRecord]) -> list[SessionRow]:
    rows: dict[str, SessionRow] = {}
    for u in usage:
        row = rows.setdefault(u.session, SessionRow(u.session, u.client, u.project, start=u.ts))
        row.models.add(u.model)
        if u.agent:
            row.agents.add(u.agent)
        row.requests += 1
        row.tokens += u.total
        prompt = u.input + u.cache_write_5m + u.cache_write_1h + u.cache_read
        row.peak_context = max(row.peak_context, prompt)
        row.cost = row.cost + pricing.cost(u, pricing.lookup(u.model))
        row.start = min(row.start, u.ts) if row.start else u.ts
    tool_tokens: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for t in tool_uses:
        counts = tool_tokens[t.session]
        counts[0] += t.result_tokens
        if t.server == "tokenlean":
            counts[1] += t.result_tokens
            counts[2] += 1
    for session, (all_tools, ours, calls) in tool_tokens.items():
        if session in rows:
            rows[session].tool_result_tokens = all_tools
            rows[session].tokenlean_tokens = ours
            rows[session].tokenlean_calls = calls
    return sorted(rows.values(), key=lambda r: (-r.start, r.session))
