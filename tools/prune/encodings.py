"""The encodings (TOON, compact JSON, `path: value` text) and choosing the cheapest in tokens."""

from __future__ import annotations

import json
import re
from typing import Any

from tokenlean.indexers import tokens

from .paths import _join_key
from .settings import ENCODINGS


def _scalar(v: Any) -> str:
    if isinstance(v, str):
        plain = (
            v
            and v == v.strip()
            and "\n" not in v
            and not re.fullmatch(r"true|false|null|-?\d[\d.eE+-]*|[\[{\"].*", v)
        )
        return v if plain else json.dumps(v, ensure_ascii=False)
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, list):
        return "[]"
    return json.dumps(v)


def key_value_text(value: Any) -> str:
    """`path: value` lines, one per leaf (array elements by index)."""
    lines: list[str] = []
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict) and node:
            stack.extend((v, _join_key(path, k)) for k, v in reversed(list(node.items())))
        elif isinstance(node, list) and node:
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(node))))
        else:
            lines.append(f"{path or '.'}: {_scalar(node)}")
    return "\n".join(lines)


def encode(value: Any, encoding: str) -> str | None:
    """`value` as TOON, compact JSON or `path: value` text; None when TOON cannot encode it."""
    if encoding == "json":
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if encoding == "text":
        return key_value_text(value)
    import toon_format

    try:
        return toon_format.dumps(value)
    except (TypeError, ValueError):
        return None


def _cheapest(value: Any, encoding: str) -> tuple[str, str, dict[str, int]]:
    names = ENCODINGS if encoding == "auto" else (encoding,)
    costs: dict[str, int] = {}
    texts: dict[str, str] = {}
    for name in names:
        text = encode(value, name)
        if text is not None:
            texts[name], costs[name] = text, tokens.count(text)
    best = min(costs, key=lambda n: (costs[n], ENCODINGS.index(n)))
    return best, texts[best], costs
