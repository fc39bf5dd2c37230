"""What a server's tool list costs a client, in tokens: tokenlean's modes beside popular code servers.

    python bench/tools_list.py [--others] [--root DIR]

Starts each server over stdio, asks `tools/list` (and reads `instructions` from `initialize`) with
the MCP Python client, and counts o200k tokens of the JSON a client receives, the same way for
every server. `--others` also measures other MCP servers, each installed on first use into its own
environment under bench/.cache/servers (PyPI packages in a venv, npm packages with npm); a server
that cannot be installed or started is reported as skipped, with the reason.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "servers"
# (label, kind, package, command relative to its environment, extra args)
OTHERS = [
    ("jcodemunch-mcp", "pypi", "jcodemunch-mcp", ["bin", "jcodemunch-mcp"], []),
    ("code-index-mcp", "pypi", "code-index-mcp", ["bin", "code-index-mcp"], []),
    ("mcp-server-git", "pypi", "mcp-server-git", ["bin", "mcp-server-git"], ["--repository", "{root}"]),
    ("serena", "pypi", "serena-agent", ["bin", "serena"], ["start-mcp-server", "--project", "{root}"]),
    (
        "server-filesystem",
        "npm",
        "@modelcontextprotocol/server-filesystem",
        ["node_modules", ".bin", "mcp-server-filesystem"],
        ["{root}"],
    ),
]


async def measure(command: str, args: list[str], env: dict[str, str], cwd: str) -> dict:
    from mcp import Client, StdioServerParameters

    from tokenlean.indexers import tokens

    params = StdioServerParameters(command=command, args=args, env=env, cwd=cwd)
    async with asyncio.timeout(180), Client(params, mode="legacy") as client:
        tools = (await client.list_tools()).tools
        init = getattr(client, "initialize_result", None) or getattr(
            client.session, "initialize_result", None
        )
    payload = [t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in tools]
    instructions = getattr(init, "instructions", None) or ""
    always = [t.name for t in tools if (t.meta or {}).get("anthropic/alwaysLoad")]
    return {
        "tools": len(tools),
        "tokens": tokens.count(json.dumps(payload, separators=(",", ":"), ensure_ascii=False)),
        "instructions": tokens.count(instructions),
        "always_load_tokens": tokens.count(
            json.dumps([p for p in payload if p["name"] in always], separators=(",", ":"), ensure_ascii=False)
        ),
    }


def install(kind: str, package: str) -> Path:
    target = CACHE / package.replace("/", "+")
    if (target / ".done").exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    if kind == "pypi":
        subprocess.run([sys.executable, "-m", "venv", str(target)], check=True)
        subprocess.run([str(target / "bin" / "pip"), "install", "-q", package], check=True, timeout=900)
    else:
        npm = shutil.which("npm") or "npm"
        subprocess.run(
            [npm, "install", "--prefix", str(target), "--no-audit", "--no-fund", package],
            check=True,
            timeout=900,
            stdout=subprocess.DEVNULL,
        )
    (target / ".done").write_text("ok")
    return target


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=HERE.parent)
    ap.add_argument("--others", action="store_true", help="also measure other MCP servers (installs them)")
    args = ap.parse_args()
    scratch = tempfile.mkdtemp(prefix="tokenlean-toolslist-")
    env = dict(os.environ, TOKENLEAN_INDEX_DIR=scratch, TOKENLEAN_LEDGER=f"{scratch}/ledger.db")
    base = [sys.executable, "-m", "tokenlean", "serve", "--root", str(args.root), "--no-index-on-start"]
    rows: list[tuple[str, dict | str]] = []
    for label, extra in (
        ("tokenlean (all toolsets)", []),
        ("tokenlean --toolsets code", ["--toolsets", "code"]),
        ("tokenlean --meta-tools", ["--meta-tools"]),
    ):
        rows.append((label, asyncio.run(measure(base[0], base[1:] + extra, env, str(args.root)))))
    if args.others:
        project = Path(tempfile.mkdtemp(prefix="tokenlean-toolslist-project-"))  # some servers write into it
        (project / "main.py").write_text("def main():\n    return 0\n")
        subprocess.run(["git", "init", "-q", str(project)], check=False)
        for label, kind, package, rel, extra in OTHERS:
            try:
                where = install(kind, package)
                command = str(where.joinpath(*rel))
                argv = [a.replace("{root}", str(project)) for a in extra]
                rows.append((label, asyncio.run(measure(command, argv, dict(os.environ), str(project)))))
            except Exception as exc:  # a server we cannot run is reported, not fatal
                rows.append((label, f"skipped: {type(exc).__name__}: {str(exc)[:120]}"))
    print(f"{'server':<30}{'tools':>6}{'tools/list tokens':>19}{'always-loaded':>15}{'instructions':>14}")
    for label, r in rows:
        if isinstance(r, str):
            print(f"{label:<30}  {r}")
        else:
            print(
                f"{label:<30}{r['tools']:>6}{r['tokens']:>19,}{r['always_load_tokens']:>15,}{r['instructions']:>14,}"
            )


if __name__ == "__main__":
    main()
