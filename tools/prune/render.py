"""The text form of a pruned payload, which is what a model reads."""

from __future__ import annotations

import re

from tokenlean.indexers import tokens

from .results import PruneResult
from .settings import UNTRUSTED


def _grouped(paths: list[str], limit: int = 12) -> str:
    """Paths grouped by their first two keys: `[*].user.* (18), [*].body, …`."""
    groups: dict[str, list[str]] = {}
    for p in paths:
        parts = re.match(
            r'^((?:\[\*\])*(?:"(?:[^"\\]|\\.)*"|[^.\[]+)?(?:\[\*\])*(?:\.(?:"(?:[^"\\]|\\.)*"|[^.\[]+))?)', p
        )
        groups.setdefault(parts.group(1) if parts else p, []).append(p)
    # A group of one shows its path (`[*].user.login`), not its head: a head is a prefix of others'.
    shown = [f"{h}.* ({len(m)})" if len(m) > 1 else m[0] for h, m in list(groups.items())[:limit]]
    more = len(groups) - limit
    return ", ".join(shown) + (f", +{more} more groups" if more > 0 else "")


def prune_text(result: PruneResult) -> str:
    """The text form of a pruned payload; sets `result.tokens`."""
    saving = 100 - 100 * result.tokens_after // result.tokens_before if result.tokens_before else 0
    cands = ", ".join(f"{k} {v:,}" for k, v in result.candidates.items())
    lines = [
        f"pruned JSON · {result.mode} · {result.encoding} ({cands}) · {result.tokens_before:,} -> "
        f"{result.tokens_after:,} tokens (-{max(saving, 0)}%) · {UNTRUSTED}"
    ]
    if result.reasons:
        why: dict[str, list[str]] = {}
        for p, r in result.reasons.items():
            why.setdefault(r, []).append(p)
        lines.append("kept: " + "; ".join(f"{', '.join(ps)} ({r})" for r, ps in why.items()))
    elif result.mode != "all":
        lines.append(f"kept ({len(result.kept)}): {_grouped(result.kept)}")
    if result.dropped:
        lines.append(f"dropped ({len(result.dropped)}): {_grouped(result.dropped)}")
    lines.extend(f"! {note}" for note in result.notes)
    if result.truncated:
        lines.append(f"! cut to fit: {result.truncated}")
    lines.append(result.text)
    text = "\n".join(lines)
    result.tokens = tokens.count(text)
    return text
