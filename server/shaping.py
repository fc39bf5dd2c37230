"""Output shaping applied to every tool: budget ceilings per client, and the one-line footer."""

from __future__ import annotations

# Codex CLI truncates tool output beyond ~10 KiB; ~2,200 o200k tokens of code stay under it.
CODEX_MAX_TOKENS = 2_200
# Claude Code refuses MCP results over 25,000 tokens (MAX_MCP_OUTPUT_TOKENS); stay well under.
DEFAULT_MAX_TOKENS = 12_000


def max_tokens_for(client_name: str | None) -> int:
    """The largest response worth sending to a client, by what the client does with big outputs."""
    name = (client_name or "").lower()
    if "codex" in name:
        return CODEX_MAX_TOKENS
    return DEFAULT_MAX_TOKENS


def clamp_budget(requested: int, client_name: str | None) -> int:
    return min(requested, max_tokens_for(client_name))


def footer(spent: int, baseline: int) -> str:
    """`— 812 tokens · whole files 9,034 (-91%)`: what this call cost vs the naive alternative."""
    line = f"— {spent:,} tokens"
    if baseline:
        line += f" · whole files {baseline:,}"
        if baseline > spent:
            line += f" (-{100 * (baseline - spent) / baseline:.0f}%)"
    return line


def with_footer(text: str, spent: int, baseline: int) -> str:
    return f"{text}\n{footer(spent, baseline)}"
