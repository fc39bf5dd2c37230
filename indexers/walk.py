"""Walk a repository the way git sees it: .gitignore/.ignore aware, secrets and junk left out."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

# Directories and files nobody wants in a code index. A project's own .gitignore may re-include
# any of them with a negation ("!build/"), as git would.
DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git/",
    ".hg/",
    ".svn/",
    ".jj/",
    "node_modules/",
    "bower_components/",
    "__pycache__/",
    ".venv/",
    "venv/",
    ".tox/",
    ".nox/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".hypothesis/",
    "build/",
    "dist/",
    "target/",
    "out/",
    ".next/",
    ".nuxt/",
    ".cache/",
    ".gradle/",
    ".idea/",
    ".terraform/",
    "coverage/",
    "htmlcov/",
    ".eggs/",
    "*.egg-info/",
    ".DS_Store",
    "*.min.js",
    "*.min.css",
    "*.map",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "Cargo.lock",
    "poetry.lock",
    "uv.lock",
    "Pipfile.lock",
    "composer.lock",
    "go.sum",
)

# Files that commonly hold credentials. Never indexed, whatever the ignore files say.
SECRET_FILES: tuple[str, ...] = (
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.keystore",
    "*.jks",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*.ppk",
    ".netrc",
    "_netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    "credentials",
    "credentials.json",
    "credentials.yml",
    "credentials.yaml",
    ".aws/",
    ".ssh/",
    ".gnupg/",
    ".docker/config.json",
    "secrets.json",
    "secrets.yml",
    "secrets.yaml",
    "*.secret",
    "*.secrets",
    "service-account*.json",
    ".htpasswd",
    "*.kdbx",
    "*.tfvars",
    "*.tfstate",
)

# Extensions that are never text worth indexing; skipped without opening the file.
BINARY_EXTENSIONS = frozenset(
    (
        ".png .jpg .jpeg .gif .bmp .ico .webp .tiff .psd .svgz .mp3 .mp4 .wav .ogg .flac .avi .mov .mkv "
        ".webm .zip .gz .tgz .bz2 .xz .zst .7z .rar .tar .jar .war .ear .whl .egg .so .dylib .dll .exe "
        ".bin .o .a .lib .obj .pyc .pyo .pyd .class .wasm .pdf .doc .docx .xls .xlsx .ppt .pptx .odt .ttf "
        ".otf .woff .woff2 .eot .db .sqlite .sqlite3 .parquet .arrow .npy .npz .pkl .pickle .pt .pth "
        ".onnx .safetensors .h5 .ckpt .iso .dmg .deb .rpm .apk .ipa"
    ).split()
)

IGNORE_FILES = (".gitignore", ".ignore")


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A file the walk found: path relative to the root (posix), absolute path, and stat facts."""

    rel: str
    path: Path
    size: int
    mtime_ns: int


@dataclass
class WalkReport:
    """What the walk left out, by reason; shown in the index summary."""

    skipped: Counter[str] = field(default_factory=Counter)


def _spec(lines: Iterable[str]) -> pathspec.GitIgnoreSpec | None:
    patterns = [ln.rstrip("\n") for ln in lines]
    patterns = [p for p in patterns if p.strip() and not p.lstrip().startswith("#")]
    return pathspec.GitIgnoreSpec.from_lines(patterns) if patterns else None


def _read_spec(path: Path) -> pathspec.GitIgnoreSpec | None:
    try:
        return _spec(path.read_text(encoding="utf-8", errors="replace").splitlines())
    except OSError:
        return None


def _global_excludes() -> pathspec.GitIgnoreSpec | None:
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return _read_spec(config_home / "git" / "ignore")


class Walker:
    """Yields indexable files under `root` in sorted order.

    Precedence follows git: built-in defaults and `excludes` < global excludes < .git/info/exclude
    < .gitignore/.ignore files from the root down (deeper files win). Secret files are always out,
    whatever the ignore files say; only `allow_secret_files` (configuration, not repository content)
    lets one in.
    """

    def __init__(
        self,
        root: Path,
        *,
        excludes: Iterable[str] = (),
        includes: Iterable[str] = (),
        max_file_bytes: int = 1_000_000,
        use_global_excludes: bool = True,
        secret_files: Iterable[str] = (),
        allow_secret_files: Iterable[str] = (),
    ) -> None:
        """`secret_files`: more patterns of files never to index; `allow_secret_files`: patterns the
        built-in deny-list should let through (e.g. `.env.example`), still subject to ignore files."""
        self.root = root.resolve()
        self.max_file_bytes = max_file_bytes
        self.report = WalkReport()
        self._secrets = pathspec.GitIgnoreSpec.from_lines(
            [*SECRET_FILES, *secret_files, *(f"!{p}" for p in allow_secret_files)]
        )
        base_lines = [*DEFAULT_EXCLUDES, *excludes, *(f"!{p}" for p in includes)]
        self._base: list[tuple[str, pathspec.GitIgnoreSpec]] = []
        for spec in (
            _spec(base_lines),
            _global_excludes() if use_global_excludes else None,
            _read_spec(self.root / ".git" / "info" / "exclude"),
        ):
            if spec is not None:
                self._base.append(("", spec))

    def is_ignored(self, rel: str, is_dir: bool, specs: list[tuple[str, pathspec.GitIgnoreSpec]]) -> bool:
        """Whether `rel` is ignored under the given (dir prefix, spec) chain; the last match wins."""
        verdict = False
        for prefix, spec in specs:
            sub = rel[len(prefix) + 1 :] if prefix else rel
            result = spec.check_file(sub + "/" if is_dir else sub).include
            if result is not None:
                verdict = result
        return verdict

    def is_secret(self, rel: str, is_dir: bool = False) -> bool:
        return self._secrets.check_file(rel + "/" if is_dir else rel).include is True

    def __iter__(self) -> Iterator[FileEntry]:
        yield from self._walk(self.root, "", list(self._base))

    def _walk(self, directory: Path, rel_dir: str, specs: list[tuple[str, pathspec.GitIgnoreSpec]]):
        local = [s for name in IGNORE_FILES if (s := _read_spec(directory / name)) is not None]
        if local:
            specs = specs + [(rel_dir, s) for s in local]
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            self.report.skipped["unreadable directory"] += 1
            return
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                self.report.skipped["unreadable"] += 1
                continue
            if is_dir:
                if self.is_secret(rel, True):
                    self.report.skipped["secret"] += 1
                elif not self.is_ignored(rel, True, specs):
                    yield from self._walk(Path(entry.path), rel, specs)
                continue
            if is_link:
                reason = self._link_problem(Path(entry.path))
                if reason:
                    self.report.skipped[reason] += 1
                    continue
            if self.is_ignored(rel, False, specs):
                continue
            if self.is_secret(rel):
                self.report.skipped["secret"] += 1
                continue
            if os.path.splitext(entry.name)[1].lower() in BINARY_EXTENSIONS:
                self.report.skipped["binary"] += 1
                continue
            try:
                st = entry.stat()  # follows an in-root symlink to its target
            except OSError:
                self.report.skipped["unreadable"] += 1
                continue
            if not os.path.isfile(entry.path):
                continue
            if st.st_size > self.max_file_bytes:
                self.report.skipped["too large"] += 1
                continue
            yield FileEntry(rel, Path(entry.path), st.st_size, st.st_mtime_ns)

    def _link_problem(self, path: Path) -> str | None:
        """Why a symlink is not walked, or None for a link to a file inside the root."""
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return "broken symlink"
        if not target.is_relative_to(self.root):
            return "symlink outside root"
        if not target.is_file():
            return "symlinked directory"  # not followed: it would index the same files twice, or loop
        return None
