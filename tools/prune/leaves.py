"""The leaf paths of a payload (`[*]` for array elements), with counts and sample values, and the
key names along such a path."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .paths import _join_key
from .settings import MAX_SCHEMA_PATHS


@dataclass
class _Leaf:
    count: int = 0
    samples: list[Any] = field(default_factory=list)


def schema(value: Any) -> dict[str, _Leaf]:
    """Leaf paths (`[*]` for array elements) with how often they occur and a few distinct values."""
    out: dict[str, _Leaf] = {}
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict) and node:
            stack.extend((v, _join_key(path, k)) for k, v in reversed(list(node.items())))
            continue
        if isinstance(node, list) and node:
            stack.extend((v, f"{path}[*]") for v in reversed(node))
            continue
        leaf = out.get(path)
        if leaf is None:
            if len(out) >= MAX_SCHEMA_PATHS:
                continue
            leaf = out[path] = _Leaf()
        leaf.count += 1
        if len(leaf.samples) < 20 and not isinstance(node, (dict, list)) and node not in leaf.samples:
            leaf.samples.append(node)
    return out


_PATH_PART = re.compile(r'"(?:[^"\\]|\\.)*"|[^.\[\]]+|\[\*\]')


def _keys(path: str) -> list[str]:
    """Key names along a schema path, array steps left out."""
    out = []
    for part in _PATH_PART.findall(path):
        if part == "[*]":
            continue
        out.append(json.loads(part) if part.startswith('"') else part)
    return out


def _prefix(path: str, nkeys: int) -> str:
    """The part of a schema path holding its first `nkeys` keys, with the array steps after them."""
    seen = 0
    for m in _PATH_PART.finditer(path):
        if m.group(0) != "[*]":
            seen += 1
            if seen > nkeys:
                return path[: m.start()].rstrip(".")
    return path


def _leaves_only(paths: list[str]) -> list[str]:
    """Paths that are not a prefix of another (a null or empty value where other records have fields)."""
    prefixes = {p[: m.start()] for p in paths for m in re.finditer(r"\.|\[\*\]", p)}
    return [p for p in paths if p not in prefixes]
