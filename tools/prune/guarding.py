"""Guarding string values: credentials redacted, instruction-like text flagged."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from ..guard import guard
from .paths import _join_key

_SECRET_NAME = re.compile(
    r"passw|passwd|secret|token|api[_-]?key|apikey|access[_-]?key|auth|credential|private", re.I
)


def _guard_values(value: Any, name: str) -> tuple[Any, Counter[str], list[str]]:
    """Run `guard` over every string value; a value under a secret-like key is judged with its key."""
    found: Counter[str] = Counter()
    flagged: list[str] = []

    def one(text: str, key: str, path: str) -> str:
        if len(text) < 8:
            return text
        if key and _SECRET_NAME.search(key) and '"' not in text and not any(c.isspace() for c in text):
            probe = f'{key}: "{text}"'
            g = guard(probe, name)
            prefix = f'{key}: "'
            if g.redactions and g.text.startswith(prefix) and g.text.endswith('"'):
                found.update(g.redactions)
                return g.text[len(prefix) : -1]
        g = guard(text, name)
        found.update(g.redactions)
        if g.flags and len(flagged) < 5:
            flagged.append(f"{path}: {'; '.join(f.reason for f in g.flags)}")
        return g.text

    def walk(node: Any, key: str, path: str) -> Any:
        if isinstance(node, str):
            return one(node, key, path)
        if isinstance(node, dict):
            return {k: walk(v, k, _join_key(path, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, key, f"{path}[*]") for v in node]
        return node

    return walk(value, "", ""), found, flagged
