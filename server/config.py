"""Settings from flags, environment and config files, in that order of precedence.

Config files (TOML, all keys optional): the user's `~/.config/tokenlean/config.toml` (or
$TOKENLEAN_CONFIG), then a project's `.tokenlean.toml` in the first root. Keys: exclude, include,
max_file_kb, workers, index_dir, store, search_limit, search_budget, read_budget, refresh_seconds,
ledger, task_budget_soft, task_budget_hard, vectors, secret_files, allow_secret_files.

`store` (a postgresql:// URL: the shared team index instead of SQLite files; $TOKENLEAN_STORE and
--store override it) and `index_dir` are read from the user's config only: a repository must not
move its own index. `allow_secret_files` is read from the user's config only: a repository must not
be able to let its own credentials into the index.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokenlean.indexers.errors import TokenleanError
from tokenlean.indexers.indexer import IndexOptions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

_KEYS = {
    "exclude": list,
    "include": list,
    "max_file_kb": int,
    "workers": int,
    "index_dir": str,
    "store": str,
    "search_limit": int,
    "search_budget": int,
    "read_budget": int,
    "refresh_seconds": (int, float),
    "ledger": str,
    "vectors": str,
    "slice_vectors": str,
    "task_budget_soft": int,
    "task_budget_hard": int,
    "secret_files": list,
    "allow_secret_files": list,
}


# What `vectors` and `slice_vectors` can be: auto (fast when installed), the two profiles, or none.
VECTOR_SETTINGS = ("auto", "fast", "quality", "off")

_SYSTEM_DIRS = ("/etc", "/usr", "/bin", "/sbin", "/lib", "/proc", "/sys", "/dev", "/boot", "/var/lib")


def not_a_project(path: Path) -> str | None:
    """Why a folder a server was merely started in should not be indexed, or None if it may be.

    Clients start stdio servers in the project, but not always: Codex starts them in CODEX_HOME
    when it lists servers outside a session. Indexing a home or a tool's config folder would put
    session logs and credentials in an index, so an implicit root there is refused.
    """
    path = path.resolve()
    home = Path.home().resolve()
    if path == Path(path.anchor):
        return "the filesystem root"
    if path == home:
        return "your home folder"
    if path.is_relative_to(home):
        top = path.relative_to(home).parts[0]
        if top.startswith("."):
            return f"inside {home / top}, a tool's settings folder"
    for env in ("CODEX_HOME", "CLAUDE_CONFIG_DIR"):
        value = os.environ.get(env)
        if value and path.is_relative_to(Path(value).expanduser().resolve()):
            return f"inside ${env}"
    if any(str(path) == d or str(path).startswith(d + "/") for d in _SYSTEM_DIRS):
        return "a system folder"
    return None


class ConfigError(TokenleanError):
    """A config file or flag value that cannot be used."""


@dataclass
class Config:
    roots: list[Path]
    index_dir: Path | None = None
    store: str | None = None  # postgresql:// URL of a shared store; None: one SQLite file per root
    excludes: tuple[str, ...] = ()
    includes: tuple[str, ...] = ()
    max_file_kb: int = 1000
    workers: int | None = None
    search_limit: int = 10
    search_budget: int = 1500
    read_budget: int = 3000
    refresh_seconds: float = 10.0
    ledger_path: Path | str | None = None  # default: $TOKENLEAN_LEDGER, the store, or the user data dir
    vectors: str = "auto"  # one of VECTOR_SETTINGS
    # What `slice` ranks with, when it should differ from the index's vectors (the quality profile
    # costs seconds per long document there, and an index built with it hours): None follows `vectors`.
    slice_vectors: str | None = None
    task_budget_soft: int | None = None
    task_budget_hard: int | None = None
    secret_files: tuple[str, ...] = ()
    allow_secret_files: tuple[str, ...] = ()
    sources: list[str] = field(default_factory=list)  # config files that were read
    why_no_roots: str = ""  # set when the implicit root was refused (see not_a_project)

    @property
    def location(self) -> Path | str | None:
        """Where indexes live: the shared store's URL, else the SQLite index directory."""
        return self.store or self.index_dir

    @property
    def slicing_vectors(self) -> str:
        """The embeddings `slice` ranks with: `slice_vectors`, else the index's `vectors`."""
        return self.slice_vectors or self.vectors

    def index_options(self) -> IndexOptions:
        options = IndexOptions(
            excludes=self.excludes,
            includes=self.includes,
            max_file_bytes=self.max_file_kb * 1000,
            vectors=self.vectors,
            secret_files=self.secret_files,
            allow_secret_files=self.allow_secret_files,
        )
        if self.workers:
            options.workers = self.workers
        return options

    def open_ledger(self):
        from tokenlean.indexers.ledger_store import LedgerStore
        from tokenlean.tools.ledger import Ledger

        # A team store keeps the team's ledger too, unless this user names a ledger file.
        target = self.ledger_path or os.environ.get("TOKENLEAN_LEDGER") or self.store
        if isinstance(target, str) and target.startswith(("postgresql://", "postgres://")):
            from tokenlean.indexers.pg_ledger_store import PgLedgerStore

            return Ledger(PgLedgerStore(target), self.task_budget_soft, self.task_budget_hard)
        return Ledger(LedgerStore(target), self.task_budget_soft, self.task_budget_hard)

    def workspace_options(self):
        from tokenlean.tools.workspace import WorkspaceOptions

        return WorkspaceOptions(
            index_dir=self.location, index=self.index_options(), refresh_seconds=self.refresh_seconds
        )


def _user_config_path() -> Path:
    if os.environ.get("TOKENLEAN_CONFIG"):
        return Path(os.environ["TOKENLEAN_CONFIG"]).expanduser()
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "tokenlean" / "config.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}; fix or remove it") from exc
    for key, value in data.items():
        if key not in _KEYS:
            raise ConfigError(f"unknown key {key!r} in {path}: known keys are {', '.join(_KEYS)}")
        if not isinstance(value, _KEYS[key]):
            raise ConfigError(f"{key} in {path} has the wrong type ({type(value).__name__})")
    return data


def load_config(
    roots: list[Path],
    index_dir: Path | None = None,
    excludes: tuple[str, ...] | list[str] = (),
    includes: tuple[str, ...] | list[str] = (),
    max_file_kb: int | None = None,
    workers: int | None = None,
    refresh_seconds: float | None = None,
    vectors: str | None = None,
    store: str | None = None,
) -> Config:
    """Merge config files with explicit arguments (arguments win; list options add up)."""
    resolved = []
    for root in roots:
        root = Path(root).expanduser()
        if not root.exists():
            raise ConfigError(f"root {root} does not exist: give the path of a repository or folder")
        if not root.is_dir():
            raise ConfigError(f"root {root} is not a directory: give a folder")
        resolved.append(root.resolve())
    cfg = Config(roots=resolved)
    layers = [(_user_config_path(), _read_toml(_user_config_path()))]
    if resolved:
        project = resolved[0] / ".tokenlean.toml"
        layers.append((project, _read_toml(project)))
    for path, data in layers:
        if not data:
            continue
        cfg.sources.append(str(path))
        cfg.excludes += tuple(data.get("exclude", ()))
        cfg.includes += tuple(data.get("include", ()))
        cfg.secret_files += tuple(data.get("secret_files", ()))
        for key in (
            "max_file_kb",
            "workers",
            "search_limit",
            "search_budget",
            "read_budget",
            "refresh_seconds",
            "task_budget_soft",
            "task_budget_hard",
            "vectors",
            "slice_vectors",
        ):
            if key in data:
                setattr(cfg, key, data[key])
        if path == layers[0][0]:  # a repository may not move its index or ledger elsewhere
            if "index_dir" in data:
                cfg.index_dir = Path(data["index_dir"]).expanduser()
            cfg.store = data.get("store", cfg.store)
            if "ledger" in data:  # a file, or the postgresql:// URL of a team ledger
                ledger = data["ledger"]
                cfg.ledger_path = ledger if "://" in ledger else Path(ledger).expanduser()
            cfg.allow_secret_files += tuple(data.get("allow_secret_files", ()))
        elif "allow_secret_files" in data:
            raise ConfigError(
                f"allow_secret_files in {path}: a repository cannot let files through the secret "
                f"deny-list; put the key in your user config ({layers[0][0]}) if you trust these files"
            )
    cfg.excludes += tuple(excludes)
    cfg.includes += tuple(includes)
    if index_dir is not None:
        cfg.index_dir = index_dir
    cfg.store = store or os.environ.get("TOKENLEAN_STORE") or cfg.store
    if cfg.store and not cfg.store.startswith(("postgresql://", "postgres://")):
        raise ConfigError(f"store must be a postgresql:// URL (got {cfg.store.split('@')[-1]!r})")
    if max_file_kb is not None:
        cfg.max_file_kb = max_file_kb
    if workers is not None:
        cfg.workers = workers
    if refresh_seconds is not None:
        cfg.refresh_seconds = refresh_seconds
    if vectors is not None:
        cfg.vectors = vectors
    for key in ("vectors", "slice_vectors"):
        value = getattr(cfg, key)
        if value is not None and value not in VECTOR_SETTINGS:
            raise ConfigError(f"{key} must be auto, fast, quality or off (got {value!r})")
    return cfg
