"""slice and prune as MCP tools: inputs from a path, a handle or inline, and their errors."""

import json

import pytest
from mcp import Client

from tokenlean.indexers import tokens
from tokenlean.server.app import build_server
from tokenlean.server.config import load_config
from tokenlean.tools.workspace import Workspace

pytestmark = pytest.mark.anyio

DESIGN = "\n\n".join(
    [
        "# Service design",
        "An overview of the service.",
        "## Authentication",
        "Tokens are signed with HMAC and checked on every request. " * 3,
        "## Caching",
        "Responses are cached for 60 seconds in Redis to cut latency. " * 3,
        "## Deployment",
        "The service runs on three nodes behind a load balancer. " * 3,
    ]
)
ISSUES = [
    {
        "id": i,
        "number": 100 + i,
        "title": f"Bug {i}",
        "state": "open" if i % 2 else "closed",
        "user": {"login": f"dev{i}", "id": 5000 + i, "avatar_url": "https://example.com/a.png"},
        "body": "Long description " * 20,
        "labels": [{"name": "bug", "color": "f00"}],
    }
    for i in range(30)
]


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def server(repo, index_dir):
    (repo / "docs/design.md").write_text(DESIGN)
    (repo / "data").mkdir()
    (repo / "data/issues.json").write_text(json.dumps(ISSUES, indent=2))
    cfg = load_config([repo], index_dir=index_dir)
    ws = Workspace(cfg.roots, cfg.workspace_options())
    yield build_server(ws, cfg, cfg.open_ledger())
    ws.close()


def text(result):
    return result.content[0].text


async def test_slice_a_document_for_a_role(server):
    async with Client(server) as client:
        r = await client.call_tool("slice", {"path": "docs/design.md", "role": "security reviewer"})
    out = text(r)
    assert not r.is_error
    assert "== s2 Authentication" in out and "Tokens are signed with HMAC" in out
    assert "== s3 Caching" not in out  # in the outline, but not a section a security reviewer needs


async def test_slice_sections_by_id_and_unknown_id(server):
    async with Client(server) as client:
        got = await client.call_tool("slice", {"path": "docs/design.md", "sections": ["s3"]})
        bad = await client.call_tool("slice", {"path": "docs/design.md", "sections": ["s99"]})
    assert "cached for 60 seconds" in text(got)
    assert bad.is_error and "s99" in text(bad)


async def test_slice_inline_text_and_a_handle(server):
    async with Client(server, mode="legacy") as client:
        inline = await client.call_tool("slice", {"text": DESIGN, "role": "ops engineer deploying it"})
        made = text(await client.call_tool("stash", {"content": DESIGN, "description": "design"}))
        by_handle = await client.call_tool("slice", {"handle": made.split(" · ")[0], "role": "ops engineer"})
    # Inline text and a handle have no file name to give the format: their headings give it.
    for out in (text(inline), text(by_handle)):
        assert "== s4 Deployment" in out and "load balancer" in out
        assert "== s2 Authentication" not in out


async def test_slice_needs_exactly_one_source(server):
    async with Client(server) as client:
        r = await client.call_tool("slice", {"role": "x"})
        two = await client.call_tool("slice", {"path": "docs/design.md", "text": "x", "role": "x"})
    assert r.is_error and "exactly one of path, handle or text" in text(r)
    assert two.is_error


async def test_prune_a_file_by_fields_saves_tokens(server, repo):
    async with Client(server) as client:
        r = await client.call_tool(
            "prune", {"path": "data/issues.json", "fields": ["[*].{number,state,user.login}"]}
        )
    out = text(r)
    assert not r.is_error and "dev7" in out and "avatar_url" not in out and "Long description" not in out
    whole = tokens.count((repo / "data/issues.json").read_text())
    assert tokens.count(out) < whole * 0.2


async def test_prune_inline_by_need(server):
    async with Client(server) as client:
        r = await client.call_tool("prune", {"json": json.dumps(ISSUES), "need": "which issues are open"})
    assert not r.is_error and "state" in text(r)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"json": "{not json"}, "line 1"),
        ({"json": "[1, 2]", "fields": ["items[*].id"]}, "items"),
        ({"json": "{}", "expression": "[?"}, "JMESPath"),
        ({"handle": "h:0123456789ab"}, "unknown handle"),
        ({"path": "../secrets.json"}, "outside the configured roots"),
    ],
)
async def test_prune_errors_are_clear(server, args, message):
    async with Client(server) as client:
        r = await client.call_tool("prune", args)
    assert r.is_error and message.lower() in text(r).lower()


CHANGELOG = "# Tiler\n\nTiler cuts images into tiles.\n\n## Changelog\n\n" + "\n\n".join(
    f"### {v}\n\n- {note}"
    for v, note in [
        ("3.2.0", "Tiles can be written as WebP."),
        ("3.1.0", "Added a `--margin` option."),
        ("3.0.0", "The default tile size is 512 pixels (was 256)."),
        *((f"2.{k}.0", f"Faster resampling of large images, part {k}. " * 6) for k in range(4, 0, -1)),
    ]
)


async def test_slice_for_an_upgrade_returns_every_release_after_the_readers_one(server, repo):
    (repo / "docs/tiler.md").write_text(CHANGELOG)
    async with Client(server) as client:
        r = await client.call_tool("slice", {"path": "docs/tiler.md", "role": "what changed since 3.0.0?"})
    out = text(r)
    assert "== s3 Changelog > 3.2.0" in out and "== s4 Changelog > 3.1.0" in out
    assert "== s5 Changelog > 3.0.0" not in out


PARAMETERS = (
    "# Streamer\n\nStreamer sends server events.\n\n"
    "## Shutdown\n\nOn a graceful shutdown the server sets `stop_event`, then waits `grace_period`.\n\n"
    "## Parameters\n\n| Parameter | Type | Description |\n|---|---|---|\n"
    + "\n".join(f"| `option_{k}` | `int` | Sets the size of encoding buffer {k} |" for k in range(14))
    + "\n| `stop_event` | `Event` | Set by the server on shutdown |"
    + "\n| `grace_period` | `float` | Seconds to wait for generators at shutdown |\n"
)


async def test_slice_cuts_a_long_table_to_the_rows_the_role_needs(server, repo):
    (repo / "docs/streamer.md").write_text(PARAMETERS)
    async with Client(server) as client:
        r = await client.call_tool("slice", {"path": "docs/streamer.md", "role": "graceful shutdown"})
    out = text(r)
    assert "== s3 Parameters · lines 9-28 · trimmed, the whole section is 333 tokens: fetch s3" in out
    assert "| `stop_event` | `Event` | Set by the server on shutdown |" in out and "option_3" not in out


async def test_slice_ranks_by_meaning_too_unless_vectors_are_off(repo, index_dir):
    pytest.importorskip("model2vec")
    from test_slice import LINTASTIC

    (repo / "docs/lint.md").write_text(LINTASTIC)
    role = {"path": "docs/lint.md", "role": "tech lead: what are its limitations?", "summary": False}
    answers = {}
    # `slice_vectors` sets what slice ranks with apart from the index's `vectors`
    for vectors, slice_vectors in (("auto", None), ("off", None), ("auto", "off"), ("off", "fast")):
        cfg = load_config([repo], index_dir=index_dir, vectors=vectors)
        cfg.slice_vectors = slice_vectors
        ws = Workspace(cfg.roots, cfg.workspace_options())
        try:
            async with Client(build_server(ws, cfg, cfg.open_ledger())) as client:
                answers[vectors, slice_vectors] = text(await client.call_tool("slice", role))
        finally:
            ws.close()
    for found in (("auto", None), ("off", "fast")):
        assert "== s10 Why you might pick something else" in answers[found]
    for nothing in (("off", None), ("auto", "off")):
        assert "nothing in the document matches" in answers[nothing]


async def test_slice_with_no_budget_scales_with_the_document(server, repo):
    parts = [
        f"## Tier {k}\n\n"
        + (f"Eviction in tier {k} drops pages after {k} minutes. " if k % 2 else f"Tier {k} sets margins. ")
        * 40
        for k in range(80)
    ]
    (repo / "docs/cache.md").write_text("# Cache\n\nCaching.\n\n" + "\n\n".join(parts) + "\n")
    role = {"path": "docs/cache.md", "role": "how does eviction work?"}
    async with Client(server) as client:
        default = text(await client.call_tool("slice", role))
        fixed = text(await client.call_tool("slice", {**role, "budget_tokens": 1500}))
    assert 5000 < tokens.count(default.rsplit("\n", 1)[0]) <= 12_000  # a quarter of ~31k tokens
    assert tokens.count(fixed.rsplit("\n", 1)[0]) <= 1500


async def test_a_default_budget_slice_says_shrunk_only_when_the_task_cut_it(server, repo):
    parts = [
        f"## Tier {k}\n\n" + f"Eviction in tier {k} drops pages after {k} minutes. " * 40 for k in range(40)
    ]
    (repo / "docs/cache.md").write_text("# Cache\n\nCaching.\n\n" + "\n\n".join(parts) + "\n")
    async with Client(server) as client:
        await client.call_tool("ledger", {"action": "budget", "hard": 9000, "task": "t"})
        small = text(await client.call_tool("slice", {"path": "docs/design.md", "role": "auth", "task": "t"}))
        await client.call_tool("ledger", {"action": "budget", "hard": 4000, "task": "u"})
        cut = text(
            await client.call_tool("slice", {"path": "docs/cache.md", "role": "eviction", "task": "u"})
        )
    assert "task t:" in small and "response shrunk" not in small  # 5,000 wanted, 9,000 left
    assert "response shrunk" in cut  # 5,000 wanted, under 4,000 left


async def test_a_document_smaller_than_its_slice_comes_whole(server, repo):
    (repo / "docs/tiny.md").write_text(
        "# Tiny\n\n## Setup\n\nRun make.\n\n## Security\n\nTokens are signed.\n"
    )
    async with Client(server) as client:
        r = await client.call_tool("slice", {"path": "docs/tiny.md", "role": "how do I set up"})
    assert not r.is_error and "the whole document (a slice would cost more)" in text(r)
    assert "Tokens are signed." in text(r)
