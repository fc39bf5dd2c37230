"""Loading a payload: size limits, UTF-8, JSON errors with line and column, nesting cut at MAX_DEPTH."""

from __future__ import annotations

import json
from typing import Any

from .errors import BadPrune, InvalidJson, PayloadTooLarge
from .paths import _join_key
from .settings import DEPTH_MARKER, MAX_DEPTH, MAX_PAYLOAD_CHARS


def load(payload: str | bytes | bytearray | Any) -> tuple[Any, str | None, list[str]]:
    """The parsed payload (cut at MAX_DEPTH), its text when given as text, and notes on what was cut."""
    if isinstance(payload, (bytes, bytearray)):
        if len(payload) > 4 * MAX_PAYLOAD_CHARS:
            raise PayloadTooLarge(f"payload is {len(payload):,} bytes: ask the API for fewer items")
        try:
            payload = bytes(payload).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidJson(f"payload is not UTF-8 (byte {exc.start}): JSON must be UTF-8 text") from None
    if isinstance(payload, str):
        if len(payload) > MAX_PAYLOAD_CHARS:
            raise PayloadTooLarge(
                f"payload is {len(payload):,} characters; the limit is {MAX_PAYLOAD_CHARS:,}: "
                "ask the API for fewer items (a page, a filter) or cut it down before pruning"
            )
        if not payload.strip():
            raise InvalidJson("payload is empty: pass the JSON text of the response")
        try:
            value = json.loads(payload)
        except json.JSONDecodeError as exc:
            line = payload.split("\n")[exc.lineno - 1] if exc.lineno >= 1 else ""
            start = max(0, exc.colno - 30)
            near = line[start : exc.colno + 20].strip()
            raise InvalidJson(
                f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
                + (f" (near {near!r})" if near else "")
            ) from None
        except RecursionError:
            raise InvalidJson(
                f"JSON nested too deeply to parse (thousands of levels; the limit kept is {MAX_DEPTH}): "
                "this is not a response an API sends"
            ) from None
    else:
        value = payload
    capped, notes = _cap_depth(value)
    return capped, payload if isinstance(payload, str) else None, notes


def _cap_depth(value: Any) -> tuple[Any, list[str]]:
    """Check types and depth without recursion; cut what lies deeper than MAX_DEPTH."""
    stack: list[tuple[Any, int, str]] = [(value, 0, "")]
    deep: str | None = None
    seen = 0
    while stack:
        node, depth, path = stack.pop()
        seen += 1
        # Each value takes at least a character of JSON text: the size limit bounds a payload given
        # as a value (not text) too.
        if seen > MAX_PAYLOAD_CHARS:
            raise PayloadTooLarge(
                f"payload has over {MAX_PAYLOAD_CHARS:,} values: ask the API for fewer items"
            )
        if isinstance(node, dict):
            if depth >= MAX_DEPTH:
                deep = deep or path or "(top)"
                continue
            for k, v in node.items():
                if not isinstance(k, str):
                    raise BadPrune(f"key {k!r} at {path or '(top)'} is not a string: not a JSON object")
                stack.append((v, depth + 1, _join_key(path, k)))
        elif isinstance(node, (list, tuple)):
            if depth >= MAX_DEPTH:
                deep = deep or path or "(top)"
                continue
            stack.extend((v, depth + 1, f"{path}[*]") for v in node)
        elif not (node is None or isinstance(node, (str, int, float, bool))):
            raise BadPrune(f"value at {path or '(top)'} is a {type(node).__name__}, which JSON cannot hold")
    if deep is None:
        return value, []
    return _cut(value, 0), [
        f"nesting beyond {MAX_DEPTH} levels was cut (first at {deep}) and shown as {DEPTH_MARKER!r}"
    ]


def _cut(node: Any, depth: int) -> Any:
    if isinstance(node, dict):
        return DEPTH_MARKER if depth >= MAX_DEPTH else {k: _cut(v, depth + 1) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return DEPTH_MARKER if depth >= MAX_DEPTH else [_cut(v, depth + 1) for v in node]
    return node
