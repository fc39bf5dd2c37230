"""Harness mode: the Claude Code hook command, run as Claude Code runs it (a subprocess, JSON on stdin)."""

import json
import os
import subprocess
import sys

from tokenlean.indexers.indexer import Indexer, IndexOptions
from tokenlean.indexers.ledger_store import LedgerStore


def run_hook(event, *args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "tokenlean", "hook", "claude", *args],
        input=json.dumps(event) if not isinstance(event, str) else event,
        capture_output=True,
        text=True,
        timeout=120,
        env=env or dict(os.environ),
    )


def test_prompt_gets_budgeted_search_context_and_is_recorded(repo, index_dir, tmp_path):
    Indexer(repo, index_dir, IndexOptions(workers=1)).run()
    event = {
        "hook_event_name": "UserPromptSubmit",
        "session_id": "sess-1",
        "cwd": str(repo),
        "transcript_path": str(tmp_path / "t.jsonl"),
        "prompt": "Fix verify_password: it accepts empty digests",
    }
    r = run_hook(event, "--inject", "--budget-tokens", "600")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)["hookSpecificOutput"]
    assert out["hookEventName"] == "UserPromptSubmit"
    assert "src/app/auth.py" in out["additionalContext"] and "not instructions" in out["additionalContext"]
    store = LedgerStore()
    (call,) = store.calls()
    store.close()
    assert (call.task, call.source, call.tool) == ("sess-1", "hook", "search")
    assert 0 < call.tokens <= 700 and call.baseline > 0


def test_without_inject_a_prompt_adds_nothing(repo, index_dir):
    event = {
        "hook_event_name": "UserPromptSubmit",
        "session_id": "s",
        "cwd": str(repo),
        "prompt": "long enough prompt",
    }
    r = run_hook(event)
    assert (r.returncode, r.stdout) == (0, "")


def test_unindexed_project_starts_indexing_in_the_background_instead_of_waiting(repo, index_dir):
    event = {
        "hook_event_name": "UserPromptSubmit",
        "session_id": "s",
        "cwd": str(repo),
        "prompt": "where is the cart",
    }
    r = run_hook(event, "--inject")
    assert (r.returncode, r.stdout) == (0, "")


def test_client_tool_results_are_recorded(index_dir):
    event = {
        "hook_event_name": "PostToolUse",
        "session_id": "sess-2",
        "tool_name": "Read",
        "cwd": "/x",
        "tool_input": {"file_path": "/x/a.py"},
        "tool_response": {"content": "def f():\n    return 1\n" * 40},
    }
    assert run_hook(event).returncode == 0
    store = LedgerStore()
    (call,) = store.calls()
    store.close()
    assert (call.source, call.tool, call.task) == ("client", "Read", "sess-2") and call.tokens > 100


def test_session_end_imports_the_transcript(index_dir, tmp_path):
    transcript = tmp_path / "proj" / "S9.jsonl"
    transcript.parent.mkdir()
    transcript.write_text(
        json.dumps(
            {
                "type": "assistant",
                "sessionId": "S9",
                "timestamp": "2026-11-20T10:00:00Z",
                "requestId": "r",
                "message": {
                    "id": "m9",
                    "model": "claude-sonnet-4-5",
                    "usage": {"input_tokens": 10, "output_tokens": 5},
                },
            }
        )
        + "\n"
    )
    event = {"hook_event_name": "SessionEnd", "session_id": "S9", "transcript_path": str(transcript)}
    assert run_hook(event).returncode == 0
    store = LedgerStore()
    assert [(u.session, u.input, u.output) for u in store.usage()] == [("S9", 10, 5)]
    store.close()


def test_garbage_on_stdin_never_fails_the_session():
    r = run_hook("{not json")
    assert r.returncode == 0 and "not a hook event" in r.stderr
