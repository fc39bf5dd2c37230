"""Which indexed files an import spec means: each language's module rules, approximated from the file
list alone (no build tool, no tsconfig, no installed packages). Pure: paths in, paths out.

- Python: dotted modules against the root and its source roots (`src/`, `lib/`, ancestors of the
  importing file), packages (`__init__.py`), relative imports; `from a import b` prefers a
  submodule `a/b.py` to a name in `a`.
- JavaScript/TypeScript: relative paths with extension and `index` resolution (`./x.js` may be
  `x.ts`), `@/` and `~/` as `src/`, and bare specifiers of packages whose package.json is indexed.
- Go: import paths under a go.mod's module path map to that package's folder (every non-test file
  of it); without go.mod, the longest package folder the import path ends with.
- Rust: `mod x;` to `x.rs` or `x/mod.rs`; `use crate::`, `super::`, `self::` and workspace crates
  (Cargo.toml names) to the longest module path that is a file, else the crate root.
- Java/Kotlin, C/C++ (`#include "x.h"`), Ruby (`require`, `require_relative`): by path suffix.

Anything else (the standard library, installed packages) is left unresolved: external.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from typing import NamedTuple

FAMILY = {
    "python": "python",
    "javascript": "js",
    "typescript": "js",
    "tsx": "js",
    "go": "go",
    "rust": "rust",
    "java": "java",
    "kotlin": "java",
    "c": "c",
    "cpp": "c",
    "ruby": "ruby",
}
PY_SOURCE_ROOTS = frozenset({"src", "lib", "python", "Lib"})
JS_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts", ".vue", ".svelte")
_JS_EMITTED = (".js", ".jsx", ".mjs", ".cjs")  # TypeScript ESM imports name the emitted file
_JS_SOURCES = (".ts", ".tsx", ".mts", ".cts", ".d.ts")
_JAVA_EXTENSIONS = (".java", ".kt", ".kts", ".scala")
_RUST_TARGET_DIRS = frozenset({"tests", "benches", "examples"})


class Target(NamedTuple):
    path: str
    names: str  # the imported names that come from this file, comma-separated


class Resolver:
    """Resolves specs against one root's files and the packages its manifests declare."""

    def __init__(self, paths: Iterable[str], packages: Iterable[tuple[str, str, str]] = ()) -> None:
        """`packages`: (manifest path, declared name, entry file) of go.mod, Cargo.toml, package.json."""
        self.paths = set(paths)
        self.go_modules: list[tuple[str, str]] = []  # (module path, folder), longest first
        self.crates: dict[str, str] = {}  # crate name (with '_') -> folder
        self.npm: dict[str, tuple[str, str]] = {}  # package name -> (folder, its `main` file)
        for manifest, name, entry in sorted(packages, key=lambda mp: (len(mp[0]), mp[0])):
            folder, file = posixpath.split(manifest)
            if file == "go.mod":
                self.go_modules.append((name, folder))
            elif file == "Cargo.toml":
                self.crates.setdefault(name.replace("-", "_"), folder)
            elif file == "package.json":
                self.npm.setdefault(name, (folder, entry))
        self.go_modules.sort(key=lambda mf: -len(mf[0]))
        self._dirs: dict[str, list[str]] | None = None
        self._py: dict[str, list[tuple[str, str]]] | None = None
        self._java: dict[str, list[str]] | None = None
        self._names: dict[str, list[str]] | None = None
        self._by_family: dict[str, Callable[[str, str, str, list[str]], list[Target]]] = {
            "python": self._python,
            "js": self._js,
            "go": self._go,
            "rust": self._rust,
            "java": self._java_like,
            "c": self._c,
            "ruby": self._ruby,
        }

    def resolve(self, importer: str, language: str, kind: str, spec: str, names: str) -> list[Target]:
        """The files `spec` (imported by `importer`) means; [] when it is external or unknown. May
        hold the importer itself (Rust's `use self::Item` of an item of its own)."""
        family = FAMILY.get(language)
        if family is None or not spec:
            return []
        found = self._by_family[family](importer, kind, spec, [n for n in names.split(",") if n])
        merged: dict[str, list[str]] = {}
        for path, got in found:
            entry = merged.setdefault(path, [])
            entry += [n for n in got.split(",") if n and n not in entry]
        return [Target(path, ",".join(ns)) for path, ns in merged.items()]

    # -- indexes, built on first use

    @property
    def dirs(self) -> dict[str, list[str]]:
        if self._dirs is None:
            self._dirs = {}
            for p in sorted(self.paths):
                self._dirs.setdefault(posixpath.dirname(p), []).append(p)
        return self._dirs

    @property
    def by_name(self) -> dict[str, list[str]]:
        if self._names is None:
            self._names = {}
            for p in sorted(self.paths):
                self._names.setdefault(posixpath.basename(p), []).append(p)
        return self._names

    @property
    def py_modules(self) -> dict[str, list[tuple[str, str]]]:
        """Dotted module name -> (import root, file) for every root the file could be imported from."""
        if self._py is None:
            self._py = {}
            for p in sorted(self.paths):
                stem = _strip(p, (".py", ".pyi"))
                if stem is None:
                    continue
                segs = stem.split("/")
                if segs[-1] == "__init__":
                    segs.pop()
                for k in range(len(segs) - 1, -1, -1):
                    if not segs[k].isidentifier():
                        break
                    self._py.setdefault(".".join(segs[k:]), []).append(("/".join(segs[:k]), p))
        return self._py

    @property
    def java_types(self) -> dict[str, list[str]]:
        if self._java is None:
            self._java = {}
            for p in sorted(self.paths):
                stem = _strip(p, _JAVA_EXTENSIONS)
                if stem is None:
                    continue
                segs = stem.split("/")
                for k in range(len(segs) - 1, -1, -1):
                    self._java.setdefault(".".join(segs[k:]), []).append(p)
        return self._java

    # -- Python

    def _python(self, importer: str, kind: str, spec: str, names: list[str]) -> list[Target]:
        if spec.startswith("."):
            level = len(spec) - len(spec.lstrip("."))
            base = posixpath.dirname(importer)
            for _ in range(level - 1):
                if not base:
                    return []  # above the root
                base = posixpath.dirname(base)
            segs = [s for s in spec[level:].split(".") if s]

            def find(mod: list[str]) -> str | None:
                return self._py_file(base, mod)
        else:
            segs = spec.split(".")

            def find(mod: list[str]) -> str | None:
                return self._py_lookup(mod, importer)

        out: list[Target] = []
        rest: list[str] = []
        for name in names:
            hit = find([*segs, name]) if name != "*" else None  # a submodule: `from pkg import mod`
            if hit:
                out.append(Target(hit, name))
            else:
                rest.append(name)
        if rest or not names:
            hit = find(segs)
            k = len(segs) - 1
            # `import a.b.c` where c is compiled: still a.b; but a top-level package alone is too
            # vague an answer (a package-dir mapping, a namespace package): no edge rather than a wrong one.
            while hit is None and k >= 2 and not spec.startswith("."):
                hit, k = find(segs[:k]), k - 1
            if hit:
                out.append(Target(hit, ",".join(rest)))
        return out

    def _py_file(self, base: str, mod: list[str]) -> str | None:
        path = posixpath.join(base, *mod) if mod else base
        candidates = (f"{path}.py", f"{path}/__init__.py", f"{path}.pyi", f"{path}/__init__.pyi")
        if not mod:
            candidates = candidates[1::2]
        return next((c.lstrip("/") for c in candidates if c.lstrip("/") in self.paths), None)

    def _py_lookup(self, mod: list[str], importer: str) -> str | None:
        dotted = ".".join(mod)
        best: tuple[tuple[int, int, bool, str], str] | None = None
        for prefix, path in self.py_modules.get(dotted, ()):
            if prefix == "":
                rank = (0, 0)
            elif prefix.rsplit("/", 1)[-1] in PY_SOURCE_ROOTS:
                rank = (1, len(prefix))
            elif importer.startswith(prefix + "/"):
                rank = (2, -len(prefix))  # the nearest folder of a script: its sys.path[0]
            elif len(mod) > 1:
                rank = (3, len(prefix))  # a dotted name is specific enough to trust elsewhere
            else:
                continue  # `import json` must not mean some `tests/json.py`
            key = (*rank, path.endswith(".pyi"), path)
            if best is None or key < best[0]:
                best = (key, path)
        return best[1] if best else None

    # -- JavaScript / TypeScript

    def _js(self, importer: str, kind: str, spec: str, names: list[str]) -> list[Target]:
        spec = spec.split("?", 1)[0].split("#", 1)[0]
        joined = ",".join(names)
        if spec in (".", "..") or spec.startswith(("./", "../")):
            hit = self._js_file(posixpath.normpath(posixpath.join(posixpath.dirname(importer), spec)))
            return [Target(hit, joined)] if hit else []
        if spec.startswith(("@/", "~/")):
            rest = spec[2:]
            hit = self._js_file(f"src/{rest}") or self._js_file(rest)
            return [Target(hit, joined)] if hit else []
        if spec.startswith("/") or ":" in spec:
            return []  # absolute URLs, `node:fs`, `virtual:...`
        parts = spec.split("/")
        n = 2 if spec.startswith("@") else 1
        package = self.npm.get("/".join(parts[:n]))
        if package is None:
            return []
        folder, entry = package
        sub = "/".join(parts[n:])
        # Sources before what package.json points at (often a build output that is not indexed).
        targets = [posixpath.join(folder, base, sub or "index") for base in ("src", "", "lib")]
        if not sub and entry:
            targets.insert(1, posixpath.normpath(posixpath.join(folder, entry)))
        for target in targets:
            hit = self._js_file(target)
            if hit:
                return [Target(hit, joined)]
        return []

    def _js_file(self, base: str) -> str | None:
        if base.startswith("../") or base == "..":
            return None
        base = "" if base == "." else base
        if base in self.paths:
            return base
        stem = _strip(base, _JS_EMITTED)
        if stem is not None:
            hit = next((stem + ext for ext in _JS_SOURCES if stem + ext in self.paths), None)
            if hit:
                return hit
        for ext in JS_EXTENSIONS:
            if base + ext in self.paths:
                return base + ext
        index = posixpath.join(base, "index")
        return next((index + ext for ext in JS_EXTENSIONS if index + ext in self.paths), None)

    # -- Go

    def _go(self, importer: str, kind: str, spec: str, names: list[str]) -> list[Target]:
        for module, folder in self.go_modules:
            if spec == module or spec.startswith(module + "/"):
                return self._go_package(posixpath.join(folder, spec[len(module) + 1 :]).rstrip("/"))
        if self.go_modules:
            return []  # the standard library or another module
        segs = spec.split("/")
        for k in range(len(segs)):
            found = self._go_package("/".join(segs[k:]))
            if found:
                return found
        return []

    def _go_package(self, folder: str) -> list[Target]:
        files = self.dirs.get(folder, [])
        return [Target(p, "") for p in files if p.endswith(".go") and not p.endswith("_test.go")]

    # -- Rust

    def _rust(self, importer: str, kind: str, spec: str, names: list[str]) -> list[Target]:
        joined = ",".join(names)
        folder, file = posixpath.split(importer)
        if kind == "mod":
            stem = file.removesuffix(".rs")
            root_file = stem in ("mod", "lib", "main") or (
                posixpath.basename(folder) in (*_RUST_TARGET_DIRS, "bin")
                and self._crate_src(importer) == folder
            )
            base = folder if root_file else posixpath.join(folder, stem)
            for cand in (posixpath.join(base, f"{spec}.rs"), posixpath.join(base, spec, "mod.rs")):
                if cand in self.paths:
                    return [Target(cand, "")]
            return []
        segs = [s for s in spec.split("::") if s]
        if not segs:
            return []
        src = self._crate_src(importer)
        here = self._rust_module(importer, src) if src is not None else None
        if segs[0] == "crate" and src is not None:
            mod = segs[1:]
        elif segs[0] in ("super", "self"):
            if here is None:
                return []
            mod = list(here)
            while segs and segs[0] in ("super", "self"):
                if segs.pop(0) == "super":
                    if not mod:
                        return []
                    mod.pop()
            mod += segs
        elif segs[0] in self.crates:
            src, mod = posixpath.join(self.crates[segs[0]], "src"), segs[1:]
        elif here is not None and self._rust_file(src, [*here, segs[0]]):
            mod = here + segs  # a child module named without `self::` (2018 paths)
        else:
            return []  # std, core, or a crate from crates.io
        for k in range(len(mod), -1, -1):
            hit = self._rust_file(src, mod[:k])
            if hit:
                return [Target(hit, joined)]
        return []

    def _crate_src(self, importer: str) -> str | None:
        """The folder `crate::` paths of `importer` start from: the nearest folder above it holding
        lib.rs or main.rs, or a crate's tests/benches/examples folder (each file there is a crate
        root); else the crate's `src`, else the nearest `src` folder."""
        crate = None
        for folder in self.crates.values():
            if (folder == "" or importer.startswith(folder + "/")) and (
                crate is None or len(folder) > len(crate)
            ):
                crate = folder
        folder = posixpath.dirname(importer)
        while True:
            if _join(folder, "lib.rs") in self.paths or _join(folder, "main.rs") in self.paths:
                return folder
            parent = posixpath.dirname(folder)
            if posixpath.basename(folder) in _RUST_TARGET_DIRS and (crate is None or parent == crate):
                return folder
            if folder in ("", crate):
                break
            folder = parent
        if crate is not None:
            return _join(crate, "src")
        parts = importer.split("/")
        for i in range(len(parts) - 1, -1, -1):
            if parts[i] == "src":
                return "/".join(parts[: i + 1])
        return None

    @staticmethod
    def _rust_module(importer: str, src: str) -> list[str] | None:
        """A file's module path within its crate (`src/a/b.rs` and `src/a/b/mod.rs`: [a, b])."""
        if not importer.startswith(src + "/") or not importer.endswith(".rs"):
            return None
        segs = importer[len(src) + 1 : -3].split("/")
        if segs[-1] == "mod":
            segs.pop()
        return [] if segs in (["lib"], ["main"]) else segs

    def _rust_file(self, src: str, mod: list[str]) -> str | None:
        if not mod:
            return next((c for c in (f"{src}/lib.rs", f"{src}/main.rs") if c in self.paths), None)
        path = posixpath.join(src, *mod)
        return next((c for c in (f"{path}.rs", f"{path}/mod.rs") if c in self.paths), None)

    # -- Java/Kotlin, C/C++, Ruby: by path suffix

    def _java_like(self, importer: str, kind: str, spec: str, names: list[str]) -> list[Target]:
        segs = spec.split(".")
        if names == ["*"]:
            return [Target(p, "") for p in self._dirs_ending("/".join(segs)) if _strip(p, _JAVA_EXTENSIONS)]
        for k in range(len(segs), 1 if len(segs) > 1 else 0, -1):
            found = self.java_types.get(".".join(segs[:k]))
            if found:
                return [Target(min(found, key=lambda p: (len(p), p)), ",".join(names))]
        return []

    def _dirs_ending(self, suffix: str) -> list[str]:
        folders = [d for d in self.dirs if d == suffix or d.endswith("/" + suffix)]
        return self.dirs[min(folders, key=len)] if folders else []

    def _c(self, importer: str, kind: str, spec: str, names: list[str]) -> list[Target]:
        local = posixpath.normpath(posixpath.join(posixpath.dirname(importer), spec))
        if local in self.paths:
            return [Target(local, "")]
        hit = self._by_suffix(spec, importer)
        return [Target(hit, "")] if hit else []

    def _ruby(self, importer: str, kind: str, spec: str, names: list[str]) -> list[Target]:
        rel = spec if spec.endswith(".rb") else f"{spec}.rb"
        if kind == "relative":
            local = posixpath.normpath(posixpath.join(posixpath.dirname(importer), rel))
            return [Target(local, "")] if local in self.paths else []
        hit = self._by_suffix(rel, importer, prefer="lib/")
        return [Target(hit, "")] if hit else []

    def _by_suffix(self, rel: str, importer: str, prefer: str = "") -> str | None:
        """The file whose path ends with `rel`, nearest to the importer (then shortest)."""
        rel = posixpath.normpath(rel)
        found = [
            p for p in self.by_name.get(posixpath.basename(rel), []) if p == rel or p.endswith("/" + rel)
        ]
        if not found:
            return None

        def key(p: str) -> tuple[bool, int, int, str]:
            shared = len(posixpath.commonpath([p, importer])) if "/" in p and "/" in importer else 0
            return (not (prefer and p.endswith(prefer + rel)), -shared, len(p), p)

        return min(found, key=key)


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def _strip(path: str, suffixes: tuple[str, ...]) -> str | None:
    """`path` without the first of `suffixes` it ends with, or None."""
    for suffix in suffixes:
        if path.endswith(suffix):
            return path[: -len(suffix)]
    return None
