"""`tokenlean doctor`: what is wrong when a client cannot connect or search finds nothing."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from tokenlean import __version__

from .config import Config, not_a_project

if TYPE_CHECKING:
    from tokenlean.indexers.embeddings import Embedder


class Check(NamedTuple):
    name: str
    status: str  # "ok", "warn" or "fail"
    detail: str
    fix: str = ""


def _python() -> Check:
    exe = shutil.which("tokenlean")
    detail = f"tokenlean {__version__} on Python {sys.version.split()[0]} ({sys.executable})"
    if exe is None:
        here = Path(sys.executable).with_name("tokenlean")
        return Check(
            "install",
            "warn",
            detail + "; `tokenlean` is not on PATH",
            f"register the server with its absolute path: {here} serve",
        )
    return Check("install", "ok", f"{detail}; on PATH as {exe}")


def _grammars() -> Check:
    try:
        from importlib.metadata import version

        from tokenlean.indexers.chunks import chunk_file

        pack = version("tree-sitter-language-pack")
        samples = {
            "python": "def f():\n    pass\n",
            "javascript": "function f() {}\n",
            "go": "func f() {}\n",
            "rust": "fn f() {}\n",
            "typescript": "function f(): void {}\n",
        }
        missing = [lang for lang, src in samples.items() if not chunk_file(src, lang).parsed]
    except Exception as exc:
        return Check(
            "grammars", "fail", f"tree-sitter failed: {exc}", "pip install -e . (reinstall tokenlean)"
        )
    if missing:
        return Check(
            "grammars",
            "fail",
            f"no parser for {', '.join(missing)} (language pack {pack})",
            "pip install 'tree-sitter-language-pack>=0.13,<1' (1.x downloads grammars at run time)",
        )
    return Check("grammars", "ok", f"tree-sitter-language-pack {pack}: grammars bundled, parsing offline")


def _tokenizer() -> Check:
    try:
        from tokenlean.indexers import tokens

        n = tokens.count("tokenlean counts tokens offline")
    except Exception as exc:
        return Check("tokenizer", "fail", f"o200k_base did not load: {exc}", "reinstall tokenlean")
    return Check("tokenizer", "ok", f"o200k_base loads offline ({n} tokens in the probe sentence)")


def _sqlite() -> Check:
    db = sqlite3.connect(":memory:")
    try:
        db.execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize=\"unicode61 tokenchars '_'\")")
        db.execute("CREATE VIRTUAL TABLE g USING fts5(a, tokenize='trigram')")
    except sqlite3.Error as exc:
        return Check(
            "sqlite",
            "fail",
            f"SQLite {sqlite3.sqlite_version} lacks FTS5/trigram: {exc}",
            "use a Python whose sqlite3 has FTS5 (most builds do), SQLite >= 3.34",
        )
    finally:
        db.close()
    loadable = hasattr(sqlite3.Connection, "enable_load_extension")
    note = (
        "can load extensions" if loadable else "cannot load extensions (vector search needs a fallback build)"
    )
    return Check("sqlite", "ok", f"SQLite {sqlite3.sqlite_version}: FTS5 and trigram available; {note}")


def _loaded(setting: str, int8: bool = False) -> Embedder:
    """The embedder a `vectors` setting uses (slicing's: `int8`), loaded and probed; raises
    EmbeddingsUnavailable."""
    from tokenlean.indexers import embeddings

    model = embeddings.embedder("quality" if setting == "quality" else "fast", int8=int8)
    model.embed(["probe"])
    return model


def _embeddings(cfg: Config) -> Check:
    both = cfg.slicing_vectors == cfg.vectors  # else the slice embeddings check says what slice uses
    if cfg.vectors == "off":
        words = "; slicing ranks by words" if both else ""
        return Check("embeddings", "ok", f"off (vectors = off): no vector strategy in search{words}")
    from tokenlean.indexers import embeddings

    try:
        model = _loaded(cfg.vectors)
    except embeddings.EmbeddingsUnavailable as exc:
        return Check(
            "embeddings",
            "warn" if cfg.vectors == "auto" else "fail",
            f"{exc}; without them search has no vector strategy and slicing ranks by words only",
            "pip install 'tokenlean[vectors]' (no download at run time: the model ships with tokenlean)",
        )
    users = "vector search and slicing use it" if both else "vector search uses it"
    if both and cfg.vectors == "quality":  # its vectors never meet the index's
        users += " (slicing with int8 weights)"
    return Check("embeddings", "ok", f"{model.name} loads offline: {users}")


def _slice_embeddings(cfg: Config) -> list[Check]:
    """What slice ranks with, when `slice_vectors` makes it differ from the index's embeddings."""
    wanted = cfg.slicing_vectors
    if wanted == cfg.vectors:
        return []  # the embeddings check covers slicing too
    if wanted == "off":
        return [Check("slice embeddings", "ok", "off (slice_vectors = off): slicing ranks by words")]
    from tokenlean.indexers import embeddings

    try:
        model = _loaded(wanted, int8=True)
    except embeddings.EmbeddingsUnavailable as exc:
        fallback = "the fast model" if wanted == "quality" else "words only"
        return [
            Check(
                "slice embeddings",
                "warn",
                f"slice_vectors = {wanted}: {exc}; slicing ranks with {fallback}",
                "pip install 'tokenlean[quality]' and a CPU build of torch"
                if wanted == "quality"
                else "pip install 'tokenlean[vectors]'",
            )
        ]
    return [Check("slice embeddings", "ok", f"slice_vectors = {wanted}: {model.name} loads offline")]


def _roots(cfg: Config) -> list[Check]:
    from tokenlean.indexers.backends import backend

    out = []
    if not cfg.roots:
        return [Check("roots", "fail", cfg.why_no_roots or "no root", "pass --root PATH")]
    for root in cfg.roots:
        reason = not_a_project(root)
        if reason:
            out.append(
                Check(
                    f"root {root}",
                    "warn",
                    f"this is {reason}",
                    "serve a project folder; a client started here would index it",
                )
            )
        where = backend(cfg.location)
        path = where.location(root)
        try:
            exists = where.exists(root)
        except Exception as exc:  # an unreachable or unmigrated shared store
            out.append(Check(f"index {root.name}", "fail", str(exc), "see the message"))
            continue
        if not exists:
            out.append(
                Check(
                    f"index {root.name}",
                    "warn",
                    f"not indexed yet ({path})",
                    f"tokenlean index {root}   (or the first search builds it)",
                )
            )
            continue
        try:
            store = where.open(root, repair=False)
            st = store.stats()
            store.close()
        except Exception as exc:
            out.append(
                Check(f"index {root.name}", "fail", f"{path}: {exc}", f"tokenlean index {root} --rebuild")
            )
            continue
        age = time.time() - (st.last_update or 0)
        lock = Path(f"{path}.lock")
        busy = where.kind == "sqlite" and lock.exists() and _locked(lock)
        detail = (
            f"{st.files:,} files, {st.chunks:,} chunks, {st.bytes_on_disk / 1e6:.1f} MB, "
            f"updated {age / 60:.0f} min ago" + ("; an indexer is running now" if busy else "")
        )
        status = "ok" if st.files else "warn"
        fix = "" if st.files else "nothing was indexed: check .gitignore/--exclude, or tokenlean index -v"
        out.append(Check(f"index {root.name}", status, detail, fix))
    return out


def _locked(lock: Path) -> bool:
    import filelock

    probe = filelock.FileLock(str(lock), timeout=0)
    try:
        probe.acquire()
    except filelock.Timeout:
        return True
    probe.release()
    return False


def _ledger(cfg: Config) -> Check:
    try:
        book = cfg.open_ledger()
        calls = len(book.store.calls(since=time.time() - 7 * 86400))
        where = book.store.location
        book.store.close()
    except Exception as exc:
        return Check(
            "ledger",
            "fail",
            f"cannot open the ledger: {exc}",
            "set --ledger or TOKENLEAN_LEDGER to a writable file",
        )
    return Check("ledger", "ok", f"{where} ({calls} calls in the last 7 days)")


def _server(cfg: Config) -> Check:
    """Start the server as a client would and time the answer to initialize and tools/list."""
    args = [sys.executable, "-m", "tokenlean", "serve", "--no-index-on-start", "--no-ledger"]
    for root in cfg.roots:
        args += ["--root", str(root)]
    started = time.perf_counter()
    try:
        proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    except OSError as exc:
        return Check("server", "fail", f"cannot start: {exc}")
    try:
        init = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "doctor", "version": "1"},
            },
        }
        proc.stdin.write(json.dumps(init) + "\n")
        proc.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
        proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}) + "\n")
        proc.stdin.flush()
        first = proc.stdout.readline()
        answered = time.perf_counter() - started
        second = proc.stdout.readline()
        tools = [t["name"] for t in json.loads(second)["result"]["tools"]]
        if "result" not in json.loads(first):
            raise RuntimeError(f"initialize failed: {first[:200]}")
    except Exception as exc:
        err = proc.stderr.read(2000) if proc.poll() is not None else ""
        return Check(
            "server",
            "fail",
            f"did not answer initialize/tools/list: {exc} {err}".strip(),
            "run `tokenlean serve` by hand to see its error",
        )
    finally:
        proc.kill()
        proc.wait(timeout=10)
    status = "ok" if answered < 5 else "warn"
    return Check(
        "server",
        status,
        f"answered initialize in {answered:.2f} s; tools: {', '.join(tools)}",
        "" if status == "ok" else "slow start: Codex waits 10 s by default (startup_timeout_sec)",
    )


def _client_configs() -> list[Check]:
    out = []
    home = Path.home()
    claude_cfg = Path(os.environ.get("CLAUDE_CONFIG_DIR") or home) / ".claude.json"
    for label, path in (("claude code (user)", claude_cfg), ("claude code (project)", Path(".mcp.json"))):
        if not path.exists():
            continue
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            out.append(Check(label, "warn", f"{path} is not readable JSON: {exc}"))
            continue
        servers = data.get("mcpServers") or {}
        for project in (data.get("projects") or {}).values():
            servers.update(project.get("mcpServers") or {})
        out.append(_entry_check(label, path, servers.get("tokenlean")))
    codex = Path(os.environ.get("CODEX_HOME") or home / ".codex") / "config.toml"
    if codex.exists():
        try:
            import tomllib
        except ImportError:  # Python 3.10
            import tomli as tomllib
        try:
            entry = tomllib.loads(codex.read_text()).get("mcp_servers", {}).get("tokenlean")
        except (OSError, tomllib.TOMLDecodeError) as exc:
            out.append(Check("codex", "warn", f"{codex}: {exc}"))
        else:
            out.append(_entry_check("codex", codex, entry))
    return out


def _entry_check(label: str, path: Path, entry: dict | None) -> Check:
    if not entry:
        return Check(
            label, "warn", f"{path} has no tokenlean server", "see the README's registration recipes"
        )
    if entry.get("url"):
        return Check(label, "ok", f"{path}: HTTP server at {entry['url']}")
    command = entry.get("command", "")
    resolved = shutil.which(command) if command else None
    if not resolved:
        return Check(
            label,
            "fail",
            f"{path}: command {command!r} is not found on PATH",
            f"use the absolute path: {Path(sys.executable).with_name('tokenlean')}",
        )
    return Check(label, "ok", f"{path}: {command} {' '.join(entry.get('args', []))} -> {resolved}")


def run_checks(cfg: Config, start_server: bool = True) -> list[Check]:
    steps: list[Callable[[], Check | list[Check]]] = [
        _python,
        _grammars,
        _tokenizer,
        _sqlite,
        lambda: _embeddings(cfg),
        lambda: _slice_embeddings(cfg),
        lambda: _roots(cfg),
        lambda: _ledger(cfg),
    ]
    if start_server:
        steps.append(lambda: _server(cfg))
    steps.append(_client_configs)
    checks: list[Check] = []
    for step in steps:
        try:
            got = step()
        except Exception as exc:  # a broken check must not hide the others
            got = Check(getattr(step, "__name__", "check").strip("_"), "fail", f"check crashed: {exc}")
        checks.extend(got if isinstance(got, list) else [got])
    return checks
