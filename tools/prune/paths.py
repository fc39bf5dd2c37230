"""Field paths: parsing them (`items[*].{id,owner.login}`), showing them, and checking that one
matches something, naming what is there when it does not."""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

from .errors import BadPrune, UnknownField
from .settings import MAX_PATHS

_PLAIN_KEY = re.compile(r"^[^\W\d][\w$@-]*$|^[$@][\w$@-]*$")  # Unicode letters too: `café`


def _join_key(path: str, key: str) -> str:
    shown = key if _PLAIN_KEY.match(key) else json.dumps(key, ensure_ascii=False)
    return f"{path}.{shown}" if path else shown


# One step of a path: a key, any key (`*`), every array item (`[*]`), or one item (`[2]`, `[-1]`).
Step = (
    tuple[Literal["key"], str] | tuple[Literal["any"]] | tuple[Literal["all"]] | tuple[Literal["index"], int]
)

_TOKEN = re.compile(
    r"""\s*(?:(?P<name>[\w$@+\-]+)|"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<star>\*)|"""
    r"""\[\s*(?P<index>\*|-?\d+)?\s*\]|(?P<dot>\.)|(?P<open>\{)|(?P<close>\})|(?P<comma>,))"""
)


def parse_paths(spec: str) -> list[tuple[Step, ...]]:
    """Flat paths of one field spec; brace groups expand: `a.{b,c.d}` -> a.b, a.c.d."""
    toks = []
    pos = 0
    spec = spec.strip()
    while pos < len(spec):
        m = _TOKEN.match(spec, pos)
        if not m or m.end() == pos:
            raise BadPrune(f"field path {spec!r}: unexpected {spec[pos : pos + 10]!r} at character {pos + 1}")
        kind = m.lastgroup
        if kind == "quoted":
            toks.append(("key", json.loads(f'"{m.group("quoted")}"')))
        elif kind == "name":
            toks.append(("key", m.group("name")))
        elif kind == "star":
            toks.append(("any",))
        elif kind == "index" or m.group(0).strip().startswith("["):  # `[]` has no index group
            raw = m.group("index")
            toks.append(("all",) if raw in (None, "*") else ("index", int(raw)))
        else:
            toks.append((kind,))
        pos = m.end()
    paths, rest = _parse_seq(toks, 0, spec)
    if rest != len(toks):
        raise BadPrune(f"field path {spec!r}: unbalanced braces or a stray comma")
    return paths


def _parse_seq(toks: list[tuple], i: int, spec: str) -> tuple[list[tuple[Step, ...]], int]:
    paths: list[tuple[Step, ...]] = [()]
    expect_step = True
    while i < len(toks) and toks[i][0] not in ("close", "comma"):
        tok = toks[i]
        if tok[0] == "dot":
            if expect_step:
                raise BadPrune(f"field path {spec!r}: a '.' with no field name before it")
            expect_step = True
            i += 1
            continue
        if tok[0] == "open":
            group: list[tuple[Step, ...]] = []
            i += 1
            while True:
                sub, i = _parse_seq(toks, i, spec)
                group.extend(sub)
                if i < len(toks) and toks[i][0] == "comma":
                    i += 1
                    continue
                if i < len(toks) and toks[i][0] == "close":
                    i += 1
                    break
                raise BadPrune(f"field path {spec!r}: '{{' without a matching '}}'")
            paths = [p + g for p in paths for g in group]
        else:
            if not expect_step and tok[0] in ("key", "any"):
                raise BadPrune(f"field path {spec!r}: two names in a row, separate them with '.'")
            paths = [(*p, tok) for p in paths]
            i += 1
        expect_step = False
        if len(paths) > MAX_PATHS:
            raise BadPrune(f"field paths expand to more than {MAX_PATHS} paths: ask for fewer")
    if paths == [()]:
        raise BadPrune(f"field path {spec!r} has an empty part: name a field between the separators")
    if expect_step:
        raise BadPrune(f"field path {spec!r} ends with '.': name the field after it")
    return paths, i


def _show(steps: Sequence[Step]) -> str:
    out = ""
    for s in steps:
        if s[0] == "key":
            out = _join_key(out, s[1])
        elif s[0] == "any":
            out = f"{out}.*" if out else "*"
        elif s[0] == "all":
            out += "[*]"
        else:
            out += f"[{s[1]}]"
    return out or "(top)"


def _apply(nodes: list[Any], step: Step) -> list[Any]:
    out: list[Any] = []
    for node in nodes:
        if isinstance(node, dict):
            if step[0] == "key" and step[1] in node:
                out.append(node[step[1]])
            elif step[0] in ("any", "all"):
                out.extend(node.values())
        elif isinstance(node, list):
            if step[0] in ("any", "all"):
                out.extend(node)
            elif step[0] == "index" and -len(node) <= step[1] < len(node):
                out.append(node[step[1]])
            elif step[0] == "key":  # a name after a list applies to each element
                out.extend(_apply([x for x in node if isinstance(x, (dict, list))], step))
    return out


def _check(value: Any, steps: tuple[Step, ...], spec: str) -> None:
    """Raise UnknownField, naming what is there, when a path matches nothing at all."""
    nodes = [value]
    for k, step in enumerate(steps):
        found = _apply(nodes, step)
        if found:
            nodes = found
            continue
        if nodes and all(n is None for n in nodes):
            return  # the field exists and is null everywhere
        where = _show(steps[:k]) if k else "the top level"
        keys: Counter[str] = Counter()
        for n in nodes:
            for x in n if isinstance(n, list) else [n]:
                if isinstance(x, dict):
                    keys.update(x.keys())
        if keys:
            names = [key for key, _ in keys.most_common(40)]
            wanted = step[1] if step[0] == "key" else ""
            close = difflib.get_close_matches(str(wanted), names, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            listing = ", ".join(sorted(names)) + (", …" if len(keys) > 40 else "")
            raise UnknownField(f"field path {spec!r} matches nothing: {where} has {listing}{hint}")
        kinds = sorted({type(n).__name__ for n in nodes})
        raise UnknownField(
            f"field path {spec!r} matches nothing: {where} holds {'/'.join(_json_type(k) for k in kinds)}, "
            "not objects with fields"
        )


def _json_type(name: str) -> str:
    return {
        "dict": "objects",
        "list": "arrays",
        "str": "strings",
        "int": "numbers",
        "float": "numbers",
        "bool": "booleans",
        "NoneType": "nulls",
    }.get(name, name)
