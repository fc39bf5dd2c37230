"""Faults and hostile input: malformed protocol messages, oversized requests, races with the indexer."""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tokenlean.indexers.indexer import Indexer, IndexOptions
from tokenlean.indexers.walk import FileEntry, Walker
from tokenlean.tools.search import search
from tokenlean.tools.workspace import Workspace, WorkspaceOptions


def _serve(repo, index_dir):
    env = dict(os.environ, TOKENLEAN_INDEX_DIR=str(index_dir))
    return subprocess.Popen(
        [sys.executable, "-m", "tokenlean", "serve", "--root", str(repo), "--no-index-on-start"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _reply(proc, wanted_id, timeout: float = 30.0) -> dict:
    """The server's reply to request `wanted_id` (other lines skipped), or fail after `timeout`."""
    import select

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(f"server exited: {proc.stderr.read()}")
            message = json.loads(line)
            if message.get("id") == wanted_id:
                return message
    raise AssertionError(f"no reply to request {wanted_id} within {timeout} s")


def _send(proc, raw: str) -> None:
    proc.stdin.write(raw + "\n")
    proc.stdin.flush()


def test_malformed_json_rpc_is_survived_and_the_server_keeps_serving(repo, index_dir):
    proc = _serve(repo, index_dir)
    try:
        init = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        }
        _send(proc, json.dumps(init))
        assert "result" in _reply(proc, 1)
        _send(proc, json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        _send(proc, '{"jsonrpc": "2.0", "id": 2, "method": ')  # truncated JSON
        _send(proc, "\x00\x01 not json at all")
        _send(proc, json.dumps({"jsonrpc": "2.0", "id": 3, "method": "no/such/method"}))
        assert "error" in _reply(proc, 3)
        _send(
            proc,
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 4,
                    "method": "tools/call",
                    "params": {"name": "search", "arguments": {"query": 42}},
                }
            ),
        )
        assert _reply(proc, 4)["result"]["isError"]
        _send(
            proc,
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 5,
                    "method": "tools/call",
                    "params": {"name": "search", "arguments": {"query": "verify_password"}},
                }
            ),
        )
        ok = _reply(proc, 5)
        assert not ok["result"].get("isError") and "auth.py" in ok["result"]["content"][0]["text"]
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_oversized_query_is_refused_clearly(workspace):
    from tokenlean.tools.query import BadQuery

    with pytest.raises(BadQuery, match="characters"):
        search(workspace, "word " * 10_000)


def test_file_deleted_between_walk_and_read_is_skipped(repo, index_dir, monkeypatch):
    doomed = repo / "src/app/doomed.py"
    doomed.write_text("def doomed():\n    pass\n")
    real_iter = Walker.__iter__

    def walk_then_delete(self):
        entries = list(real_iter(self))
        doomed.unlink()  # gone after the walk saw it, before the reader opens it
        yield from entries

    monkeypatch.setattr(Walker, "__iter__", walk_then_delete)
    summary = Indexer(repo, index_dir, IndexOptions(workers=1, vectors="off")).run()
    assert summary.skipped["unreadable"] == 1
    assert summary.files == 6


def test_file_changed_during_indexing_is_caught_by_the_next_run(repo, index_dir, monkeypatch):
    target = repo / "src/app/auth.py"
    import tokenlean.indexers.indexer as indexer_mod

    real = indexer_mod._process

    def process_then_edit(root, entry: FileEntry, old_hash):
        result = real(root, entry, old_hash)
        if entry.rel == "src/app/auth.py":
            target.write_text("def edited_after_reading():\n    pass\n")
            os.utime(target, ns=(time.time_ns(), entry.mtime_ns + 5_000_000_000))
        return result

    monkeypatch.setattr(indexer_mod, "_process", process_then_edit)
    Indexer(repo, index_dir, IndexOptions(workers=1, vectors="off")).run()
    monkeypatch.setattr(indexer_mod, "_process", real)
    second = Indexer(repo, index_dir, IndexOptions(workers=1, vectors="off")).run()
    assert second.updated == 1  # the stored stat predates the edit, so the edit is seen


def test_searches_keep_answering_while_the_index_is_being_rebuilt(tmp_path, index_dir):
    root = tmp_path / "big"
    for i in range(400):
        path = root / f"pkg{i % 20}/mod_{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"def handler_{i}(request):\n    return compute_{i}(request)\n" * 5)
    Indexer(root, index_dir, IndexOptions(workers=1, vectors="off")).run()
    ws = Workspace([root], WorkspaceOptions(index_dir=index_dir, refresh_seconds=3600))
    ws.store(root)
    for path in root.rglob("*.py"):  # every file changes: the next update rewrites the whole index
        path.write_text(path.read_text() + "\n# touched\n")
    errors: list[Exception] = []
    finished: list[object] = []
    answered = 0

    def rebuild() -> None:
        finished.append(Indexer(root, index_dir, IndexOptions(workers=1, vectors="off")).run(lock_timeout=60))

    writer = threading.Thread(target=rebuild)
    writer.start()
    while writer.is_alive():
        try:
            assert search(ws, "handler_7 request", limit=3).hits
            answered += 1
        except Exception as exc:  # any failure is a finding
            errors.append(exc)
            break
    writer.join()
    ws.close()
    assert errors == [] and answered > 0
    assert finished and finished[0].files == 400  # the rebuild itself went through


def test_oversized_http_body_is_refused(tmp_path, repo, index_dir):
    import socket

    import httpx2

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, TOKENLEAN_INDEX_DIR=str(index_dir))
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
            "--no-index-on-start",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": "stash", "arguments": {"content": "x" * 5_000_000}},
            }
        )
        r = httpx2.post(
            f"http://127.0.0.1:{port}/mcp",
            content=body,
            timeout=30,
            headers={"content-type": "application/json", "accept": "application/json, text/event-stream"},
        )
        assert r.status_code == 413
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_walker_never_follows_a_symlink_loop(tmp_path):
    root = tmp_path / "loop"
    (root / "a").mkdir(parents=True)
    (root / "a" / "f.py").write_text("x = 1\n")
    os.symlink(root, root / "a" / "back")
    assert [e.rel for e in Walker(Path(root), use_global_excludes=False)] == ["a/f.py"]


def test_unwritable_index_folder_is_a_clear_error_from_index_and_search(repo, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the index folder should be")
    env = dict(os.environ, TOKENLEAN_INDEX_DIR=str(blocker / "indexes"))
    for args in (["index", str(repo)], ["search", "anything", "--root", str(repo)]):
        command = [sys.executable, "-m", "tokenlean", *args]
        r = subprocess.run(command, capture_output=True, text=True, env=env)
        assert r.returncode == 1, r.stderr
        assert "Traceback" not in r.stderr
        assert "cannot write the index" in r.stderr and "TOKENLEAN_INDEX_DIR" in r.stderr


_FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from tokenlean.indexers.indexer import Indexer, IndexOptions
from tokenlean.indexers.errors import IndexProblem
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[3]), resource.RLIM_INFINITY))
try:
    Indexer(Path(sys.argv[1]), Path(sys.argv[2]), IndexOptions(workers=1, vectors="off")).run()
except IndexProblem as exc:
    print(exc)
    sys.exit(3)
"""


def test_a_full_disk_fails_the_update_clearly_and_keeps_the_previous_index(tmp_path, index_dir):
    repo = tmp_path / "big"
    repo.mkdir()
    (repo / "keep.py").write_text("def keep_me():\n    return 1\n")
    Indexer(repo, index_dir, IndexOptions(workers=1, vectors="off")).run()
    before = search(_workspace(repo, index_dir), "keep_me").hits
    for i in range(60):  # enough new text that the index file must grow past the limit
        (repo / f"m{i}.py").write_text("".join(f"def f{i}_{j}(x):\n    return x * {j}\n" for j in range(300)))
    db = next(index_dir.rglob("index.db"))
    limit = db.stat().st_size + sum(p.stat().st_size for p in db.parent.glob("index.db-*")) + 64_000
    r = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(repo), str(index_dir), str(limit)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 3, r.stdout + r.stderr
    assert "disk is full" in r.stdout and "previous index is unchanged" in r.stdout
    after = search(_workspace(repo, index_dir), "keep_me")
    assert [h.path for h in after.hits][:1] == [h.path for h in before][:1]
    assert Indexer(repo, index_dir, IndexOptions(workers=1, vectors="off")).run().files == 61


def _workspace(repo, index_dir):
    return Workspace([repo], WorkspaceOptions(index_dir=index_dir, index=IndexOptions(vectors="off")))
