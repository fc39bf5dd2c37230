"""Keeping the parts of a payload that field paths reach (a trie of the paths, projected onto it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import BadPrune
from .paths import Step, _check, _show, parse_paths
from .settings import MAX_PATH_CHARS, MAX_PATHS


class _Trie:
    __slots__ = ("children", "terminal")

    def __init__(self) -> None:
        self.terminal = False
        self.children: dict[Step, _Trie] = {}

    def add(self, steps: Sequence[Step]) -> None:
        node = self
        for s in steps:
            node = node.children.setdefault(s, _Trie())
        node.terminal = True


def _merged(tries: list[_Trie]) -> _Trie:
    if len(tries) == 1:
        return tries[0]
    out = _Trie()
    out.terminal = any(t.terminal for t in tries)
    steps: dict[Step, list[_Trie]] = {}
    for t in tries:
        for s, child in t.children.items():
            steps.setdefault(s, []).append(child)
    out.children = {s: _merged(ts) for s, ts in steps.items()}
    return out


_MISSING = object()


def _project(value: Any, trie: _Trie) -> Any:
    """The parts of `value` the trie's paths reach; nulls and empty arrays on the way are kept."""
    if trie.terminal:
        return value
    if value is None:
        return None
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            subs = [
                t for s, t in trie.children.items() if (s[0] == "key" and s[1] == k) or s[0] in ("any", "all")
            ]
            if subs:
                r = _project(v, _merged(subs))
                if r is not _MISSING:
                    out[k] = r
        return out if out else _MISSING
    if isinstance(value, list):
        keyed = _Trie()
        keyed.children = {s: t for s, t in trie.children.items() if s[0] == "key"}
        items = []
        for i, v in enumerate(value):
            subs = [
                t
                for s, t in trie.children.items()
                if s[0] in ("any", "all") or (s[0] == "index" and s[1] in (i, i - len(value)))
            ]
            if keyed.children and isinstance(v, (dict, list)):
                subs.append(keyed)
            if subs:
                r = _project(v, _merged(subs))
                if r is not _MISSING:
                    items.append(r)
        return items if items or not value else _MISSING
    return _MISSING


def _select_fields(value: Any, fields: Sequence[str] | str) -> Any:
    specs = _split_specs(fields) if isinstance(fields, str) else [f for f in fields if f and f.strip()]
    if not specs:
        raise BadPrune("fields is empty: give dotted paths such as 'items[*].{id,title}' or 'data.*.name'")
    flat: list[tuple[tuple[Step, ...], str]] = []
    for spec in specs:
        if len(spec) > MAX_PATH_CHARS:
            raise BadPrune(f"a field path is at most {MAX_PATH_CHARS} characters")
        flat += [(p, spec) for p in parse_paths(spec)]
    if len(flat) > MAX_PATHS:
        raise BadPrune(f"fields expand to {len(flat)} paths; the limit is {MAX_PATHS}: ask for fewer")
    for steps, spec in flat:
        shown = _show(steps)
        _check(value, steps, shown if shown != spec else spec)
    return _select_flat(value, [p for p, _ in flat])


def _split_specs(text: str) -> list[str]:
    """Split a comma-separated field list at the commas outside braces."""
    out, depth, current = [], 0, ""
    for ch in text:
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            out.append(current)
            current = ""
        else:
            current += ch
    out.append(current)
    return [s.strip() for s in out if s.strip()]


def _select_flat(value: Any, paths: list[tuple[Step, ...]]) -> Any:
    trie = _Trie()
    for p in paths:
        trie.add(p)
    out = _project(value, trie)
    return {} if out is _MISSING else out
