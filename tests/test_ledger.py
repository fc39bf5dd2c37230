"""The token ledger: arithmetic, budgets through a real MCP client, and reports; the store-level
tests run on both the SQLite ledger and the team ledger in PostgreSQL."""

import json
import time

import pytest
from click.testing import CliRunner
from conftest import new_database
from mcp import Client

from tokenlean.indexers.ledger_store import CallRecord, LedgerStore
from tokenlean.server.app import build_server
from tokenlean.server.cli import main
from tokenlean.server.config import load_config
from tokenlean.tools.ledger import (
    FOOTER_RESERVE,
    BadLedgerRequest,
    BudgetExceeded,
    Ledger,
    parse_time,
    report_text,
)
from tokenlean.tools.workspace import Workspace


def call(task="t1", tool="search", tokens=100, baseline=1000, agent="", ts=None, error=""):
    return CallRecord(
        ts=ts or time.time(),
        task=task,
        session="s1",
        agent=agent,
        client="test",
        source="tool",
        tool=tool,
        args_digest="d",
        tokens=tokens,
        baseline=baseline,
        seen_tokens=0,
        latency_ms=5.0,
        error=error,
        root="/r",
    )


@pytest.fixture
def make_store(tmp_path, store_backend, request):
    """A new, empty ledger store of the test's backend (a SQLite file, or the team ledger)."""

    def make(name: str):
        if store_backend == "sqlite":
            return LedgerStore(tmp_path / name)
        from tokenlean.indexers.pg_ledger_store import PgLedgerStore

        return PgLedgerStore(new_database(request.getfixturevalue("pg_url")), user="ann")

    return make


@pytest.fixture
def ledger(make_store):
    book = Ledger(make_store("ledger.db"))
    yield book
    book.store.close()


def test_spent_is_the_sum_of_the_task_s_calls(ledger):
    for n in (100, 250, 50):
        ledger.record(call(tokens=n))
    ledger.record(call(task="other", tokens=999))
    assert ledger.store.spent("t1") == 400


def test_report_groups_and_computes_savings(ledger):
    ledger.record(call(tool="search", tokens=100, baseline=1000))
    ledger.record(call(tool="search", tokens=300, baseline=1000))
    ledger.record(call(tool="read", tokens=500, baseline=500, error="boom"))
    rows = {r.key: r for r in ledger.report("tool")}
    assert (rows["search"].calls, rows["search"].tokens, rows["search"].baseline) == (2, 400, 2000)
    assert rows["read"].errors == 1
    text = report_text(ledger.report("tool"), "tool")
    assert "search" in text and "80%" in text and "total" in text


def test_report_by_agent_and_time_window(ledger):
    now = time.time()
    ledger.record(call(agent="reviewer", ts=now - 3 * 86400))
    ledger.record(call(agent="coder", ts=now))
    assert [r.key for r in ledger.report("agent", since="1d")] == ["coder"]
    assert [r.key for r in ledger.report("agent", until="1d")] == ["reviewer"]


def test_unknown_grouping_and_bad_time_are_refused(ledger):
    with pytest.raises(BadLedgerRequest, match="cannot group by 'colour'"):
        ledger.report("colour")
    with pytest.raises(BadLedgerRequest, match="not understood"):
        parse_time("yesterday-ish")


def test_parse_time_relative_and_iso():
    assert parse_time("2h", now=10_000.0) == 10_000.0 - 7200
    assert parse_time("2026-11-01") > 0


def test_hard_budget_refuses_with_spent_and_how_to_continue(ledger):
    ledger.set_budget("t1", None, 500)
    ledger.record(call(tokens=450))
    with pytest.raises(BudgetExceeded, match=r"spent 450 of its hard budget of 500 tokens.*raise the budget"):
        ledger.allow("t1", 1500, minimum=200)


def test_allowance_shrinks_to_what_is_left(ledger):
    ledger.set_budget("t1", None, 2000)
    ledger.record(call(tokens=1000))
    a = ledger.allow("t1", 1500, minimum=200)
    assert (a.budget_tokens, a.shrunk, a.brief) == (1000 - FOOTER_RESERVE, True, False)
    ledger.record(call(tokens=850))
    assert ledger.allow("t1", 1500, minimum=100).brief


def test_soft_budget_warns_in_the_status(ledger):
    ledger.set_budget("t1", 300, None)
    ledger.record(call(tokens=250))
    a = ledger.allow("t1", 1500, minimum=200)
    assert "over the soft budget of 300" in ledger.status(a, 100)
    assert "over the soft budget" not in ledger.status(a, 10)


def test_defaults_apply_until_a_task_has_its_own_budget(tmp_path):
    book = Ledger(LedgerStore(tmp_path / "l.db"), soft=None, hard=1000)
    assert book.limits("any") == (None, 1000)
    book.set_budget("any", 100, None)
    assert book.limits("any") == (100, 1000)
    book.store.close()


def test_inconsistent_budget_is_refused(ledger):
    with pytest.raises(BadLedgerRequest, match="above the hard budget"):
        ledger.set_budget("t1", 900, 100)
    with pytest.raises(BadLedgerRequest, match="positive"):
        ledger.set_budget("t1", None, -5)


# -- through the MCP in-memory client


@pytest.fixture
def served(repo, index_dir, make_store):
    cfg = load_config([repo], index_dir=index_dir)
    ws = Workspace(cfg.roots, cfg.workspace_options())
    book = Ledger(make_store("served-ledger.db"))
    yield build_server(ws, cfg, book), book
    ws.close()
    book.store.close()


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_every_call_is_recorded_under_its_session(served, mode):
    server, book = served
    async with Client(server, mode=mode) as client:
        await client.call_tool("search", {"query": "verify_password"})
        await client.call_tool("read", {"path": "src/app/auth.py", "symbol": "verify_password"})
        await client.call_tool("read", {"path": "../nope"})
    calls = book.store.calls()
    assert [c.tool for c in calls] == ["search", "read", "read"]
    assert len({c.task for c in calls}) == 1 and calls[0].task == calls[0].session
    assert calls[0].tokens > 0 and calls[0].baseline > 0
    assert calls[2].error and "outside" in calls[2].error


@pytest.mark.anyio
async def test_explicit_task_argument_groups_calls(served):
    server, book = served
    async with Client(server) as client:
        await client.call_tool("search", {"query": "cart", "task": "issue-42"})
        await client.call_tool("search", {"query": "token", "task": "issue-42"})
    assert {r.key: r.calls for r in book.report("task")} == {"issue-42": 2}


@pytest.mark.anyio
async def test_footer_shows_spend_and_the_recorded_tokens_match_the_response(served):
    server, book = served
    from tokenlean.indexers import tokens

    async with Client(server) as client:
        result = await client.call_tool("search", {"query": "ShoppingCart", "task": "t"})
    text = result.content[0].text
    footer = text.splitlines()[-1]
    assert footer.startswith("— ") and "task t:" in footer
    assert abs(book.store.spent("t") - tokens.count(text)) <= 3


@pytest.mark.anyio
async def test_hard_budget_shrinks_then_refuses_through_the_client(served):
    server, _ = served
    async with Client(server) as client:
        r = await client.call_tool("ledger", {"action": "budget", "hard": 900, "task": "tight"})
        assert "hard budget 900" in r.content[0].text
        first = await client.call_tool("search", {"query": "token", "task": "tight", "budget_tokens": 1500})
        assert not first.is_error and "response shrunk" in first.content[0].text
        refusals = []
        for _ in range(6):
            r = await client.call_tool("search", {"query": "cart", "task": "tight"})
            if r.is_error:
                refusals.append(r.content[0].text)
                break
        assert refusals and "hard budget of 900 tokens" in refusals[0]
        assert "ledger tool" in refusals[0]
        # Raising the budget lets the task continue.
        await client.call_tool("ledger", {"action": "budget", "hard": 100_000, "task": "tight"})
        assert not (await client.call_tool("search", {"query": "cart", "task": "tight"})).is_error


@pytest.mark.anyio
async def test_nearly_spent_task_gets_signatures_not_bodies(served):
    server, book = served
    book.set_budget("brief", None, 5000)
    book.record(call(task="brief", tokens=4600))
    async with Client(server) as client:
        r = await client.call_tool("search", {"query": "verify_password", "task": "brief"})
    text = r.content[0].text
    assert "def verify_password(password: str, digest: str) -> bool:" in text  # the signature
    assert "hexdigest() == digest" not in text  # not the body


@pytest.mark.anyio
async def test_ledger_tool_reports_by_tool(served):
    server, _ = served
    async with Client(server) as client:
        await client.call_tool("search", {"query": "cart"})
        r = await client.call_tool("ledger", {"by": "tool"})
    assert "search" in r.content[0].text and "calls" in r.content[0].text


# -- CLI


def test_cli_report_json_and_table(tmp_path):
    path = tmp_path / "cli-ledger.db"
    store = LedgerStore(path)
    store.record_call(call(tool="search", tokens=100, baseline=400))
    store.close()
    out = CliRunner().invoke(main, ["ledger", "--ledger", str(path), "--by", "tool", "--json"])
    assert json.loads(out.output) == [
        {
            "key": "search",
            "calls": 1,
            "tokens": 100,
            "baseline": 400,
            "saved": 300,
            "saved_pct": 75.0,
            "seen_tokens": 0,
            "errors": 0,
            "latency_ms": 5.0,
        }
    ]
    table = CliRunner().invoke(main, ["ledger", "--ledger", str(path), "--by", "tool"]).output
    assert "search" in table and "75%" in table


def test_cli_budget_sets_limits(tmp_path):
    path = tmp_path / "cli-ledger.db"
    out = CliRunner().invoke(main, ["ledger", "budget", "t9", "--hard", "5000", "--ledger", str(path)])
    assert "hard budget 5,000" in out.output
    store = LedgerStore(path)
    assert store.budget("t9") == (None, 5000)
    store.close()


@pytest.mark.anyio
async def test_two_connections_are_two_sessions(served):
    server, book = served
    async with Client(server, mode="legacy") as first, Client(server, mode="legacy") as second:
        await first.call_tool("search", {"query": "cart"})
        await second.call_tool("search", {"query": "cart"})
    assert len({c.session for c in book.store.calls()}) == 2
