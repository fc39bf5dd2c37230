"""Confine every path an agent gives to the configured roots."""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from tokenlean.indexers.errors import TokenleanError

MAX_PATH_CHARS = 4096
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


class PathRefused(TokenleanError):
    """A path that is outside the roots, malformed, or not allowed."""


def normalise(raw: str) -> str:
    """A path as the agent meant it: URL-decoded, '/'-separated, without NULs or surrounding space."""
    if len(raw) > MAX_PATH_CHARS:
        raise PathRefused(f"path is {len(raw)} characters long (limit {MAX_PATH_CHARS}): give a shorter path")
    if "\x00" in raw:
        raise PathRefused("path contains a NUL byte: give a plain file path")
    text = raw.strip()
    if "%" in text:
        decoded = unquote(text)
        if "\x00" in decoded:
            raise PathRefused("path contains an encoded NUL byte: give a plain file path")
        text = decoded
    if text.startswith("file://"):
        text = text[len("file://") :]
    return text.replace("\\", "/")


class Roots:
    """The folders an agent may see. Paths are shown relative to their root."""

    def __init__(self, roots: list[Path], why_none: str = "") -> None:
        self.roots = [r.resolve() for r in roots]
        self.why_none = why_none or "no roots configured: pass --root PATH"

    def require(self) -> None:
        """Refuse to work without a root, saying why there is none and what to do."""
        if not self.roots:
            raise PathRefused(self.why_none)

    def __iter__(self):
        return iter(self.roots)

    def __len__(self) -> int:
        return len(self.roots)

    def label(self, root: Path) -> str:
        """How a root is named in output when several are served: its folder name."""
        return root.name or str(root)

    def display(self, root: Path, rel: str) -> str:
        return rel if len(self.roots) == 1 else f"{self.label(root)}/{rel}"

    def resolve(self, raw: str, *, must_exist: bool = True) -> tuple[Path, str]:
        """(root, relative posix path) for a path given by an agent, or PathRefused.

        Accepts paths relative to a root, absolute paths inside a root, and (with several roots)
        paths prefixed with a root's folder name. Symlinks are resolved before the check.
        """
        self.require()
        text = normalise(raw)
        if not text or text in (".", "/"):
            raise PathRefused("empty path: give a file path relative to the root")
        candidates: list[tuple[Path, Path]] = []
        if text.startswith("/") or _DRIVE.match(text):
            candidates = [(root, Path(text)) for root in self.roots]
        else:
            parts = PurePosixPath(text).parts
            for root in self.roots:
                if len(self.roots) > 1 and parts and parts[0] == self.label(root):
                    candidates.append((root, root.joinpath(*parts[1:])))
            candidates += [(root, root.joinpath(*parts)) for root in self.roots]
        for root, candidate in candidates:
            try:
                real = Path(os.path.realpath(candidate))
            except (OSError, ValueError):
                continue
            if real == root or not real.is_relative_to(root):
                continue
            if must_exist and not real.exists():
                continue
            return root, real.relative_to(root).as_posix()
        inside = any(Path(os.path.realpath(c)).is_relative_to(r) for r, c in candidates if _safe_realpath(c))
        if inside and must_exist:
            raise PathRefused(f"no such file under the roots: {raw!r}; check the path (search can find it)")
        names = ", ".join(str(r) for r in self.roots)
        raise PathRefused(
            f"path {raw!r} is outside the configured roots ({names}): give a path relative to a root"
        )


def _safe_realpath(path: Path) -> bool:
    try:
        os.path.realpath(path)
        return True
    except (OSError, ValueError):
        return False
