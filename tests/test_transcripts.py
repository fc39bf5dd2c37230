"""Importing real usage: Claude Code transcripts and Codex rollouts, written as the clients write them."""

import json

import pytest
from click.testing import CliRunner

from tokenlean.indexers.ledger_store import LedgerStore, UsageRecord
from tokenlean.server.cli import main
from tokenlean.tools import pricing
from tokenlean.tools.transcripts import read_claude, read_codex, split_tool_name
from tokenlean.tools.usage import by_model, by_session, import_transcripts

FOOTER = "— 812 tokens · whole files 9,034 (-91%) · task s-abc123: 812"


def write_jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row)) + "\n")


def assistant(msg_id, req, usage, content=None, model="claude-sonnet-4-5-20250929", **extra):
    row = {
        "type": "assistant",
        "sessionId": "S1",
        "cwd": "/repo",
        "timestamp": "2026-11-20T10:00:00Z",
        "requestId": req,
        "uuid": f"u-{msg_id}-{req}",
        "message": {
            "id": msg_id,
            "model": model,
            "role": "assistant",
            "content": content or [],
            "usage": usage,
        },
    }
    row.update(extra)
    return row


USAGE_1 = {
    "input_tokens": 3,
    "output_tokens": 10,
    "cache_creation_input_tokens": 3000,
    "cache_read_input_tokens": 14000,
    "cache_creation": {"ephemeral_5m_input_tokens": 2000, "ephemeral_1h_input_tokens": 1000},
}


@pytest.fixture
def claude_dir(tmp_path):
    projects = tmp_path / "claude" / "projects"
    tool_use = {
        "type": "tool_use",
        "id": "toolu_1",
        "name": "mcp__tokenlean__search",
        "input": {"query": "x"},
    }
    write_jsonl(
        projects / "-repo" / "S1.jsonl",
        [
            {"type": "user", "sessionId": "S1", "message": {"role": "user", "content": "find the bug"}},
            # One line per content block, each repeating the message id and usage.
            assistant("msg_1", "req_1", USAGE_1, [{"type": "thinking", "thinking": "..."}]),
            assistant("msg_1", "req_1", USAGE_1, [tool_use]),
            {
                "type": "user",
                "sessionId": "S1",
                "timestamp": "2026-11-20T10:00:05Z",
                "message": {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "toolu_1",
                            "content": [
                                {
                                    "type": "text",
                                    "text": 'search "x" · 1 of 1 places\n[1] a.py:1-2\n' + FOOTER,
                                }
                            ],
                        }
                    ],
                },
            },
            assistant(
                "msg_2",
                "req_2",
                {
                    "input_tokens": 5,
                    "output_tokens": 200,
                    "cache_read_input_tokens": 18000,
                    "cache_creation_input_tokens": 400,
                },
            ),
            assistant("msg_s", "req_s", {"input_tokens": 0, "output_tokens": 0}, model="<synthetic>"),
            assistant("msg_e", "req_e", {"input_tokens": 9, "output_tokens": 9}, isApiErrorMessage=True),
            # A /btw sidechain replays msg_1 with a new request id and bigger numbers: not new spend.
            assistant("msg_1", "req_btw", {**USAGE_1, "output_tokens": 99}, isSidechain=True),
            '{"type": "assistant", "message": {"id": "msg_trunc',  # being written while we read
        ],
    )
    write_jsonl(
        projects / "-repo" / "S1" / "subagents" / "agent-a1.jsonl",
        [
            assistant(
                "msg_3",
                "req_3",
                {"input_tokens": 100, "output_tokens": 50},
                [{"type": "tool_use", "id": "toolu_2", "name": "Read", "input": {"file_path": "/repo/a.py"}}],
                agentId="a1",
                isSidechain=True,
            ),
            {
                "type": "user",
                "sessionId": "S1",
                "agentId": "a1",
                "message": {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "toolu_2", "content": "x = 1\n" * 50}],
                },
            },
        ],
    )
    # Older builds: subagent usage nested in progress rows of the parent file.
    write_jsonl(
        projects / "-old" / "S2.jsonl",
        [
            {
                "type": "progress",
                "sessionId": "S2",
                "data": {
                    "message": {
                        "type": "assistant",
                        "sessionId": "S2",
                        "timestamp": "2026-11-01T08:00:00Z",
                        "isSidechain": True,
                        "message": {
                            "id": "msg_p",
                            "model": "claude-opus-4-1-20250805",
                            "usage": {"input_tokens": 7, "output_tokens": 3},
                        },
                    }
                },
            },
        ],
    )
    return projects


def test_claude_rows_are_deduplicated_by_message(claude_dir):
    got = read_claude([claude_dir])
    store = LedgerStore(claude_dir.parent / "l.db")
    store.add_usage(got.usage)
    rows = {u.key: u for u in store.usage()}
    store.close()
    assert set(rows) == {"claude:msg_1", "claude:msg_2", "claude:msg_3", "claude:msg_p"}
    one = rows["claude:msg_1"]
    assert (one.output, one.cache_write_5m, one.cache_write_1h, one.cache_read) == (10, 2000, 1000, 14000)
    assert not one.sidechain  # the replay did not replace the main-chain row
    assert got.bad_lines == 1


def test_claude_subagents_and_progress_rows_are_read(claude_dir):
    got = read_claude([claude_dir])
    agents = {u.key: u.agent for u in got.usage}
    assert agents["claude:msg_3"] == "a1"
    assert any(u.key == "claude:msg_p" and u.session == "S2" for u in got.usage)
    assert got.files == 3


def test_claude_missing_cache_split_counts_as_five_minute_writes(claude_dir):
    msg2 = next(u for u in read_claude([claude_dir]).usage if u.key == "claude:msg_2")
    assert (msg2.cache_write_5m, msg2.cache_write_1h) == (400, 0)


def test_claude_tool_results_are_sized_and_linked_to_tokenlean_tasks(claude_dir):
    got = read_claude([claude_dir])
    uses = {t.key: t for t in got.tool_uses}
    assert (uses["claude:toolu_1"].server, uses["claude:toolu_1"].tool) == ("tokenlean", "search")
    assert (uses["claude:toolu_2"].server, uses["claude:toolu_2"].tool, uses["claude:toolu_2"].agent) == (
        "",
        "Read",
        "a1",
    )
    assert uses["claude:toolu_2"].result_tokens > 50
    assert got.tasks == {"S1": {"s-abc123"}}


def token_count(total, last=None, ts="2026-11-20T10:00:00Z"):
    info = {
        "total_token_usage": total
        and dict(
            zip(
                ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens"),
                total,
                strict=True,
            )
        )
    }
    if last:
        info["last_token_usage"] = dict(
            zip(
                ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens"),
                last,
                strict=True,
            )
        )
    return {"timestamp": ts, "type": "event_msg", "payload": {"type": "token_count", "info": info}}


@pytest.fixture
def codex_dir(tmp_path):
    home = tmp_path / "codex"
    rel = "2026/11/20/rollout-2026-11-20T10-00-00-abc.jsonl"
    rows = [
        {
            "timestamp": "2026-11-20T10:00:00Z",
            "type": "session_meta",
            "payload": {"id": "codex-1", "cwd": "/repo"},
        },
        {"timestamp": "2026-11-20T10:00:00Z", "type": "turn_context", "payload": {"model": "gpt-5-codex"}},
        token_count((1000, 250, 125, 75)),
        token_count((1000, 250, 125, 75)),  # re-emitted unchanged: the known overcount trap
        {
            "timestamp": "2026-11-20T10:00:01Z",
            "type": "response_item",
            "payload": {
                "type": "function_call",
                "name": "mcp__tokenlean__search",
                "arguments": "{}",
                "call_id": "c1",
            },
        },
        {
            "timestamp": "2026-11-20T10:00:02Z",
            "type": "response_item",
            "payload": {"type": "function_call_output", "call_id": "c1", "output": "[1] a.py:1-2\n" + FOOTER},
        },
        token_count((3000, 1000, 400, 100)),
        token_count((500, 0, 50, 0), last=(500, 0, 50, 0)),  # the total dropped: a resumed session
        {
            "timestamp": "2026-11-20T10:00:03Z",
            "type": "event_msg",
            "payload": {
                "type": "mcp_tool_call_end",
                "call_id": "c2",
                "invocation": {"server": "tokenlean", "tool": "read"},
                "result": {"Ok": {"content": [{"type": "text", "text": "def f(): pass"}]}},
            },
        },
    ]
    write_jsonl(home / "sessions" / rel, rows)
    write_jsonl(home / "archived_sessions" / rel, rows)  # same file archived: sessions/ wins
    write_jsonl(
        home / "sessions" / "2026/11/20/rollout-2026-11-20T11-00-00-sub.jsonl",
        [
            {"timestamp": "2026-11-20T11:00:00Z", "type": "session_meta", "payload": {"id": "codex-sub"}},
            {"timestamp": "2026-11-20T11:00:00Z", "type": "event_msg", "payload": {"type": "thread_spawn"}},
            token_count((3000, 1000, 400, 100)),  # replayed parent totals
            token_count((3600, 1100, 450, 100)),
        ],
    )
    return home


def test_codex_usage_is_the_delta_of_totals(codex_dir):
    got = read_codex([codex_dir / "sessions", codex_dir / "archived_sessions"])
    main_rows = [u for u in got.usage if u.session == "codex-1"]
    assert [(u.input, u.cache_read, u.output, u.reasoning) for u in main_rows] == [
        (750, 250, 125, 75),  # first total
        (1250, 750, 275, 25),  # delta to the second total; the repeat was skipped
        (500, 0, 50, 0),  # after the reset, last_token_usage
    ]
    assert all(u.model == "gpt-5-codex" for u in main_rows)
    assert got.files == 2


def test_codex_subagent_replay_is_not_counted(codex_dir):
    sub = [u for u in read_codex([codex_dir / "sessions"]).usage if u.session == "codex-sub"]
    assert [(u.input, u.cache_read, u.output) for u in sub] == [(500, 100, 50)]


def test_codex_tool_calls_both_forms(codex_dir):
    got = read_codex([codex_dir / "sessions"])
    assert {(t.server, t.tool) for t in got.tool_uses} == {("tokenlean", "search"), ("tokenlean", "read")}
    assert got.tasks == {"codex-1": {"s-abc123"}}


def test_tool_name_forms():
    assert split_tool_name("mcp__tokenlean__search", "claude-code") == ("tokenlean", "search")
    assert split_tool_name("mcp__plugin_x_tokenlean__read", "claude-code") == ("tokenlean", "read")
    assert split_tool_name("tokenlean__search", "codex") == ("tokenlean", "search")
    assert split_tool_name("Read", "claude-code") == ("", "Read")


def test_import_twice_adds_nothing_new(claude_dir, codex_dir, tmp_path):
    store = LedgerStore(tmp_path / "ledger.db")
    import_transcripts(store, [claude_dir], [codex_dir / "sessions"])
    before = (len(store.usage()), len(store.tool_uses()))
    import_transcripts(store, [claude_dir], [codex_dir / "sessions"])
    assert (len(store.usage()), len(store.tool_uses())) == before
    store.close()


# -- pricing


def test_price_lookup_by_exact_dated_suffixed_and_prefixed_names():
    assert pricing.lookup("claude-sonnet-4-5-20250929").model == "claude-sonnet-4-5-20250929"
    assert pricing.lookup("claude-opus-4-5-20991231[1m]").model == "claude-opus-4-5"
    assert pricing.lookup("anthropic/claude-haiku-4-5").model == "claude-haiku-4-5"
    assert pricing.lookup("gpt-5-codex").model == "gpt-5-codex"
    assert pricing.lookup("claude-opus-4-20250514") is not None  # retired ids still price
    assert pricing.lookup("totally-unknown-model") is None


def test_cost_keeps_input_output_and_cache_apart():
    price = pricing.lookup("claude-sonnet-4-5")
    u = UsageRecord(
        "k",
        "claude-code",
        "s",
        "",
        "claude-sonnet-4-5",
        0.0,
        "",
        1_000,
        2_000,
        10_000,
        4_000,
        100_000,
        0,
        False,
        "",
    )
    c = pricing.cost(u, price)
    assert c.input == pytest.approx(1_000 * price.input)
    assert c.output == pytest.approx(2_000 * price.output)
    assert c.cache_write == pytest.approx(10_000 * price.cache_write_5m + 4_000 * price.cache_write_1h)
    assert c.cache_read == pytest.approx(100_000 * price.cache_read)
    assert price.cache_read < price.input < price.cache_write_5m < price.cache_write_1h


def test_tokens_past_200k_use_the_long_context_rate():
    base = pricing.lookup("claude-sonnet-4-5")
    price = base._replace(input_above_200k=base.input * 2)
    u = UsageRecord("k", "claude-code", "s", "", "m", 0.0, "", 300_000, 0, 0, 0, 0, 0, False, "")
    assert pricing.cost(u, price).input == pytest.approx(200_000 * base.input + 100_000 * base.input * 2)


# -- reports


def test_session_report_shows_tokenlean_share(claude_dir, codex_dir, tmp_path):
    store = LedgerStore(tmp_path / "ledger.db")
    import_transcripts(store, [claude_dir], [codex_dir / "sessions"])
    sessions = {r.session: r for r in by_session(store.usage(), store.tool_uses())}
    s1 = sessions["S1"]
    assert s1.tokenlean_calls == 1 and s1.tokenlean_tokens > 0
    assert s1.peak_context == 5 + 400 + 18000
    assert 0 < s1.tokenlean_share_of_context < 0.01
    assert s1.agents == {"a1"}
    models = {r.model: r for r in by_model(store.usage())}
    assert models["gpt-5-codex"].priced_as == "gpt-5-codex" and models["gpt-5-codex"].cost.total > 0
    store.close()


def test_cli_import_and_usage_json(claude_dir, codex_dir, tmp_path):
    ledger = tmp_path / "cli.db"
    out = CliRunner().invoke(
        main,
        [
            "ledger",
            "import",
            "--claude-dir",
            str(claude_dir),
            "--codex-dir",
            str(codex_dir / "sessions"),
            "--ledger",
            str(ledger),
        ],
    )
    assert out.exit_code == 0 and "claude-code: 3 files" in out.output and "codex: 2 files" in out.output
    data = json.loads(
        CliRunner()
        .invoke(main, ["ledger", "usage", "--by", "model", "--json", "--ledger", str(ledger)])
        .output
    )
    assert {r["model"] for r in data} >= {"claude-sonnet-4-5-20250929", "gpt-5-codex"}
    row = next(r for r in data if r["model"] == "claude-sonnet-4-5-20250929")
    assert row["cost_total"] == pytest.approx(
        row["cost_input"] + row["cost_output"] + row["cost_cache_write"] + row["cost_cache_read"], abs=1e-3
    )
    table = CliRunner().invoke(main, ["ledger", "usage", "--ledger", str(ledger)]).output
    assert "S1" in table and "codex-1" in table
