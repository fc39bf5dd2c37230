"""Handles (file indirection) and differential reads, through the MCP in-memory client."""

import os
import time

import pytest
from mcp import Client

from tokenlean.indexers import tokens
from tokenlean.server.app import build_server
from tokenlean.server.config import load_config
from tokenlean.tools.handles import BadHandle, Handles
from tokenlean.tools.workspace import Workspace

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def server(repo, index_dir):
    cfg = load_config([repo], index_dir=index_dir)
    ws = Workspace(cfg.roots, cfg.workspace_options())
    yield build_server(ws, cfg, cfg.open_ledger())
    ws.close()


def text(result) -> str:
    return result.content[0].text


READ = {"path": "src/app/auth.py", "symbol": "verify_password"}


async def test_repeated_read_of_an_unchanged_symbol_costs_at_most_20_tokens(server):
    async with Client(server, mode="legacy") as client:
        first = text(await client.call_tool("read", READ))
        again = text(await client.call_tool("read", READ))
    assert "def verify_password" in first
    assert "unchanged since you received it" in again and "full=true" in again
    assert tokens.count(again) <= 20


async def test_full_true_resends(server):
    async with Client(server, mode="legacy") as client:
        await client.call_tool("read", READ)
        again = text(await client.call_tool("read", {**READ, "full": True}))
    assert "def verify_password" in again


async def test_changed_symbol_comes_back_as_a_diff(server, repo):
    path = repo / "src/app/rules.py"
    body = "\n".join(f"    rule_{i} = check({i}, request)" for i in range(40))
    path.write_text(f"def apply_rules(request):\n{body}\n    return rule_0\n")
    read = {"path": "src/app/rules.py", "symbol": "apply_rules"}
    async with Client(server, mode="legacy") as client:
        await client.call_tool("read", read)
        path.write_text(
            path.read_text().replace("rule_7 = check(7, request)", "rule_7 = check(7, request, strict=True)")
        )
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
        again = text(await client.call_tool("read", read))
    assert "changed since you received it" in again
    assert (
        "-    rule_7 = check(7, request)" in again and "+    rule_7 = check(7, request, strict=True)" in again
    )
    assert "rule_30" not in again  # only the hunk, not the whole function


async def test_another_connection_does_not_inherit_what_was_seen(server):
    async with Client(server, mode="legacy") as parent, Client(server, mode="legacy") as subagent:
        await parent.call_tool("read", READ)
        fresh = text(await subagent.call_tool("read", READ))
    assert "def verify_password" in fresh


async def test_repeated_search_marks_places_already_sent(server):
    async with Client(server, mode="legacy") as client:
        first = text(await client.call_tool("search", {"query": "verify_password"}))
        second = text(await client.call_tool("search", {"query": "verify_password"}))
    assert "def verify_password" in first
    assert "this place: unchanged since you received it" in second
    assert tokens.count(second) < tokens.count(first)


async def test_stash_then_read_slices_of_the_handle(server):
    document = "\n".join(f"line {i}: the quick brown fox" for i in range(1, 301))
    async with Client(server, mode="legacy") as client:
        made = text(await client.call_tool("stash", {"content": document, "description": "design doc"}))
        handle = made.split(" · ")[0]
        part = text(await client.call_tool("read", {"handle": handle, "lines": "10-12"}))
    assert handle.startswith("h:") and "design doc" in made and "300 lines" in made
    assert "line 10: the quick brown fox\nline 11: the quick brown fox\nline 12:" in part
    assert "line 13" not in part


async def test_read_as_handle_keeps_the_file_server_side(server):
    async with Client(server, mode="legacy") as client:
        made = text(await client.call_tool("read", {"path": "web/cart.ts", "as_handle": True}))
        handle = made.split(" · ")[0]
        back = text(await client.call_tool("read", {"handle": handle}))
    assert "ShoppingCart" not in made and tokens.count(made) < 100  # the random id varies in tokens
    assert "export class ShoppingCart" in back


@pytest.mark.parametrize(
    ("handle", "message"),
    [
        ("h:000000000000", "unknown handle"),
        ("../../etc/passwd", "not a handle"),
        ("h:../etc", "not a handle"),
    ],
)
async def test_bad_handles_are_refused(server, handle, message):
    async with Client(server) as client:
        result = await client.call_tool("read", {"handle": handle})
    assert result.is_error and message in text(result)


def test_expired_handle_says_how_to_get_it_back():
    handles = Handles(ttl=0.01)
    made = handles.put("content", "a doc")
    time.sleep(0.05)
    with pytest.raises(BadHandle, match=r"expired .* repeat the call"):
        handles.get(made.id)


def test_handles_are_capped_in_number_and_size():
    handles = Handles(max_handles=2, max_bytes=100)
    first = handles.put("a", "1")
    handles.put("b", "2")
    handles.put("c", "3")
    with pytest.raises(BadHandle, match="expired or was evicted"):
        handles.get(first.id)
    with pytest.raises(BadHandle, match="at most 100"):
        handles.put("x" * 200, "too big")


async def test_stateless_requests_never_get_unchanged_markers(server):
    # Without a session id nothing says two requests come from the same agent's context.
    async with Client(server) as first, Client(server) as second:
        await first.call_tool("read", READ)
        again = text(await second.call_tool("read", READ))
        same = text(await first.call_tool("read", READ))
    assert "def verify_password" in again and "def verify_password" in same
