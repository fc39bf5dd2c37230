"""Import statements, as written, from tree-sitter queries kept as data (`queries/<lang>-imports.scm`),
and the package names that manifests declare (go.mod, Cargo.toml, package.json).

Captures: `@import` (the statement, for its line), `@spec` or `@spec.<kind>` (the module as written:
`..pkg.mod`, `./cart`, `github.com/x/y/pkg`, `crate::a::{b, c}`) and optional `@name` (an imported
name). Nothing is resolved here: which file a spec means depends on every file of the root, so the
store resolves specs after each update (`resolve.py`).
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any, NamedTuple

MAX_IMPORTS = 1000  # per file: generated files can hold thousands of requires
MAX_SPEC_CHARS = 300
PACKAGE = "package"  # the kind of a manifest's declaration: "this folder is package <spec>"
_RUST_ALIAS = re.compile(r"\s+as\s+[A-Za-z_]\w*")
_GO_MODULE = re.compile(r"^\s*module\s+(\S+)", re.MULTILINE)
_TOML_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$", re.MULTILINE)
_TOML_NAME = re.compile(r"""^\s*name\s*=\s*["']([^"']+)["']""", re.MULTILINE)


class Import(NamedTuple):
    """One module an import statement names (a statement naming several gives several)."""

    line: int  # 1-based line of the statement
    kind: str  # "import", or the capture's kind: "mod", "use", "include", "relative"; PACKAGE
    spec: str
    names: str  # imported names, comma-separated ("" for a whole module); a package.json's `main`


def query_source(language: str) -> str:
    """The imports query of a language ("" when there is none); chunks.py runs it with the tags
    query, in the same pass over the tree."""
    try:
        return resources.files(__package__).joinpath(f"queries/{language}-imports.scm").read_text()
    except (FileNotFoundError, OSError):
        return ""


def from_matches(matches: list[tuple[int, dict[str, list[Any]]]], src: bytes) -> list[Import]:
    """The imports among a file's query matches, in line order, one per (statement, module)."""
    found: dict[tuple[int, str, str], list[str]] = {}
    for _, caps in matches:
        key = next((k for k in caps if k == "spec" or k.startswith("spec.")), None)
        if key is None:
            continue
        node = caps[key][0]
        kind = key[5:] or "import"
        line = caps.get("import", [node])[0].start_point.row + 1
        names = [_text(src, n) for n in caps.get("name", [])]
        text = _text(src, node)
        pairs = _rust_paths(text) if kind == "use" else [(text.strip(), "")]
        for spec, name in pairs:
            if not spec or len(spec) > MAX_SPEC_CHARS:
                continue
            entry = found.setdefault((line, kind, spec), [])
            for n in [*names, name]:
                if n and n not in entry:
                    entry.append(n)
        if len(found) >= MAX_IMPORTS:
            break
    return [Import(line, kind, spec, ",".join(names)) for (line, kind, spec), names in sorted(found.items())]


def _text(src: bytes, node: Any) -> str:
    return src[node.start_byte : node.end_byte].decode("utf-8", errors="replace")


def _rust_paths(text: str) -> list[tuple[str, str]]:
    """A `use` tree as (path, imported name) pairs: `a::{b, c::D as E, self}` gives
    (a::b, b), (a::c::D, D), (a, ""); a glob `a::*` gives (a, *)."""
    flat = re.sub(r"\s+", "", _RUST_ALIAS.sub("", text)).removeprefix("::")
    out: list[tuple[str, str]] = []

    def walk(prefix: str, part: str) -> None:
        brace = part.find("{")
        if brace < 0:
            path = prefix + part
            if path.endswith("::*"):
                out.append((path[:-3], "*"))
            elif path.endswith("::self"):
                out.append((path[:-6], ""))
            elif path:
                out.append((path, path.rsplit("::", 1)[-1]))
            return
        head, inner = part[:brace], part[brace + 1 : part.rfind("}")]
        for item in _top_level_split(inner):
            if item == "self":
                out.append(((prefix + head).removesuffix("::"), ""))
            elif item:
                walk(prefix + head, item)

    walk("", flat)
    return out


def _top_level_split(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def manifest(rel: str, text: str) -> list[Import]:
    """The package a manifest declares for its folder: go.mod's module path, Cargo.toml's crate
    name, package.json's name (with its `main` file as the names). Empty for other files and for
    manifests that declare none."""
    name = rel.rsplit("/", 1)[-1]
    if name == "go.mod":
        m = _GO_MODULE.search(text)
        return (
            [Import(text.count("\n", 0, m.start(1)) + 1, PACKAGE, m.group(1).strip("\"'"), "")] if m else []
        )
    if name == "Cargo.toml":
        sections = list(_TOML_SECTION.finditer(text))
        for i, sec in enumerate(sections):
            if sec.group(1).strip() != "package":
                continue
            end = sections[i + 1].start() if i + 1 < len(sections) else len(text)
            m = _TOML_NAME.search(text, sec.end(), end)
            if m:
                return [Import(text.count("\n", 0, m.start(1)) + 1, PACKAGE, m.group(1), "")]
        return []
    if name == "package.json":
        try:
            data = json.loads(text)
        except ValueError:
            return []
        if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not data["name"]:
            return []
        entry = data.get("main") if isinstance(data.get("main"), str) else ""
        return [Import(1, PACKAGE, data["name"], entry)]
    return []
