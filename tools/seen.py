"""Differential reads: content an agent already received is not sent again in full.

What counts as received is per connection (one agent's context): a subagent with its own
connection never inherits another's. Clients compact their context without telling the server,
so every marker says how to get the full text back in one call (`full=true`).
"""

from __future__ import annotations

import difflib
import hashlib
import threading
from collections import OrderedDict
from typing import NamedTuple

from tokenlean.indexers import tokens

MAX_SESSIONS = 64
MAX_ENTRIES = 2048  # per session
MAX_DIFF_SHARE = 0.6  # a diff costing more than this share of the full text is not worth sending


class Delivery(NamedTuple):
    text: str  # what to send: the content, a diff, or a one-line marker
    state: str  # "new", "unchanged" or "changed"
    saved: int  # tokens not sent because the agent already had them


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", errors="replace"), digest_size=12).hexdigest()


class Seen:
    """Per-session memory of the content sent, keyed by what it is (file and range, or symbol)."""

    def __init__(self, max_sessions: int = MAX_SESSIONS, max_entries: int = MAX_ENTRIES) -> None:
        self.max_sessions, self.max_entries = max_sessions, max_entries
        self._sessions: OrderedDict[str, OrderedDict[str, tuple[str, str]]] = OrderedDict()
        self._lock = threading.Lock()

    def _book(self, session: str) -> OrderedDict[str, tuple[str, str]]:
        book = self._sessions.get(session)
        if book is None:
            book = self._sessions[session] = OrderedDict()
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
        self._sessions.move_to_end(session)
        return book

    def deliver(self, session: str, key: str, text: str, label: str, full: bool = False) -> Delivery:
        """What to send for `text` (known to the agent as `label`), and remember that it was sent."""
        digest = _digest(text)
        with self._lock:
            book = self._book(session)
            previous = book.get(key)
            book[key] = (digest, text)
            book.move_to_end(key)
            while len(book) > self.max_entries:
                book.popitem(last=False)
        if full or previous is None:
            return Delivery(text, "new", 0)
        if previous[0] == digest:
            marker = f"{label}: unchanged since you received it (full=true resends)"
            return Delivery(marker, "unchanged", max(tokens.count(text) - tokens.count(marker), 0))
        diff = "\n".join(
            difflib.unified_diff(previous[1].split("\n"), text.split("\n"), "before", "now", n=2, lineterm="")
        )
        full_cost = tokens.count(text)
        diff_cost = tokens.count(diff)
        if diff_cost > full_cost * MAX_DIFF_SHARE:
            return Delivery(text, "new", 0)
        shown = f"{label}: changed since you received it; the diff (full=true resends all):\n{diff}"
        return Delivery(shown, "changed", max(full_cost - tokens.count(shown), 0))

    def forget(self, session: str) -> None:
        with self._lock:
            self._sessions.pop(session, None)
