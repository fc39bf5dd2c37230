#!/usr/bin/env python3
"""Check, for real, that tokenlean's registration recipes work with the real MCP clients.

    /work/venv/bin/python bench/clients/verify.py            # pinned client versions
    /work/venv/bin/python bench/clients/verify.py --latest   # whatever npm calls latest today
    /work/venv/bin/python bench/clients/verify.py --only claude --keep -v

What it does, end to end, in throw-away directories:

* installs Node >= 22 (from the npm registry's node-<os>-<arch> package) when the system
  node is older, then the npm packages @anthropic-ai/claude-code, @openai/codex and
  @modelcontextprotocol/inspector into bench/clients/.npm/ (git-ignored; reused next run);
* builds a tiny fixture project whose answer to "bearer token" is src/auth_gate.py;
* for each recipe in README.md beside this file, registers `tokenlean serve` in the client
  with a temporary HOME (and CLAUDE_CONFIG_DIR / CODEX_HOME inside it), then checks that
  the client lists it, connects to it, and that a `search` call through it returns hits;
* prints a table recipe | check | result and exits 1 if any check FAILed.

Neither Claude Code nor Codex calls a tool without a model, and no model is reachable
here, so the "tool call" checks point the client at a scripted stand-in model on
127.0.0.1 (fake_models.py) that asks for exactly one `search` call. Everything else —
config loading, starting the server, tool routing, returning the result — is the client's
own code. Codex is also driven through its own `codex app-server` JSON-RPC API, whose
`mcpServer/tool/call` calls an MCP tool with no model at all.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fake_models import FakeAnthropic, FakeResponses  # noqa: E402

# Versions this script was last made to pass with (see README.md). --latest ignores them.
PINS = {
    "@anthropic-ai/claude-code": "2.1.332",
    "@openai/codex": "0.169.0",
    "@modelcontextprotocol/inspector": "2.12.0",
}
# The inspector 2.x needs Node >= 22.19 (claude-code >= 2.1.198 declares >= 22 too).
NODE_MIN = (22, 19)
NODE_PIN = "22.23.3"

QUERY = "bearer token"
EXPECT_PATH = "src/auth_gate.py"  # where the fixture answers QUERY
EXPECT_SYMBOL = "check_bearer_token"
TOKEN = "secret"

RESULTS: list[tuple[str, str, str, str]] = []
VERBOSE = False


# --------------------------------------------------------------------------- plumbing


class CheckFailed(Exception):
    """A check's expectation did not hold; the message says what was seen."""


class Skip(Exception):
    """A check cannot run here; the message says why."""


def record(recipe: str, check: str, fn: Callable[[], str | None]) -> bool:
    """Run one check; PASS unless it raises. Returns whether it passed."""
    t0 = time.monotonic()
    try:
        detail = fn() or ""
        status = "PASS"
    except Skip as e:
        status, detail = "SKIP", str(e)
    except CheckFailed as e:
        status, detail = "FAIL", str(e)
    except Exception as e:  # a bug or an unexpected client behaviour: still a clear FAIL
        while getattr(e, "exceptions", None):  # anyio task groups wrap the real error
            e = e.exceptions[0]
        status = "SKIP" if isinstance(e, Skip) else "FAIL"
        detail = str(e) if isinstance(e, (Skip, CheckFailed)) else f"{type(e).__name__}: {e}"
    dt = time.monotonic() - t0
    RESULTS.append((recipe, check, status, detail))
    mark = {"PASS": "ok  ", "FAIL": "FAIL", "SKIP": "skip"}[status]
    first = detail.splitlines()[0] if detail else ""
    print(f"  [{mark}] {recipe} · {check} ({dt:.1f}s){' — ' + first if first else ''}", flush=True)
    if status == "FAIL" and "\n" in detail:
        print(textwrap.indent(detail, "         "), flush=True)
    return status == "PASS"


@dataclass
class Proc:
    cmd: list[str]
    rc: int | None
    out: str
    err: str
    timed_out: bool
    seconds: float

    def describe(self, tail: int = 1500) -> str:
        shown = " ".join(_quote(c) for c in self.cmd)
        status = f"timed out after {self.seconds:.0f}s" if self.timed_out else f"exit {self.rc}"
        parts = [f"$ {shown}", f"  -> {status}"]
        if self.out.strip():
            parts.append("  stdout: " + _tail(self.out, tail))
        if self.err.strip():
            parts.append("  stderr: " + _tail(self.err, tail))
        return "\n".join(parts)


def _quote(s: str) -> str:
    return s if re.fullmatch(r"[\w@%+=:,./-]+", s) else "'" + s.replace("'", "'\\''") + "'"


def _tail(s: str, n: int) -> str:
    s = s.strip()
    return s if len(s) <= n else "…" + s[-n:]


def _kill_group(p: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(p.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            p.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue


def run(
    cmd: list[str], *, env: dict[str, str], cwd: Path, timeout: float = 120, stdin: str | None = None
) -> Proc:
    """Run a command in its own process group; on timeout the whole group is killed."""
    if VERBOSE:
        print("    $ " + " ".join(_quote(c) for c in cmd) + f"   (cwd {cwd})", flush=True)
    t0 = time.monotonic()
    p = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        out, err = p.communicate(stdin, timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        _kill_group(p)
        out, err = p.communicate()
        timed_out = True
    else:
        # The client may leave a server child behind; never let it outlive the check.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.pid, signal.SIGTERM)
    return Proc(cmd, p.returncode, out or "", err or "", timed_out, time.monotonic() - t0)


def raiser(exc: Exception) -> Callable[[], str]:
    """A check that just reports EXC (for a failure found outside any check)."""

    def check() -> str:
        raise exc

    return check


def ok(p: Proc) -> Proc:
    if p.timed_out or p.rc != 0:
        raise CheckFailed("command failed\n" + p.describe())
    return p


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def version_tuple(text: str) -> tuple[int, ...]:
    m = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    return tuple(int(x) for x in m.groups()) if m else ()


# --------------------------------------------------------------------------- setup


@dataclass
class Ctx:
    work: Path
    cache: Path
    tokenlean: Path
    node_dir: Path | None = None
    pkg_dir: Path | None = None
    versions: dict[str, str] = field(default_factory=dict)
    npm_problem: str | None = None
    real_home_missing: list[Path] = field(default_factory=list)

    def bin(self, name: str) -> Path:
        assert self.pkg_dir is not None
        return self.pkg_dir / "node_modules" / ".bin" / name

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        """A clean environment: temp HOME, no inherited client credentials or config."""
        drop = (
            "ANTHROPIC_",
            "CLAUDE",
            "OPENAI_",
            "CODEX_",
            "MCP_",
            "TOKENLEAN_",
            "XDG_",
            "npm_",
            "NPM_CONFIG_",
        )
        env = {
            k: v for k, v in os.environ.items() if not k.upper().startswith(tuple(d.upper() for d in drop))
        }
        home.mkdir(parents=True, exist_ok=True)
        path = [str(self.tokenlean.parent)]
        if self.node_dir:
            path.append(str(self.node_dir))
        if self.pkg_dir:
            path.append(str(self.pkg_dir / "node_modules" / ".bin"))
        env.update(
            HOME=str(home),
            USERPROFILE=str(home),
            PATH=os.pathsep.join([*path, os.environ.get("PATH", "/usr/bin:/bin")]),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_CACHE_HOME=str(home / ".cache"),
            XDG_DATA_HOME=str(home / ".local" / "share"),
            XDG_STATE_HOME=str(home / ".local" / "state"),
            TOKENLEAN_INDEX_DIR=str(self.work / "index"),
            CLAUDE_CONFIG_DIR=str(home / ".claude"),
            CODEX_HOME=str(home / ".codex"),
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
            DISABLE_AUTOUPDATER="1",
            npm_config_cache=str(self.cache / "_npm-cache"),
            npm_config_update_notifier="false",
            npm_config_fund="false",
            npm_config_audit="false",
            NO_COLOR="1",
        )
        (home / ".codex").mkdir(exist_ok=True)
        env.update(extra)
        return env


def ensure_node(ctx: Ctx) -> None:
    """Use the system node when it is new enough, else install one from the npm registry."""
    sys_node = shutil.which("node")
    if sys_node:
        v = subprocess.run([sys_node, "--version"], capture_output=True, text=True, timeout=30).stdout
        if version_tuple(v)[:2] >= NODE_MIN:
            ctx.node_dir = Path(sys_node).resolve().parent
            ctx.versions["node"] = v.strip() + " (system)"
            return
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower()
    )
    osname = {"linux": "linux", "darwin": "darwin"}.get(sys.platform)
    if not arch or not osname:
        raise Skip(
            f"system node is older than {NODE_MIN} and no node package is known for "
            f"{sys.platform}/{platform.machine()}"
        )
    pkg = f"node-{osname}-{arch}"
    prefix = ctx.cache / "node"
    node = prefix / "node_modules" / pkg / "bin" / "node"
    if not node.exists():
        npm = shutil.which("npm")
        if not npm:
            raise Skip("npm is not installed (need Node.js and npm to fetch the clients)")
        print(f"  installing {pkg}@{NODE_PIN} (system node is too old for the inspector 2.x)…", flush=True)
        env = dict(
            os.environ, npm_config_cache=str(ctx.cache / "_npm-cache"), npm_config_update_notifier="false"
        )
        p = run(
            [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", f"{pkg}@{NODE_PIN}"],
            env=env,
            cwd=ctx.cache,
            timeout=600,
        )
        if p.rc != 0 or not node.exists():
            raise CheckFailed("could not install Node from the npm registry\n" + p.describe())
    v = subprocess.run([str(node), "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    ctx.node_dir = node.parent
    ctx.versions["node"] = f"{v} (npm package {pkg})"


def installed_version(pkg_dir: Path, name: str) -> str | None:
    try:
        return json.loads((pkg_dir / "node_modules" / name / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def ensure_clients(ctx: Ctx, latest: bool) -> None:
    npm = shutil.which("npm", path=f"{ctx.node_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    if not npm:
        raise Skip("npm is not installed")
    pkg_dir = ctx.cache / ("latest" if latest else "pinned")
    pkg_dir.mkdir(parents=True, exist_ok=True)
    # npm runs with the real HOME so the user's ~/.npmrc (registry, proxy, CA) applies;
    # only its cache is redirected. Node >= 22 goes first on PATH: npm picks versions by it.
    env = dict(
        os.environ,
        PATH=f"{ctx.node_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        npm_config_cache=str(ctx.cache / "_npm-cache"),
        npm_config_update_notifier="false",
    )
    have = {n: installed_version(pkg_dir, n) for n in PINS}
    if latest or any(have[n] != v for n, v in PINS.items()):
        specs = [f"{n}@{'latest' if latest else v}" for n, v in PINS.items()]
        (pkg_dir / "package.json").write_text(
            json.dumps({"name": "tokenlean-client-check", "private": True}, indent=2) + "\n"
        )
        print(f"  npm install {' '.join(specs)} → {pkg_dir} (~900 MB, once)…", flush=True)
        p = run(
            [npm, "install", "--no-audit", "--no-fund", "--save-exact", *specs],
            env=env,
            cwd=pkg_dir,
            timeout=1500,
        )
        if p.rc != 0:
            raise CheckFailed("npm install failed\n" + p.describe())
    ctx.pkg_dir = pkg_dir
    for n in PINS:
        ctx.versions[n] = installed_version(pkg_dir, n) or "missing"
    # Claude Code's postinstall swaps a stub for the native binary; npm may refuse to run
    # install scripts (allowScripts), so run it ourselves if `claude --version` fails.
    claude = ctx.bin("claude")
    p = run([str(claude), "--version"], env=ctx.env(ctx.work / "npm-home"), cwd=pkg_dir, timeout=60)
    if p.rc != 0:
        run(
            [str(ctx.node_dir / "node"), "install.cjs"],
            env=env,
            cwd=pkg_dir / "node_modules/@anthropic-ai/claude-code",
            timeout=300,
        )
        ok(run([str(claude), "--version"], env=ctx.env(ctx.work / "npm-home"), cwd=pkg_dir, timeout=60))


FIXTURE = {
    "src/auth_gate.py": '''
        """Request authentication for the demo service."""
        import hmac


        def check_bearer_token(header: str, expected: str) -> bool:
            """Return True when an Authorization header carries the expected bearer token."""
            prefix = "Bearer "
            if not header.startswith(prefix):
                return False
            return hmac.compare_digest(header[len(prefix):], expected)
        ''',
    "src/billing.py": '''
        """Invoices."""


        def invoice_total(lines: list[tuple[str, int]]) -> int:
            """Sum the cents of every invoice line."""
            return sum(cents for _, cents in lines)
        ''',
    "README.md": """
        # demo service

        A tiny project used to check that MCP clients can reach tokenlean.
        """,
}


def make_project(path: Path) -> Path:
    for rel, text in FIXTURE.items():
        f = path / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(textwrap.dedent(text).lstrip())
    return path


def expect_hits(text: str, where: str) -> str:
    if EXPECT_PATH not in text or EXPECT_SYMBOL not in text:
        raise CheckFailed(f"{where}: no hit in {EXPECT_PATH} for {QUERY!r}; got: {_tail(text, 600)}")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    first = next((ln for ln in lines if ln.startswith("search ")), lines[0] if lines else "")
    return first[:110]


# --------------------------------------------------------------------------- tokenlean over HTTP


class HttpServer:
    """`tokenlean serve --transport http` on a free loopback port, for the life of a with-block."""

    def __init__(self, ctx: Ctx, project: Path, token: str | None) -> None:
        self.ctx, self.project, self.token = ctx, project, token
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.log = ctx.work / f"http-{self.port}.log"
        self.cmd = [
            str(ctx.tokenlean),
            "serve",
            "--transport",
            "http",
            "--port",
            str(self.port),
            "--root",
            str(project),
        ]
        if token:
            self.cmd += ["--token", token]

    def __enter__(self) -> HttpServer:
        env = self.ctx.env(self.ctx.work / "http-home")
        self._log = open(self.log, "w")
        self.p = subprocess.Popen(
            self.cmd,
            cwd=self.project,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.p.poll() is not None:
                raise CheckFailed(
                    f"tokenlean http server exited with {self.p.returncode}: "
                    + _tail(self.log.read_text(), 800)
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        raise CheckFailed(
            f"tokenlean http server did not listen on {self.port} within 30s: "
            + _tail(self.log.read_text(), 800)
        )

    def __exit__(self, *exc: object) -> None:
        _kill_group(self.p)
        self._log.close()


def raw_post(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], str]:
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "verify", "version": "0"},
            },
        }
    ).encode()
    req = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "content-type": "application/json",
            "accept": "application/json, text/event-stream",
            **headers,
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, dict(r.headers), r.read(2000).decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read(2000).decode(errors="replace")


# --------------------------------------------------------------------------- inspector


def inspector(ctx: Ctx, home: Path, args: list[str], timeout: float = 120) -> Proc:
    """`npx @modelcontextprotocol/inspector --cli …`, resolved from the local install."""
    npx = shutil.which("npx", path=f"{ctx.node_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    if not npx:
        raise Skip("npx not found")
    assert ctx.pkg_dir is not None
    # Run from the install dir so npx resolves the local copy; npm_config_yes=false makes a
    # missing package an error instead of a download prompt.
    env = ctx.env(home, npm_config_yes="false", MCP_INSPECTOR_SECRET_STORE="memory")
    return run(
        [npx, "@modelcontextprotocol/inspector", "--cli", *args], env=env, cwd=ctx.pkg_dir, timeout=timeout
    )


def inspector_json(p: Proc) -> dict[str, Any]:
    ok(p)
    try:
        return json.loads(p.out[p.out.index("{") :])
    except ValueError:
        raise CheckFailed("inspector printed no JSON\n" + p.describe()) from None


def tool_text(result: dict[str, Any]) -> str:
    if result.get("isError"):
        raise CheckFailed(f"tool returned isError: {json.dumps(result)[:600]}")
    return "\n".join(c.get("text", "") for c in result.get("content", []) if isinstance(c, dict))


def check_inspector(ctx: Ctx) -> None:
    R = "inspector (stdio)"
    home, proj = ctx.work / "inspector-home", make_project(ctx.work / "inspector-proj")
    target = ["tokenlean", "serve", "--root", str(proj)]

    def tools_list() -> str:
        res = inspector_json(inspector(ctx, home, [*target, "--method", "tools/list"]))
        names = sorted(t["name"] for t in res.get("tools", []))
        if not {"search", "read"} <= set(names):
            raise CheckFailed(f"tools/list gave {names}")
        return "tools: " + ", ".join(names)

    def call_search() -> str:
        res = inspector_json(
            inspector(
                ctx,
                home,
                [*target, "--method", "tools/call", "--tool-name", "search", "--tool-arg", f"query={QUERY}"],
            )
        )
        return expect_hits(tool_text(res), "search")

    def call_read() -> str:
        args = [
            *target,
            "--method",
            "tools/call",
            "--tool-name",
            "read",
            "--tool-arg",
            f"path={EXPECT_PATH}",
            f"symbol={EXPECT_SYMBOL}",
        ]
        text = tool_text(inspector_json(inspector(ctx, home, args)))
        if "compare_digest" not in text:
            raise CheckFailed(f"read did not return the function body: {_tail(text, 400)}")
        return f"{EXPECT_SYMBOL} body returned"

    record(R, "tools/list lists search, read", tools_list)
    record(R, "tools/call search returns hits", call_search)
    record(R, "tools/call read returns the symbol", call_read)

    R = "inspector (http)"
    hproj = make_project(ctx.work / "http-proj")
    try:
        with HttpServer(ctx, hproj, None) as srv:
            record(
                R,
                "no token: tools/call search",
                lambda: expect_hits(
                    tool_text(
                        inspector_json(
                            inspector(
                                ctx,
                                home,
                                [
                                    srv.url,
                                    "--method",
                                    "tools/call",
                                    "--tool-name",
                                    "search",
                                    "--tool-arg",
                                    f"query={QUERY}",
                                ],
                            )
                        )
                    ),
                    "search over http",
                ),
            )
        with HttpServer(ctx, hproj, TOKEN) as srv:

            def refused(headers: dict[str, str], label: str) -> str:
                status, hdrs, body = raw_post(srv.url, headers)
                if status != 401:
                    raise CheckFailed(f"{label}: expected 401, got {status}: {body[:200]}")
                www = {k.lower(): v for k, v in hdrs.items()}.get("www-authenticate", "")
                return f"401, WWW-Authenticate: {www or '(none)'}; body: {body.strip()[:60]}"

            record(R, "--token: request without Authorization is refused", lambda: refused({}, "no header"))
            record(
                R,
                "--token: wrong bearer token is refused",
                lambda: refused({"Authorization": "Bearer wrong"}, "wrong token"),
            )
            record(
                R,
                "--token: inspector --header 'Authorization: Bearer …' search",
                lambda: expect_hits(
                    tool_text(
                        inspector_json(
                            inspector(
                                ctx,
                                home,
                                [
                                    "--server-url",
                                    srv.url,
                                    "--transport",
                                    "http",
                                    "--header",
                                    f"Authorization: Bearer {TOKEN}",
                                    "--method",
                                    "tools/call",
                                    "--tool-name",
                                    "search",
                                    "--tool-arg",
                                    f"query={QUERY}",
                                ],
                            )
                        )
                    ),
                    "search over http with token",
                ),
            )

            def inspector_refused() -> str:
                p = inspector(
                    ctx, home, [srv.url, "--stored-auth-only", "--method", "tools/list"], timeout=60
                )
                if p.rc == 0 and '"tools"' in p.out:
                    raise CheckFailed("inspector listed tools without a token\n" + p.describe())
                said = (p.err + p.out).strip()
                if not re.search(r"auth|401|unauthori", said, re.I):
                    raise CheckFailed("inspector failed, but not for want of the token\n" + p.describe())
                last = said.splitlines()[-1] if said else ""
                return f"exit {p.rc}: {last[:100]}"

            record(R, "--token: inspector without the header gets no tools", inspector_refused)
    except CheckFailed as e:
        record(R, "start tokenlean serve --transport http", raiser(e))


# --------------------------------------------------------------------------- Claude Code


def claude(ctx: Ctx, home: Path, cwd: Path, *args: str, timeout: float = 90, **extra_env: str) -> Proc:
    return run([str(ctx.bin("claude")), *args], env=ctx.env(home, **extra_env), cwd=cwd, timeout=timeout)


def claude_status(p: Proc, name: str = "tokenlean") -> str:
    """The status text of NAME in `claude mcp list` output ('' if absent)."""
    ok(p)
    for line in p.out.splitlines():
        if line.startswith(f"{name}:"):
            return line.split(" - ", 1)[-1].strip() if " - " in line else line
    return ""


def expect_connected(p: Proc, name: str = "tokenlean") -> str:
    status = claude_status(p, name)
    if "Connected" not in status or "✘" in status:
        raise CheckFailed(f"{name} is not connected: {status or '(not listed)'}\n" + p.describe())
    return f"{name}: {status}"


def claude_tool_call(ctx: Ctx, home: Path, proj: Path) -> str:
    with FakeAnthropic(QUERY) as fake:
        p = claude(
            ctx,
            home,
            proj,
            "-p",
            "Where is the bearer token checked? Use tokenlean.",
            "--allowedTools",
            "mcp__tokenlean",
            "--output-format",
            "json",
            timeout=240,
            ANTHROPIC_BASE_URL=fake.base_url,
            ANTHROPIC_API_KEY="sk-ant-fake-key-for-loopback",
        )
        offered = [r for r in fake.rec.requests if "mcp__tokenlean__search" in (r.get("tools") or [])]
        if fake.rec.errors:
            raise CheckFailed("fake model could not read Claude's requests: " + "; ".join(fake.rec.errors))
        if not offered:
            raise CheckFailed(
                "Claude never offered mcp__tokenlean__search to the model; "
                f"requests: {fake.rec.requests[:3]}\n" + p.describe()
            )
        if not fake.rec.tool_results:
            raise CheckFailed("Claude sent no tool result back\n" + p.describe())
        text = fake.rec.tool_results[-1]
        if text.startswith("ERROR: "):
            raise CheckFailed(f"tool call was refused or failed: {text[:300]}")
        ok(p)
        return expect_hits(text, "mcp__tokenlean__search via claude -p")


def check_claude(ctx: Ctx) -> None:
    R = "claude code (user scope)"
    home, proj = ctx.work / "claude-home", make_project(ctx.work / "claude-proj")

    def add() -> str:
        p = ok(claude(ctx, home, proj, "mcp", "add", "-s", "user", "tokenlean", "--", "tokenlean", "serve"))
        cfg = json.loads((home / ".claude" / ".claude.json").read_text())
        entry = cfg.get("mcpServers", {}).get("tokenlean")
        if not entry or entry.get("command") != "tokenlean" or entry.get("args") != ["serve"]:
            raise CheckFailed(f"unexpected user config entry: {entry}")
        return (p.out.strip().splitlines() or [""])[0]

    if record(R, "claude mcp add -s user tokenlean -- tokenlean serve", add):
        record(
            R,
            "claude mcp list shows Connected",
            lambda: expect_connected(claude(ctx, home, proj, "mcp", "list")),
        )

        def get() -> str:
            p = ok(claude(ctx, home, proj, "mcp", "get", "tokenlean"))
            if "Status: ✔ Connected" not in p.out or "User config" not in p.out:
                raise CheckFailed(
                    "claude mcp get did not report a connected user-scope server\n" + p.describe()
                )
            return "Scope: User config · Status: ✔ Connected"

        record(R, "claude mcp get tokenlean shows Connected", get)
        record(
            R,
            "tool call returns hits (claude -p, scripted loopback model)",
            lambda: claude_tool_call(ctx, home, proj),
        )

    R = "claude code (local scope)"
    home5, proj5 = ctx.work / "claude-home5", make_project(ctx.work / "claude-proj5")
    other = ctx.work / "claude-other"
    other.mkdir(exist_ok=True)

    def local() -> str:
        ok(claude(ctx, home5, proj5, "mcp", "add", "tokenlean", "--", "tokenlean", "serve"))
        here = expect_connected(claude(ctx, home5, proj5, "mcp", "list"))
        elsewhere = claude_status(claude(ctx, home5, other, "mcp", "list"))
        if elsewhere:
            raise CheckFailed(f"a local-scope server should not show in another folder, got: {elsewhere}")
        return f"{here} in the project; not listed in another folder"

    record(R, "claude mcp add tokenlean -- tokenlean serve (default scope)", local)

    R = "claude code (.mcp.json)"
    home2, proj2 = ctx.work / "claude-home2", make_project(ctx.work / "claude-proj2")
    (proj2 / ".mcp.json").write_text(
        json.dumps(
            {"mcpServers": {"tokenlean": {"type": "stdio", "command": "tokenlean", "args": ["serve"]}}},
            indent=2,
        )
        + "\n"
    )

    def pending() -> str:
        status = claude_status(claude(ctx, home2, proj2, "mcp", "list"))
        if "Pending approval" not in status:
            raise CheckFailed(
                f"expected an unapproved project server to be pending, got: {status or '(not listed)'}"
            )
        return f"before approval: {status}"

    record(R, "hand-written .mcp.json is listed (pending approval)", pending)

    def approve() -> str:
        settings = home2 / ".claude" / "settings.json"
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text(json.dumps({"enabledMcpjsonServers": ["tokenlean"]}, indent=2) + "\n")
        return (
            expect_connected(claude(ctx, home2, proj2, "mcp", "list"))
            + " (after enabledMcpjsonServers in ~/.claude/settings.json)"
        )

    if record(R, "approved via settings: claude mcp list Connected", approve):

        def get() -> str:
            p = ok(claude(ctx, home2, proj2, "mcp", "get", "tokenlean"))
            if "Status: ✔ Connected" not in p.out or "Project config" not in p.out:
                raise CheckFailed("claude mcp get did not report a connected project server\n" + p.describe())
            return "Scope: Project config · Status: ✔ Connected"

        record(R, "claude mcp get tokenlean shows Connected", get)
        record(
            R,
            "tool call returns hits (claude -p, scripted loopback model)",
            lambda: claude_tool_call(ctx, home2, proj2),
        )

    def add_project() -> str:
        proj3 = make_project(ctx.work / "claude-proj3")
        ok(
            claude(
                ctx,
                ctx.work / "claude-home3",
                proj3,
                "mcp",
                "add",
                "-s",
                "project",
                "tokenlean",
                "--",
                "tokenlean",
                "serve",
            )
        )
        written = json.loads((proj3 / ".mcp.json").read_text())["mcpServers"]["tokenlean"]
        if written.get("command") != "tokenlean" or written.get("args") != ["serve"]:
            raise CheckFailed(f"unexpected .mcp.json entry: {written}")
        return ".mcp.json: " + json.dumps(written)

    record(R, "claude mcp add -s project writes the same .mcp.json", add_project)

    R = "claude code (http)"
    home4, proj4 = ctx.work / "claude-home4", make_project(ctx.work / "claude-proj4")
    try:
        with HttpServer(ctx, proj4, TOKEN) as srv:
            ok(
                claude(
                    ctx,
                    home4,
                    proj4,
                    "mcp",
                    "add",
                    "-s",
                    "user",
                    "--transport",
                    "http",
                    "tokenlean",
                    srv.url,
                    "--header",
                    f"Authorization: Bearer {TOKEN}",
                )
            )
            ok(
                claude(
                    ctx,
                    home4,
                    proj4,
                    "mcp",
                    "add",
                    "-s",
                    "user",
                    "--transport",
                    "http",
                    "tokenlean-notoken",
                    srv.url,
                )
            )
            listing: list[Proc] = []

            def with_header() -> str:
                listing.append(claude(ctx, home4, proj4, "mcp", "list"))
                return expect_connected(listing[0])

            record(R, "claude mcp add --transport http … --header: Connected", with_header)

            def no_token() -> str:
                p = listing[0] if listing else claude(ctx, home4, proj4, "mcp", "list")
                status = claude_status(p, "tokenlean-notoken")
                if not status or ("Connected" in status and "✘" not in status):
                    raise CheckFailed(f"server without the token: {status or '(not listed)'}")
                return status[:110]

            record(R, "without the header: not connected", no_token)
    except CheckFailed as e:
        record(R, "start tokenlean serve --transport http", raiser(e))


# --------------------------------------------------------------------------- Codex


class AppServer:
    """A JSON-RPC session with `codex app-server` (stdio, one JSON message per line)."""

    def __init__(self, ctx: Ctx, home: Path, cwd: Path, **extra_env: str) -> None:
        cmd = [str(ctx.bin("codex")), "app-server"]
        if VERBOSE:
            print("    $ " + " ".join(cmd) + f"   (cwd {cwd})", flush=True)
        self.err_path = ctx.work / f"codex-app-server-{time.monotonic_ns()}.log"
        self._err = open(self.err_path, "w")  # noqa: SIM115 - closed in __exit__
        self.p = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=ctx.env(home, **extra_env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._err,
            text=True,
            start_new_session=True,
        )
        self.q: queue.Queue[dict[str, Any]] = queue.Queue()
        self.notes: list[dict[str, Any]] = []
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            try:
                self.q.put(json.loads(line))
            except ValueError:
                self.notes.append({"unparsed": line[:300]})

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        assert self.p.stdin is not None
        self.p.stdin.write(
            json.dumps({"jsonrpc": "2.0", "method": method, **({"params": params} if params else {})}) + "\n"
        )
        self.p.stdin.flush()

    def request(self, method: str, params: dict[str, Any], timeout: float = 90) -> dict[str, Any]:
        assert self.p.stdin is not None
        self.next_id += 1
        rid = self.next_id
        self.p.stdin.write(
            json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}) + "\n"
        )
        self.p.stdin.flush()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.q.get(timeout=0.5)
            except queue.Empty:
                if self.p.poll() is not None:
                    raise CheckFailed(
                        f"codex app-server exited ({self.p.returncode}): "
                        + _tail(self.err_path.read_text(), 800)
                    ) from None
                continue
            if msg.get("id") == rid and "method" not in msg:
                if "error" in msg:
                    raise CheckFailed(f"{method}: {json.dumps(msg['error'])[:500]}")
                return msg.get("result") or {}
            self.notes.append(msg)
        raise CheckFailed(f"{method}: no answer from codex app-server within {timeout:.0f}s")

    def __enter__(self) -> AppServer:
        self.request("initialize", {"clientInfo": {"name": "tokenlean-verify", "version": "0"}})
        self.notify("initialized")
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            assert self.p.stdin is not None
            self.p.stdin.close()
        except OSError:
            pass
        _kill_group(self.p)
        self._err.close()

    def server_status(self) -> dict[str, Any]:
        res = self.request("mcpServerStatus/list", {"serverName": "tokenlean"})
        entry = next((d for d in res.get("data", []) if d.get("name") == "tokenlean"), None)
        if entry is None:
            raise CheckFailed(f"tokenlean not in mcpServerStatus/list: {json.dumps(res)[:400]}")
        return entry

    def call_search(self, cwd: Path) -> str:
        thread = self.request("thread/start", {"cwd": str(cwd), "ephemeral": True})
        tid = (thread.get("thread") or {}).get("id")
        if not tid:
            raise CheckFailed(f"thread/start gave no thread id: {json.dumps(thread)[:300]}")
        res = self.request(
            "mcpServer/tool/call",
            {"server": "tokenlean", "threadId": tid, "tool": "search", "arguments": {"query": QUERY}},
        )
        return tool_text(res)


def codex(ctx: Ctx, home: Path, cwd: Path, *args: str, timeout: float = 90, **extra_env: str) -> Proc:
    return run([str(ctx.bin("codex")), *args], env=ctx.env(home, **extra_env), cwd=cwd, timeout=timeout)


def expect_tools(entry: dict[str, Any]) -> str:
    tools = sorted((entry.get("tools") or {}).keys())
    if not {"search", "read"} <= set(tools):
        raise CheckFailed(
            f"tokenlean tools via codex: {tools}; error: {entry.get('toolsError') or entry.get('authStatus')}"
        )
    info = entry.get("serverInfo") or {}
    return f"server {info.get('name')} {info.get('version')} started by codex; tools: {', '.join(tools)}"


def codex_exec_tool_call(ctx: Ctx, home: Path, proj: Path) -> str:
    with FakeResponses(QUERY) as fake:
        provider = (
            f'{{name="fake", base_url="{fake.base_url}/v1", wire_api="responses", supports_websockets=false}}'
        )
        p = codex(
            ctx,
            home,
            proj,
            "exec",
            "--skip-git-repo-check",
            "-c",
            "model_provider=fake",
            "-c",
            "model=fake-model",
            "-c",
            f"model_providers.fake={provider}",
            "Where is the bearer token checked? Use tokenlean.",
            timeout=240,
        )
        if fake.rec.errors:
            raise CheckFailed("fake model could not read Codex's requests: " + "; ".join(fake.rec.errors))
        if not fake.rec.tool_results:
            seen = [r.get("tools") for r in fake.rec.requests[:2]]
            raise CheckFailed(
                f"codex sent no tokenlean tool result back; tools offered: {seen}\n" + p.describe()
            )
        ok(p)
        detail = expect_hits(fake.rec.tool_results[-1], "codex exec → tokenlean search")
        first = fake.rec.requests[0].get("has_tokenlean") if fake.rec.requests else None
        started = "mcp: tokenlean/search (completed)" in p.err
        had = "had" if first else "lacked"
        return f"{detail} [first model request {had} tokenlean's tools; stderr logs completion: {started}]"


def check_codex(ctx: Ctx) -> None:
    R = "codex (mcp add)"
    home, proj = ctx.work / "codex-home", make_project(ctx.work / "codex-proj")

    def add() -> str:
        p = ok(codex(ctx, home, proj, "mcp", "add", "tokenlean", "--", "tokenlean", "serve"))
        toml = (home / ".codex" / "config.toml").read_text()
        if "[mcp_servers.tokenlean]" not in toml:
            raise CheckFailed(f"config.toml lacks [mcp_servers.tokenlean]:\n{toml}")
        said = (p.out.strip() or p.err.strip()).splitlines()
        return (said[-1] if said else "") + " · config.toml: " + " ".join(toml.split())

    if record(R, "codex mcp add tokenlean -- tokenlean serve", add):

        def listed() -> str:
            p = ok(codex(ctx, home, proj, "mcp", "list"))
            row = next((ln for ln in p.out.splitlines() if ln.startswith("tokenlean ")), "")
            if "enabled" not in row:
                raise CheckFailed("codex mcp list has no enabled tokenlean row\n" + p.describe())
            got = json.loads(ok(codex(ctx, home, proj, "mcp", "get", "tokenlean", "--json")).out)
            t = got.get("transport", {})
            if (t.get("type"), t.get("command"), t.get("args")) != (
                "stdio",
                "tokenlean",
                ["serve"],
            ) or not got.get("enabled"):
                raise CheckFailed(f"codex mcp get --json: {got}")
            return "list: " + " ".join(row.split())

        record(R, "codex mcp list / get show it", listed)

        def started() -> str:
            with AppServer(ctx, home, proj) as app:
                return expect_tools(app.server_status())

        record(R, "codex app-server starts it (mcpServerStatus/list)", started)

        def called() -> str:
            with AppServer(ctx, home, proj) as app:
                return expect_hits(app.call_search(proj), "codex mcpServer/tool/call")

        record(R, "tool call returns hits (app-server mcpServer/tool/call)", called)
        record(
            R,
            "tool call returns hits (codex exec, scripted loopback model)",
            lambda: codex_exec_tool_call(ctx, home, proj),
        )

    R = "codex (config.toml)"
    home2, proj2 = ctx.work / "codex-home2", make_project(ctx.work / "codex-proj2")
    elsewhere = ctx.work / "codex-elsewhere"
    elsewhere.mkdir(exist_ok=True)
    index2 = ctx.work / "index-codex-toml"

    def handwritten() -> str:
        cfg = home2 / ".codex" / "config.toml"
        cfg.parent.mkdir(parents=True, exist_ok=True)
        cfg.write_text(
            textwrap.dedent(
                f"""\
                [mcp_servers.tokenlean]
                command = "tokenlean"
                args = ["serve"]
                cwd = {json.dumps(str(proj2))}
                env = {{ TOKENLEAN_INDEX_DIR = {json.dumps(str(index2))} }}
                startup_timeout_sec = 30
                """
            )
        )
        got = json.loads(ok(codex(ctx, home2, elsewhere, "mcp", "get", "tokenlean", "--json")).out)
        t = got.get("transport", {})
        if t.get("cwd") != str(proj2) or (t.get("env") or {}).get("TOKENLEAN_INDEX_DIR") != str(index2):
            raise CheckFailed(f"codex did not read cwd/env from config.toml: {t}")
        return f"get --json: command={t.get('command')} args={t.get('args')} cwd=… env=TOKENLEAN_INDEX_DIR"

    if record(R, "hand-written [mcp_servers.tokenlean] read back (cwd, env)", handwritten):

        def called() -> str:
            with AppServer(ctx, home2, elsewhere) as app:
                tools = expect_tools(app.server_status())
                text = app.call_search(elsewhere)
            hits = expect_hits(text, "search with cwd from config.toml")
            if not index2.exists():
                raise CheckFailed(
                    f"env TOKENLEAN_INDEX_DIR was not passed to the server ({index2} not created)"
                )
            return f"{hits} · {tools.split(';')[1].strip()} · cwd and env honoured"

        record(R, "started from another dir: cwd + env honoured, search hits", called)

    R = "codex (http)"
    home3, proj3 = ctx.work / "codex-home3", make_project(ctx.work / "codex-proj3")
    try:
        with HttpServer(ctx, proj3, TOKEN) as srv:

            def add_url() -> str:
                ok(
                    codex(
                        ctx,
                        home3,
                        proj3,
                        "mcp",
                        "add",
                        "tokenlean",
                        "--url",
                        srv.url,
                        "--bearer-token-env-var",
                        "TOKENLEAN_TOKEN",
                    )
                )
                got = json.loads(ok(codex(ctx, home3, proj3, "mcp", "get", "tokenlean", "--json")).out)
                t = got.get("transport", {})
                if t.get("url") != srv.url or t.get("bearer_token_env_var") != "TOKENLEAN_TOKEN":
                    raise CheckFailed(f"codex mcp get --json: {got}")
                return f"transport: {t.get('type')} url=… bearer_token_env_var=TOKENLEAN_TOKEN"

            if record(R, "codex mcp add --url … --bearer-token-env-var TOKENLEAN_TOKEN", add_url):

                def with_token() -> str:
                    with AppServer(ctx, home3, proj3, TOKENLEAN_TOKEN=TOKEN) as app:
                        return expect_hits(app.call_search(proj3), "codex over http")

                record(R, "with the token: tool call returns hits", with_token)

                def wrong_token() -> str:
                    with AppServer(ctx, home3, proj3, TOKENLEAN_TOKEN="wrong") as app:
                        entry = app.server_status()
                    if entry.get("tools"):
                        raise CheckFailed(f"codex listed tools with a wrong token: {list(entry['tools'])}")
                    return f"refused: {str(entry.get('toolsError'))[:100]}"

                record(R, "with a wrong token: refused", wrong_token)
    except CheckFailed as e:
        record(R, "start tokenlean serve --transport http", raiser(e))


# --------------------------------------------------------------------------- VS Code


VSCODE_MCP_JSON = {
    "servers": {
        "tokenlean": {
            "type": "stdio",
            "command": "tokenlean",
            "args": ["serve", "--root", "${workspaceFolder}"],
        }
    }
}


def check_vscode(ctx: Ctx) -> None:
    R = "vscode (.vscode/mcp.json)"
    home, ws = ctx.work / "vscode-home", make_project(ctx.work / "vscode-workspace")
    f = ws / ".vscode" / "mcp.json"
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(json.dumps(VSCODE_MCP_JSON, indent=2) + "\n")

    def entry() -> dict[str, Any]:
        data = json.loads(f.read_text())
        e = data["servers"]["tokenlean"]
        if e.get("type") != "stdio" or not e.get("command"):
            raise CheckFailed(f"not a stdio server entry: {e}")
        subst = lambda s: s.replace("${workspaceFolder}", str(ws))  # noqa: E731 - what VS Code does
        return {
            "command": subst(e["command"]),
            "args": [subst(a) for a in e.get("args", [])],
            "env": e.get("env") or {},
        }

    def python_client() -> str:
        import anyio
        from mcp import ClientSession, StdioServerParameters
        from mcp.client.stdio import stdio_client

        e = entry()
        env = ctx.env(home, **e["env"])
        # Like VS Code: the command is looked up on PATH, the server runs in the workspace.
        command = shutil.which(e["command"], path=env["PATH"]) or e["command"]
        out: dict[str, Any] = {}

        async def go() -> None:
            with anyio.fail_after(90):
                params = StdioServerParameters(command=command, args=e["args"], env=env, cwd=str(ws))
                async with stdio_client(params) as (r, w), ClientSession(r, w) as s:
                    await s.initialize()
                    out["tools"] = sorted(t.name for t in (await s.list_tools()).tools)
                    res = await s.call_tool("search", {"query": QUERY})
                    if getattr(res, "is_error", getattr(res, "isError", False)):
                        raise CheckFailed(f"search isError: {res}")
                    out["text"] = "\n".join(getattr(c, "text", "") for c in res.content)

        anyio.run(go)
        if not {"search", "read"} <= set(out["tools"]):
            raise CheckFailed(f"tools: {out['tools']}")
        return expect_hits(out["text"], "python mcp client") + f" · tools: {', '.join(out['tools'])}"

    record(R, "python mcp client launches the entry, search hits", python_client)

    def via_inspector() -> str:
        e = entry()
        cfg = ctx.work / "vscode-as-mcpServers.json"
        cfg.write_text(
            json.dumps(
                {"mcpServers": {"tokenlean": {"command": e["command"], "args": e["args"], "env": e["env"]}}}
            )
        )
        res = inspector_json(
            inspector(
                ctx,
                home,
                [
                    "--config",
                    str(cfg),
                    "--server",
                    "tokenlean",
                    "--method",
                    "tools/call",
                    "--tool-name",
                    "search",
                    "--tool-arg",
                    f"query={QUERY}",
                ],
            )
        )
        return expect_hits(tool_text(res), "inspector with the same command/args")

    if ctx.pkg_dir is None:
        record(
            R,
            "inspector launches the same command/args",
            lambda: (_ for _ in ()).throw(Skip(ctx.npm_problem or "no inspector")),
        )
    else:
        record(R, "inspector launches the same command/args", via_inspector)


# --------------------------------------------------------------------------- isolation


CLIENT_PATHS = [".claude", ".claude.json", ".codex", ".mcp-inspector", ".cache/tokenlean"]


def check_isolation(ctx: Ctx) -> None:
    R = "isolation"

    def nothing_new() -> str:
        real = Path(os.path.expanduser("~"))
        appeared = [str(p) for p in ctx.real_home_missing if p.exists()]
        if appeared:
            raise CheckFailed(f"created in the real home ({real}): {appeared}")
        wrote = [
            p
            for p in ("claude-home/.claude/.claude.json", "codex-home/.codex/config.toml")
            if (ctx.work / p).exists()
        ]
        return f"no new client files in {real}; configs went to the temp HOMEs ({len(wrote)} checked)"

    record(R, "nothing written to the real HOME", nothing_new)


# --------------------------------------------------------------------------- main


def print_table() -> None:
    rows = [("recipe", "check", "result")] + [
        (r, c, s + (f" — {d.splitlines()[0][:100]}" if d and s != "PASS" else "")) for r, c, s, d in RESULTS
    ]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print()
    print(f"| {rows[0][0]:<{w0}} | {rows[0][1]:<{w1}} | {rows[0][2]} |")
    print(f"|{'-' * (w0 + 2)}|{'-' * (w1 + 2)}|{'-' * 8}|")
    for r in rows[1:]:
        print(f"| {r[0]:<{w0}} | {r[1]:<{w1}} | {r[2]} |")
    counts = {s: sum(1 for x in RESULTS if x[2] == s) for s in ("PASS", "FAIL", "SKIP")}
    print(f"\n{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped")


def main() -> int:
    global VERBOSE
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--latest", action="store_true", help="install the clients' latest versions instead of the pins"
    )
    ap.add_argument(
        "--only",
        action="append",
        choices=["inspector", "claude", "codex", "vscode"],
        help="run only these recipes (repeatable)",
    )
    ap.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("TOKENLEAN_CLIENTS_CACHE", HERE / ".npm")),
        help="where node and the npm packages are kept (default: bench/clients/.npm)",
    )
    ap.add_argument(
        "--tokenlean", type=Path, help="the tokenlean executable (default: next to this python, else on PATH)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the temp dirs (printed) for inspection")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every command")
    a = ap.parse_args()
    VERBOSE = a.verbose
    only = set(a.only or ["inspector", "claude", "codex", "vscode"])

    tl = a.tokenlean or (Path(sys.executable).parent / "tokenlean")
    if not tl.exists():
        found = shutil.which("tokenlean")
        if not found:
            print("tokenlean is not installed: pip install -e . (or pass --tokenlean PATH)", file=sys.stderr)
            return 2
        tl = Path(found)
    real = Path(os.path.expanduser("~"))
    a.cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tokenlean-clients-"))
    ctx = Ctx(
        work=work,
        cache=a.cache.resolve(),
        tokenlean=tl.resolve(),
        real_home_missing=[real / p for p in CLIENT_PATHS if not (real / p).exists()],
    )
    tv = subprocess.run([str(ctx.tokenlean), "--version"], capture_output=True, text=True, timeout=60)
    ctx.versions["tokenlean"] = (tv.stdout.strip() or tv.stderr.strip()) + f" ({ctx.tokenlean})"
    print(f"work dir: {work}\ncache: {ctx.cache}\n", flush=True)

    needs_npm = only & {"inspector", "claude", "codex", "vscode"}
    if needs_npm:
        print("setup", flush=True)
        try:
            ensure_node(ctx)
            ensure_clients(ctx, a.latest)
        except (Skip, CheckFailed) as e:
            ctx.npm_problem = str(e)
            ctx.pkg_dir = None
            status = "SKIP" if isinstance(e, Skip) else "FAIL"
            RESULTS.append(("setup", "node + npm packages", status, str(e)))
            print(f"  [{status}] setup: {e}", flush=True)
    print("\nversions:\n" + "\n".join(f"  {k}: {v}" for k, v in ctx.versions.items()) + "\n", flush=True)

    try:
        for name, fn in (
            ("inspector", check_inspector),
            ("claude", check_claude),
            ("codex", check_codex),
            ("vscode", check_vscode),
        ):
            if name not in only:
                continue
            print(name, flush=True)
            if ctx.pkg_dir is None and name != "vscode":
                RESULTS.append((name, "all checks", "SKIP", ctx.npm_problem or "clients not installed"))
                continue
            fn(ctx)
        check_isolation(ctx)
    finally:
        if a.keep:
            print(f"\nkept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print_table()
    return 1 if any(s == "FAIL" for _, _, s, _ in RESULTS) else 0


if __name__ == "__main__":
    sys.exit(main())
