"""The import graph: extraction per language (real tree-sitter), resolution to files in the real
store (SQLite and PostgreSQL), keeping it linked as files change, and the `deps` tool over it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from conftest import on_backend, sqlite_only

from tokenlean.indexers.chunks import chunk_file
from tokenlean.indexers.imports import Import, manifest
from tokenlean.indexers.indexer import Indexer, IndexOptions
from tokenlean.tools import deps as deps_mod
from tokenlean.tools.workspace import Workspace, WorkspaceOptions


@pytest.fixture
def index_dir(index_dir, store_backend, request):
    """Every test here runs on both store backends unless marked sqlite_only."""
    return on_backend(store_backend, index_dir, request)


def write_repo(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def imports(text: str, language: str) -> list[tuple[int, str, str, str]]:
    found = chunk_file(textwrap.dedent(text).lstrip("\n"), language).imports
    return [(i.line, i.kind, i.spec, i.names) for i in found]


def build(root: Path, index_dir: Path, files: dict[str, str]) -> Workspace:
    write_repo(root, files)
    ws = Workspace(
        [root], WorkspaceOptions(index_dir=index_dir, index=IndexOptions(workers=1, vectors="off"))
    )
    ws.store(root)
    return ws


def reindex(ws: Workspace) -> None:
    root = ws.roots.roots[0]
    Indexer(root, ws.options.index_dir, ws.options.index).run(with_vectors=False)


def links(ws: Workspace) -> set[tuple[str, str]]:
    store = ws.store(ws.roots.roots[0])
    paths = {state.id: path for path, state in store.file_states().items()}
    return {(paths[src], paths[dst]) for src, dst, _ in store.graph()}


# -- extraction


def test_python_imports_keep_relative_dots_and_the_imported_names():
    found = imports(
        """
        import os.path, json as j
        from . import sibling
        from ..pkg.mod import (first, second as alias)
        from .star import *

        def late():
            import lazy
        """,
        "python",
    )
    assert found == [
        (1, "import", "json", ""),
        (1, "import", "os.path", ""),
        (2, "import", ".", "sibling"),
        (3, "import", "..pkg.mod", "first,second"),
        (4, "import", ".star", "*"),
        (7, "import", "lazy", ""),
    ]


def test_javascript_imports_cover_modules_reexports_require_and_dynamic_import():
    found = imports(
        """
        import main, { a, b as c } from "./named";
        export { d } from "./reexported";
        export * from "./everything";
        const cjs = require("./common");
        const later = import("./lazy");
        require(variable);
        """,
        "javascript",
    )
    assert found == [
        (1, "import", "./named", "a,b"),
        (2, "import", "./reexported", "d"),
        (3, "import", "./everything", ""),
        (4, "import", "./common", ""),
        (5, "import", "./lazy", ""),
    ]


@pytest.mark.parametrize("language", ["typescript", "tsx"])
def test_typescript_type_imports_and_import_require(language):
    found = imports('import type { Props } from "@vue/shared";\nimport fs = require("fs");\n', language)
    assert found == [(1, "import", "@vue/shared", "Props"), (2, "import", "fs", "")]


def test_go_imports_are_package_paths_without_their_aliases():
    found = imports(
        """
        package main

        import (
        \t"fmt"
        \tcu "github.com/cli/cli/v2/pkg/cmdutil"
        )
        """,
        "go",
    )
    assert found == [(4, "import", "fmt", ""), (5, "import", "github.com/cli/cli/v2/pkg/cmdutil", "")]


def test_rust_use_trees_expand_into_paths_and_mod_declarations_are_kept():
    found = imports(
        """
        mod parser;
        mod inline { fn f() {} }
        use crate::builder::{Command, arg::{Arg as A, self}};
        use super::util::*;
        """,
        "rust",
    )
    assert found == [
        (1, "mod", "parser", ""),
        (3, "use", "crate::builder::Command", "Command"),
        (3, "use", "crate::builder::arg", ""),
        (3, "use", "crate::builder::arg::Arg", "Arg"),
        (4, "use", "super::util", "*"),
    ]


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        (
            "java",
            "import com.acme.Widget;\nimport com.acme.util.*;\n",
            [
                (1, "import", "com.acme.Widget", ""),
                (2, "import", "com.acme.util", "*"),
            ],
        ),
        ("c", '#include "util/str.h"\n#include <stdio.h>\n', [(1, "include", "util/str.h", "")]),
        ("cpp", '#include "engine.hpp"\n', [(1, "include", "engine.hpp", "")]),
        (
            "ruby",
            'require "json"\nrequire_relative "../lib/tool"\n',
            [
                (1, "import", "json", ""),
                (2, "relative", "../lib/tool", ""),
            ],
        ),
    ],
)
def test_java_c_cpp_and_ruby_imports(language, text, expected):
    assert imports(text, language) == expected


def test_manifests_declare_the_package_of_their_folder():
    assert manifest("go.mod", "module github.com/acme/tool\n\ngo 1.22\n") == [
        Import(1, "package", "github.com/acme/tool", "")
    ]
    cargo = '[workspace]\nmembers = ["x"]\n\n[package]\nversion = "1.0"\nname = "clap-lex"\n'
    assert manifest("crates/lex/Cargo.toml", cargo) == [Import(6, "package", "clap-lex", "")]
    assert manifest("packages/shared/package.json", '{"name": "@vue/shared"}') == [
        Import(1, "package", "@vue/shared", "")
    ]
    assert manifest("Cargo.toml", '[workspace]\nmembers = ["x"]\n') == []


# -- resolution

PYTHON_PROJECT = {
    "src/shop/__init__.py": "from .cart import Cart\n",
    "src/shop/cart.py": (
        "import json\nfrom .pricing import total\n\n"
        "class Cart:\n    def sum(self):\n        return total(self)\n"
    ),
    "src/shop/pricing.py": "def total(cart):\n    return 0\n",
    "src/shop/plugins/__init__.py": "",
    "src/shop/plugins/discount.py": "from ..cart import Cart\nfrom shop import pricing\n",
    "tests/test_cart.py": "from shop.cart import Cart\nimport shop.plugins.discount\n",
}


def test_python_relative_absolute_and_package_imports_resolve_to_files(tmp_path, index_dir):
    ws = build(tmp_path / "r", index_dir, PYTHON_PROJECT)
    assert links(ws) == {
        ("src/shop/__init__.py", "src/shop/cart.py"),
        ("src/shop/cart.py", "src/shop/pricing.py"),
        ("src/shop/plugins/discount.py", "src/shop/cart.py"),
        ("src/shop/plugins/discount.py", "src/shop/pricing.py"),  # `from shop import pricing`: a module
        ("tests/test_cart.py", "src/shop/cart.py"),
        ("tests/test_cart.py", "src/shop/plugins/discount.py"),
    }


def test_imports_no_indexed_file_satisfies_are_kept_as_external(tmp_path, index_dir):
    ws = build(tmp_path / "r", index_dir, PYTHON_PROJECT)
    store = ws.store(ws.roots.roots[0])
    cart = store.file("src/shop/cart.py")
    assert [(i.spec, i.resolved) for i in store.imports_of(cart.id)] == [("json", False), (".pricing", True)]


def test_javascript_relative_imports_resolve_extensions_index_files_and_ts_sources(tmp_path, index_dir):
    ws = build(
        tmp_path / "r",
        index_dir,
        {
            "web/app.ts": (
                'import { a } from "./lib";\nimport { b } from "./esm.js";\nimport React from "react";\n'
            ),
            "web/lib/index.ts": "export const a = 1;\n",
            "web/esm.ts": "export const b = 2;\n",
            "web/legacy.js": 'const x = require("../web/app");\n',
        },
    )
    assert links(ws) == {
        ("web/app.ts", "web/lib/index.ts"),
        ("web/app.ts", "web/esm.ts"),
        ("web/legacy.js", "web/app.ts"),
    }


def test_bare_imports_of_a_workspace_package_resolve_to_its_sources(tmp_path, index_dir):
    ws = build(
        tmp_path / "r",
        index_dir,
        {
            "packages/shared/package.json": '{"name": "@acme/shared"}',
            "packages/shared/src/index.ts": "export const x = 1;\n",
            "packages/app/src/main.ts": 'import { x } from "@acme/shared";\n',
        },
    )
    assert links(ws) == {("packages/app/src/main.ts", "packages/shared/src/index.ts")}


def test_bare_imports_of_a_package_without_sources_resolve_to_its_main_file(tmp_path, index_dir):
    ws = build(
        tmp_path / "r",
        index_dir,
        {
            "package.json": '{"name": "linter", "main": "./lib/api.js"}',
            "lib/api.js": "module.exports = {};\n",
            "tests/api.js": 'const { Linter } = require("linter");\n',
        },
    )
    assert links(ws) == {("tests/api.js", "lib/api.js")}


def test_go_imports_resolve_through_go_mod_to_every_source_file_of_the_package(tmp_path, index_dir):
    ws = build(
        tmp_path / "r",
        index_dir,
        {
            "go.mod": "module github.com/acme/tool\n\ngo 1.22\n",
            "cmd/tool/main.go": 'package main\n\nimport (\n\t"fmt"\n\t"github.com/acme/tool/pkg/store"\n)\n',
            "pkg/store/store.go": "package store\n",
            "pkg/store/cache.go": "package store\n",
            "pkg/store/store_test.go": "package store\n",
        },
    )
    assert links(ws) == {
        ("cmd/tool/main.go", "pkg/store/cache.go"),
        ("cmd/tool/main.go", "pkg/store/store.go"),
    }


def test_rust_mod_declarations_and_use_paths_resolve_to_module_files(tmp_path, index_dir):
    ws = build(
        tmp_path / "r",
        index_dir,
        {
            "Cargo.toml": '[package]\nname = "tool"\n',
            "src/lib.rs": "mod parser;\nmod output;\npub struct Config;\n",
            "src/parser.rs": "mod lexer;\nuse crate::output::render;\nuse std::io;\n",
            "src/parser/lexer.rs": "use super::Parser;\nuse crate::Config;\n",
            "src/output/mod.rs": "pub fn render() {}\n",
        },
    )
    assert links(ws) == {
        ("src/lib.rs", "src/parser.rs"),
        ("src/lib.rs", "src/output/mod.rs"),
        ("src/parser.rs", "src/parser/lexer.rs"),
        ("src/parser.rs", "src/output/mod.rs"),
        ("src/parser/lexer.rs", "src/parser.rs"),
        ("src/parser/lexer.rs", "src/lib.rs"),
    }


def test_rust_integration_tests_are_crates_of_their_own(tmp_path, index_dir):
    ws = build(
        tmp_path / "r",
        index_dir,
        {
            "Cargo.toml": '[package]\nname = "tool"\n',
            "src/lib.rs": "pub fn run() {}\n",
            "tests/tests.rs": "mod util;\nmod feature;\n",
            "tests/util.rs": "pub struct Dir;\n",
            "tests/feature.rs": "use crate::util::Dir;\nuse tool::run;\n",
        },
    )
    assert links(ws) == {
        ("tests/tests.rs", "tests/util.rs"),
        ("tests/tests.rs", "tests/feature.rs"),
        ("tests/feature.rs", "tests/util.rs"),
        ("tests/feature.rs", "src/lib.rs"),
    }


def test_a_new_file_satisfies_an_import_that_was_unresolved(tmp_path, index_dir):
    root = tmp_path / "r"
    ws = build(root, index_dir, {"app.py": "from helpers import clean\n"})
    assert links(ws) == set()
    write_repo(root, {"helpers.py": "def clean():\n    pass\n"})
    reindex(ws)
    assert links(ws) == {("app.py", "helpers.py")}


def test_a_deleted_module_leaves_its_import_to_the_package_that_remains(tmp_path, index_dir):
    root = tmp_path / "r"
    ws = build(
        root, index_dir, {"app.py": "from pkg import tools\n", "pkg/__init__.py": "", "pkg/tools.py": ""}
    )
    assert links(ws) == {("app.py", "pkg/tools.py")}
    (root / "pkg/tools.py").unlink()
    reindex(ws)
    assert links(ws) == {("app.py", "pkg/__init__.py")}


def test_an_edited_file_keeps_the_files_that_import_it_linked(tmp_path, index_dir):
    root = tmp_path / "r"
    ws = build(root, index_dir, PYTHON_PROJECT)
    before = links(ws)
    (root / "src/shop/pricing.py").write_text("def total(cart):\n    return 42\n")
    reindex(ws)
    assert links(ws) == before


# -- the deps tool


@pytest.fixture
def shop(tmp_path, index_dir) -> Workspace:
    ws = build(tmp_path / "r", index_dir, PYTHON_PROJECT)
    yield ws
    ws.close()


def test_deps_lists_what_a_file_imports_and_what_imports_it(shop):
    result = deps_mod.deps(shop, "src/shop/cart.py")
    text = deps_mod.deps_text(result)
    assert [d.path for d in result.uses] == ["src/shop/pricing.py"]
    assert [d.path for d in result.used_by] == [
        "src/shop/__init__.py",
        "src/shop/plugins/discount.py",
        "tests/test_cart.py",
    ]
    assert "src/shop/pricing.py L2 total" in text
    assert "external: json" in text
    assert "src/shop/plugins/discount.py L1 Cart" in text


def test_deps_follows_imports_to_the_requested_depth(shop):
    one = deps_mod.deps(shop, "tests/test_cart.py", direction="uses", depth=1)
    two = deps_mod.deps(shop, "tests/test_cart.py", direction="uses", depth=2)
    assert {d.path for d in one.uses} == {"src/shop/cart.py", "src/shop/plugins/discount.py"}
    deeper = [(d.path, d.depth, d.via) for d in two.uses if d.depth == 2]
    assert deeper == [("src/shop/pricing.py", 2, "src/shop/cart.py")]
    assert "via src/shop/cart.py L2" in deps_mod.deps_text(two)


def test_deps_used_by_walks_importers_of_importers(shop):
    result = deps_mod.deps(shop, "src/shop/pricing.py", direction="used_by", depth=2)
    assert {(d.path, d.depth) for d in result.used_by} == {
        ("src/shop/cart.py", 1),
        ("src/shop/plugins/discount.py", 1),
        ("src/shop/__init__.py", 2),
        ("tests/test_cart.py", 2),
    }


def test_deps_of_a_symbol_keeps_the_importers_that_name_it(shop):
    result = deps_mod.deps(shop, symbol="Cart.sum", direction="both")
    assert result.target == "src/shop/cart.py" and result.symbol == "Cart.sum"
    assert [d.path for d in result.uses] == ["src/shop/pricing.py"]  # `total` is used in its body
    assert result.external == []  # json is imported by the file, not used by the method
    assert {d.path for d in result.used_by} == {
        "src/shop/__init__.py",
        "src/shop/plugins/discount.py",
        "tests/test_cart.py",
    }


def test_deps_text_stays_within_its_budget_and_says_what_it_left_out(tmp_path, index_dir):
    files = {f"mods/m{i:02d}.py": "from core import run\n" for i in range(60)}
    files["core.py"] = "def run():\n    pass\n"
    ws = build(tmp_path / "r", index_dir, files)
    result = deps_mod.deps(ws, "core.py", budget_tokens=150)
    text = deps_mod.deps_text(result)
    assert result.tokens <= 150
    assert len(result.used_by) == 60
    assert "more not shown: raise budget_tokens" in text
    ws.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"path": "src/shop/nope.py"}, "no such file under the roots"),
        ({"path": "src/shop/cart.py", "depth": 0}, "depth must be between 1 and 5"),
        ({"path": "src/shop/cart.py", "depth": 9}, "depth must be between 1 and 5"),
        ({"symbol": "NoSuchThing"}, "no definition named 'NoSuchThing'"),
        ({"path": "src/shop/cart.py", "symbol": "missing"}, "no symbol 'missing' in src/shop/cart.py"),
        ({"path": "src/shop/cart.py", "direction": "sideways"}, "direction 'sideways'"),
        ({}, "give a path"),
    ],
)
def test_deps_questions_it_cannot_answer_are_actionable_errors(shop, args, message):
    with pytest.raises(deps_mod.TokenleanError, match=message):
        deps_mod.deps(shop, **args)


def test_deps_of_a_file_that_is_not_indexed_says_so(shop, tmp_path):
    (tmp_path / "r" / "notes.bin").write_bytes(b"\0\1\2")
    with pytest.raises(deps_mod.BadDeps, match=r"notes\.bin is not indexed"):
        deps_mod.deps(shop, "notes.bin")


@sqlite_only
def test_an_index_from_before_imports_is_read_again_to_fill_the_graph(tmp_path, index_dir):
    root = tmp_path / "r"
    ws = build(root, index_dir, PYTHON_PROJECT)
    store = ws.store(root)
    with store._write() as db:  # what schema version 2 looked like: no import tables
        db.execute("DROP TABLE edges")
        db.execute("DROP TABLE imports")
        db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    ws.close()
    ws = Workspace(
        [root], WorkspaceOptions(index_dir=index_dir, index=IndexOptions(workers=1, vectors="off"))
    )
    summary = ws.update(root)
    assert summary.updated == len(PYTHON_PROJECT)  # every file is read again
    assert ("src/shop/cart.py", "src/shop/pricing.py") in links(ws)
    ws.close()
