"""Dependencies point one way: server -> tools -> indexers (DESIGN.md §1)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "indexers": ("mcp", "tokenlean.server", "tokenlean.tools", "click", "rich"),
    "tools": ("mcp", "tokenlean.server", "click"),
}


def imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the package folder
                package = path.parent.name
                if node.level > 1 or package not in FORBIDDEN:
                    names.append(f"tokenlean.{node.module or ''}")
            elif node.module:
                names.append(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_upper_ones(layer):
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        for name in imports(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer])
    ]
    assert offenders == []
