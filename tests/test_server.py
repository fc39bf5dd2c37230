"""The MCP server as clients see it: in-memory, over stdio, and over streamable HTTP."""

import json
import os
import socket
import subprocess
import sys
import time

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tokenlean.indexers import tokens
from tokenlean.server.app import build_server
from tokenlean.server.config import load_config
from tokenlean.tools.workspace import Workspace

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def server(repo, index_dir):
    cfg = load_config([repo], index_dir=index_dir)
    ws = Workspace(cfg.roots, cfg.workspace_options())
    yield build_server(ws, cfg)
    ws.close()


def text_of(result) -> str:
    assert len(result.content) == 1
    return result.content[0].text


async def test_tool_list_is_small_lean_and_marked_to_always_load(server):
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
    assert [t.name for t in tools] == [
        "search",
        "read",
        "deps",
        "outline",
        "slice",
        "prune",
        "stash",
        "ledger",
    ]
    raw = json.dumps([t.model_dump(by_alias=True, exclude_none=True) for t in tools])
    assert '"title"' not in raw and "anyOf" not in raw
    always = {"anthropic/alwaysLoad": True}
    assert [t.meta for t in tools] == [always, always, None, None, None, None, None, None]
    assert tools[0].annotations.read_only_hint and tools[1].annotations.read_only_hint
    assert tokens.count(raw) < 2500


async def test_search_returns_text_only_with_a_footer(server):
    async with Client(server) as client:
        result = await client.call_tool("search", {"query": "verify_password"})
    assert not result.is_error
    assert result.structured_content is None
    text = text_of(result)
    assert "[1] src/app/auth.py:" in text and "function verify_password" in text
    assert text.splitlines()[-1].startswith("— ") and "whole files" in text.splitlines()[-1]


async def test_read_returns_the_symbol(server):
    async with Client(server) as client:
        result = await client.call_tool("read", {"path": "src/app/auth.py", "symbol": "TokenStore.revoke"})
    assert not result.is_error
    assert "def revoke(self, token: str) -> None:" in text_of(result)


async def test_deps_says_who_imports_a_file(server):
    async with Client(server) as client:
        result = await client.call_tool("deps", {"path": "src/app/auth.py", "direction": "used_by"})
    assert not result.is_error
    text = text_of(result)
    assert text.startswith("deps src/app/auth.py")
    assert "src/app/http_server.py L1 TokenStore" in text
    assert text.splitlines()[-1].startswith("— ")


async def test_outline_maps_the_repository_within_its_budget(server):
    async with Client(server) as client:
        result = await client.call_tool("outline", {"budget_tokens": 200})
    assert not result.is_error
    text = text_of(result)
    assert text.startswith("outline of the whole repository")
    assert "src/app/auth.py" in text and "class TokenStore:" in text
    assert tokens.count(text.rsplit("\n", 1)[0]) <= 200


@pytest.mark.parametrize(
    ("tool", "args", "message"),
    [
        ("search", {"query": ""}, "empty query"),
        ("search", {"query": "x", "cursor": "bogus"}, "cursor"),
        ("search", {"query": "x", "fields": ["nope"]}, "unknown field"),
        ("read", {"path": "../../etc/passwd"}, "outside the configured roots"),
        ("read", {"path": ".env"}, "secrets file"),
        ("read", {"path": "src/app/auth.py", "symbol": "missing"}, "no symbol 'missing'"),
        ("read", {}, "give a path"),
        ("search", {"query": "x", "limit": 0}, "limit"),
        ("deps", {"path": "src/app/missing.py"}, "no such file under the roots"),
        ("deps", {"path": "src/app/auth.py", "depth": 7}, "depth"),
    ],
)
async def test_bad_arguments_come_back_as_error_results(server, tool, args, message):
    async with Client(server) as client:
        result = await client.call_tool(tool, args)
    assert result.is_error
    assert message in text_of(result)


async def test_server_keeps_serving_after_an_error(server):
    async with Client(server) as client:
        assert (await client.call_tool("read", {"path": "/etc/shadow"})).is_error
        assert not (await client.call_tool("search", {"query": "ShoppingCart"})).is_error


async def test_codex_clients_get_responses_under_its_output_cap(server):
    from mcp.types import Implementation

    async with Client(
        server, mode="legacy", client_info=Implementation(name="codex-mcp-client", version="1")
    ) as c:
        result = await c.call_tool(
            "search", {"query": "token request cart", "budget_tokens": 20000, "limit": 50}
        )
    assert tokens.count(text_of(result)) <= 2_300


def _env(index_dir):
    env = dict(os.environ)
    env["TOKENLEAN_INDEX_DIR"] = str(index_dir)
    return env


async def test_stdio_subprocess_round_trip(repo, index_dir):
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "tokenlean", "serve", "--root", str(repo)],
        env=_env(index_dir),
    )
    with anyio.fail_after(60):
        async with Client(params) as client:
            names = [t.name for t in (await client.list_tools()).tools]
            result = await client.call_tool("search", {"query": "ListenAndServe"})
    assert names == ["search", "read", "deps", "outline", "slice", "prune", "stash", "ledger"]
    assert "cmd/server/main.go" in text_of(result)


async def test_serve_slice_vectors_sets_what_slice_ranks_with_over_stdio(repo, index_dir):
    from test_slice import LINTASTIC

    (repo / "docs").mkdir(exist_ok=True)
    (repo / "docs/lint.md").write_text(LINTASTIC)
    role = {"path": "docs/lint.md", "role": "tech lead: what are its limitations?", "summary": False}
    answers = []
    for flags in ([], ["--slice-vectors", "off"]):
        args = ["-m", "tokenlean", "serve", "--root", str(repo), "--no-index-on-start", *flags]
        params = StdioServerParameters(command=sys.executable, args=args, env=_env(index_dir))
        with anyio.fail_after(60):
            async with Client(params) as client:
                answers.append(text_of(await client.call_tool("slice", role)))
    # no word of the role is in the document: meaning finds the section, unless slicing's are off
    assert "Why you might pick something else" in answers[0]
    assert "nothing in the document matches" in answers[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def http_server(repo, index_dir):
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tokenlean",
            "serve",
            "--root",
            str(repo),
            "--transport",
            "http",
            "--port",
            str(port),
            "--token",
            "s3cret",
        ],
        env=_env(index_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/mcp"
    proc.terminate()
    proc.wait(timeout=10)


async def test_http_round_trip_with_bearer_token(http_server):
    http = httpx2.AsyncClient(headers={"Authorization": "Bearer s3cret"}, timeout=30)
    async with http, Client(streamable_http_client(http_server, http_client=http)) as client:
        result = await client.call_tool("search", {"query": "ShoppingCart addItem"})
    assert "web/cart.ts" in text_of(result)


async def test_http_without_the_token_is_refused(http_server):
    async with httpx2.AsyncClient(timeout=10) as http:
        response = await http.post(http_server, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert response.status_code == 401
    assert "www-authenticate" not in response.headers  # it would send clients into an OAuth flow


async def test_http_with_a_foreign_origin_is_refused(http_server):
    headers = {
        "Authorization": "Bearer s3cret",
        "Origin": "http://evil.example",
        "Accept": "application/json",
    }
    async with httpx2.AsyncClient(timeout=10, headers=headers) as http:
        response = await http.post(http_server, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert response.status_code == 403


def test_serving_on_a_public_address_without_a_token_is_refused(repo):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "tokenlean",
            "serve",
            "--root",
            str(repo),
            "--transport",
            "http",
            "--host",
            "0.0.0.0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and "without a bearer token" in r.stderr


def test_starting_the_server_imports_no_embedding_stack():
    code = (
        "import sys, tokenlean.server.app, tokenlean.server.cli; "
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert out.strip() == "[]"


async def test_server_started_in_a_tool_folder_indexes_nothing_and_says_why(tmp_path, index_dir):
    home = tmp_path / "home"
    codex_home = home / ".codex"
    (codex_home / "sessions").mkdir(parents=True)
    (codex_home / "auth.json").write_text('{"token": "x"}')
    env = _env(index_dir) | {"HOME": str(home)}
    env.pop("TOKENLEAN_ROOTS", None)
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "tokenlean", "serve"], env=env, cwd=str(codex_home)
    )
    with anyio.fail_after(60):
        async with Client(params) as client:
            result = await client.call_tool("search", {"query": "token"})
    assert result.is_error
    assert "not a project" in text_of(result) and "--root" in text_of(result)
    assert not index_dir.exists() or not any(index_dir.iterdir())


def test_not_a_project_spots_home_root_and_tool_folders(tmp_path, monkeypatch):
    from tokenlean.server.config import not_a_project

    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".claude" / "projects").mkdir(parents=True)
    (tmp_path / "code" / "app").mkdir(parents=True)
    assert not_a_project(tmp_path) == "your home folder"
    assert "settings folder" in not_a_project(tmp_path / ".claude" / "projects")
    assert not_a_project(tmp_path / "code" / "app") is None
    assert not_a_project(tmp_path.anchor and tmp_path.__class__("/")) == "the filesystem root"


async def test_toolsets_choose_what_the_server_exposes(repo, index_dir):
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "tokenlean",
            "serve",
            "--root",
            str(repo),
            "--toolsets",
            "code,ledger",
            "--no-index-on-start",
        ],
        env=_env(index_dir),
    )
    with anyio.fail_after(60):
        async with Client(params) as client:
            names = [t.name for t in (await client.list_tools()).tools]
    assert names == ["search", "read", "deps", "outline", "ledger"]


def test_unknown_toolset_is_refused(repo):
    r = subprocess.run(
        [sys.executable, "-m", "tokenlean", "serve", "--root", str(repo), "--toolsets", "code,magic"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and "unknown toolset 'magic'" in r.stderr


async def test_meta_tools_find_then_call(repo, index_dir):
    cfg = load_config([repo], index_dir=index_dir)
    ws = Workspace(cfg.roots, cfg.workspace_options())
    server = build_server(ws, cfg, None, meta=True)
    async with Client(server) as client:
        listed = (await client.list_tools()).tools
        found = await client.call_tool("find_tool", {"need": "search the code for a function"})
        called = await client.call_tool(
            "call_tool", {"name": "search", "arguments": {"query": "verify_password"}}
        )
        wrong = await client.call_tool("call_tool", {"name": "nope"})
        failing = await client.call_tool("call_tool", {"name": "read", "arguments": {"path": "../x"}})
    ws.close()
    assert [t.name for t in listed] == ["find_tool", "call_tool"]
    raw = json.dumps([t.model_dump(by_alias=True, exclude_none=True) for t in listed])
    assert tokens.count(raw) < 400
    assert text_of(found).startswith("search:") and '"query"' in text_of(found)
    assert "src/app/auth.py" in text_of(called)
    assert wrong.is_error and "no tool 'nope'" in text_of(wrong)
    assert failing.is_error and "outside the configured roots" in text_of(failing)


def test_a_served_workspace_walks_roots_in_the_background_never_on_a_request(repo, index_dir):
    from tokenlean.server.app import Background, server_options
    from tokenlean.tools.search import search as run_search

    cfg = load_config([repo], index_dir=index_dir, refresh_seconds=0.01)
    assert server_options(cfg, background=False).refresh_seconds == 0.01  # no refresher: requests walk
    ws = Workspace(cfg.roots, server_options(cfg, background=True))
    background = Background(ws, 1.0)
    try:
        assert "src/app/auth.py" in {h.rel for h in run_search(ws, "password digest").hits}  # first walk
        (repo / "src/app/ledgerly.py").write_text("def reconcile_ledgerly_totals():\n    return 0\n")
        time.sleep(0.05)

        def found() -> bool:
            return "src/app/ledgerly.py" in {h.rel for h in run_search(ws, "reconcile_ledgerly_totals").hits}

        assert not found()  # the request did not walk
        background.start()
        deadline = time.monotonic() + 20
        while not found() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert found()
    finally:
        background.stop()
        ws.close()
