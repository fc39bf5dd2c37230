"""Fitting a result to its budget: the longest array is cut to the most items that fit."""

from __future__ import annotations

import json
from typing import Any

from .encodings import _cheapest
from .errors import BadPrune
from .paths import _join_key
from .render import prune_text
from .results import PruneResult


def _fit(result: PruneResult, encoding: str) -> None:
    """Cut the longest array until the text form fits the budget; say what was cut and how to page."""
    prune_text(result)
    if result.tokens <= result.budget:
        return
    located = _longest_array(result.value)
    if located is None:
        raise BadPrune(
            f"the pruned payload is {result.tokens:,} tokens, over budget_tokens={result.budget:,}: "
            "keep fewer fields or raise the budget"
        )
    route, total = located
    full = result.value
    low, high = 0, total
    while low < high:  # the most items that fit
        mid = (low + high + 1) // 2
        _apply_cut(result, full, route, mid, total, encoding)
        if result.tokens <= result.budget:
            low = mid
        else:
            high = mid - 1
    _apply_cut(result, full, route, low, total, encoding)
    if low == 0 or result.tokens > result.budget:
        raise BadPrune(
            f"the pruned payload does not fit budget_tokens={result.budget:,} even with one item of "
            f"{_route_text(route)}: keep fewer fields or raise the budget"
        )


def _apply_cut(result: PruneResult, full: Any, route: list, keep: int, total: int, encoding: str) -> None:
    cut = _replace(full, route, keep)
    best, text, costs = _cheapest(cut, encoding)
    where = _route_text(route)
    result.value, result.text, result.encoding, result.candidates = cut, text, best, costs
    result.tokens_after = costs[best]
    result.truncated = (
        f"{where}: first {keep} of {total} items shown (budget {result.budget:,}); for the rest, "
        f"the expression '{where if where != '(top)' else '@'}[{keep}:]' or fewer fields"
    )
    prune_text(result)


def _longest_array(value: Any) -> tuple[list, int] | None:
    best: tuple[int, list, int] | None = None
    stack: list[tuple[Any, list]] = [(value, [])]
    while stack:
        node, route = stack.pop()
        if isinstance(node, list):
            size = len(json.dumps(node, ensure_ascii=False))
            if len(node) > 1 and (best is None or size > best[0]):
                best = (size, route, len(node))
            if len(route) < 4:
                stack.extend((v, [*route, i]) for i, v in enumerate(node[:1]))
        elif isinstance(node, dict) and len(route) < 4:
            stack.extend((v, [*route, k]) for k, v in node.items())
    return (best[1], best[2]) if best else None


def _replace(value: Any, route: list, keep: int) -> Any:
    if not route:
        return value[:keep]
    head, rest = route[0], route[1:]
    if isinstance(value, dict):
        return {k: (_replace(v, rest, keep) if k == head else v) for k, v in value.items()}
    return [_replace(v, rest, keep) if i == head else v for i, v in enumerate(value)]


def _route_text(route: list) -> str:
    out = ""
    for step in route:
        out = out + "[*]" if isinstance(step, int) else _join_key(out, step)
    return out or "(top)"
