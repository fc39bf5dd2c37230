"""Handles: large content kept by the server and passed around as a short id instead of inline.

An orchestrator can stash a document or a tool's output once and hand its handle to subagents,
each of which reads only the slice it needs. Handles hold content, never paths: they cannot be
turned into a read of anything else. They live in one server process, are capped in number and
size, and expire.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from tokenlean.indexers import tokens
from tokenlean.indexers.errors import TokenleanError

MAX_HANDLES = 256
MAX_HANDLE_BYTES = 4_000_000
MAX_TOTAL_BYTES = 64_000_000
TTL_SECONDS = 3600.0
PREFIX = "h:"


class BadHandle(TokenleanError):
    """An unknown, expired or malformed handle, or content that cannot be stored."""


@dataclass(frozen=True)
class Handle:
    id: str
    description: str
    kind: str  # "file", "document", "json", "text", "search" ...
    text: str
    created: float
    expires: float
    tokens: int
    lines: int

    def summary(self) -> str:
        """One line an agent can act on: id, what it is, how big, how to read it."""
        minutes = max(1, round((self.expires - time.time()) / 60))
        return (
            f"{self.id} · {self.description} · {self.tokens:,} tokens, {self.lines:,} lines · "
            f"read(handle='{self.id}', lines='1-80') to see part of it · expires in {minutes} min"
        )


class Handles:
    """The handles of one server instance. Thread-safe; least recently used go first when full."""

    def __init__(
        self,
        max_handles: int = MAX_HANDLES,
        max_bytes: int = MAX_HANDLE_BYTES,
        max_total: int = MAX_TOTAL_BYTES,
        ttl: float = TTL_SECONDS,
    ) -> None:
        self.max_handles, self.max_bytes, self.max_total, self.ttl = max_handles, max_bytes, max_total, ttl
        self._items: OrderedDict[str, Handle] = OrderedDict()
        self._expired: dict[str, float] = {}
        self._lock = threading.Lock()

    def put(self, text: str, description: str, kind: str = "text") -> Handle:
        size = len(text.encode("utf-8", errors="replace"))
        if not text:
            raise BadHandle("nothing to store: the content is empty")
        if size > self.max_bytes:
            raise BadHandle(
                f"content is {size:,} bytes; a handle holds at most {self.max_bytes:,}: store a part of it"
            )
        now = time.time()
        handle = Handle(
            id=PREFIX + secrets.token_hex(6),
            description=" ".join(description.split())[:160] or kind,
            kind=kind,
            text=text,
            created=now,
            expires=now + self.ttl,
            tokens=tokens.count(text),
            lines=text.count("\n") + 1,
        )
        with self._lock:
            self._sweep(now)
            self._items[handle.id] = handle
            while len(self._items) > self.max_handles or self._total() > self.max_total:
                old_id, _ = self._items.popitem(last=False)
                self._expired[old_id] = now
        return handle

    def get(self, handle_id: str) -> Handle:
        hid = (handle_id or "").strip()
        if not hid.startswith(PREFIX) or not all(c in "0123456789abcdef" for c in hid[len(PREFIX) :]):
            raise BadHandle(f"{handle_id!r} is not a handle: handles look like 'h:3f9a2c41d0e7'")
        now = time.time()
        with self._lock:
            self._sweep(now)
            handle = self._items.get(hid)
            if handle is None:
                if hid in self._expired:
                    raise BadHandle(
                        f"handle {hid} has expired or was evicted: repeat the call that produced it"
                    )
                raise BadHandle(f"unknown handle {hid}: this server never issued it (handles are per server)")
            self._items.move_to_end(hid)
            return handle

    def _total(self) -> int:
        return sum(len(h.text) for h in self._items.values())

    def _sweep(self, now: float) -> None:
        for hid in [h for h, item in self._items.items() if item.expires <= now]:
            del self._items[hid]
            self._expired[hid] = now
        if len(self._expired) > 10 * self.max_handles:  # remember enough to explain, not forever
            for hid in list(self._expired)[: len(self._expired) // 2]:
                del self._expired[hid]
