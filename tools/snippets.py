"""Cut code to a token allowance at syntactic boundaries, never mid-line.

A cut keeps the head (signature, first lines) and, when the query's terms sit further down, the
window around them; what is left out is marked with the line numbers needed to read it.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from tokenlean.indexers import tokens
from tokenlean.indexers.terms import split_identifier

MAX_LINE_CHARS = 320
HEAD_LINES = 4
_WORD = re.compile(r"\w+")
_OPENERS = (":", "{", "(", "=>", "->", "do", "then")


class Cut(NamedTuple):
    text: str
    shown: tuple[tuple[int, int], ...]  # absolute line ranges included
    complete: bool
    tokens: int


def clip_line(line: str) -> str:
    if len(line) <= MAX_LINE_CHARS:
        return line
    return f"{line[:MAX_LINE_CHARS]}…[+{len(line) - MAX_LINE_CHARS} chars]"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def boundaries(lines: list[str]) -> list[bool]:
    """boundary[i]: cutting just before line i leaves whole statements on both sides."""
    body_indent = None
    for line in lines[1:]:
        if line.strip():
            body_indent = _indent(line)
            break
    marks = [True]
    for i in range(1, len(lines)):
        line = lines[i]
        prev_blank = not lines[i - 1].strip()
        at_body_level = bool(line.strip()) and body_indent is not None and _indent(line) <= body_indent
        continuation = line.lstrip()[:1] in (")", "]", "}", ".", "+", "-", "*", "&", "|", ",")
        marks.append(prev_blank or (at_body_level and not continuation))
    marks.append(True)
    return marks


def _head_end(lines: list[str]) -> int:
    """Index just past the signature: up to the line that opens the body, at most HEAD_LINES."""
    for i, line in enumerate(lines[:HEAD_LINES]):
        if line.rstrip().endswith(_OPENERS):
            return i + 1
    return 1


class Measured(NamedTuple):
    """A text as `cut` sees it: its (clipped) lines and each line's tokens plus its newline."""

    lines: list[str]
    costs: list[int]

    @property
    def tokens(self) -> int:
        """What the whole text costs shown by `cut`."""
        return sum(self.costs)


def measure(text: str) -> Measured:
    lines = [clip_line(ln) for ln in text.split("\n")]
    return Measured(lines, [n + 1 for n in tokens.count_many(lines)])


def cut(
    text: str | Measured,
    first_line: int,
    allowance: int,
    focus: list[str] | None = None,
    gap_hint: str = "",
) -> Cut:
    """Fit `text` (starting at line `first_line`) into `allowance` tokens.

    `focus` are query terms: when they occur past the part a plain prefix would show, the cut shows
    the head and the window around the densest occurrence instead. `gap_hint` is appended to the
    omission markers (e.g. how to read the rest). A `measure`d text is not tokenized again.
    """
    lines, costs = text if isinstance(text, Measured) else measure(text)
    total = sum(costs)
    n = len(lines)
    if total <= allowance:
        return Cut("\n".join(lines), ((first_line, first_line + n - 1),), True, total)
    marks = boundaries(lines)
    head = _head_end(lines)
    prefix_end = _fit(costs, marks, 0, allowance)
    target = _densest_line(lines, focus) if focus else None
    if target is not None and target >= prefix_end and head < n:
        marker_cost = 12
        budget = allowance - sum(costs[:head]) - 2 * marker_cost
        if budget > 0:
            start = _window_start(marks, head, target)
            end = _fit(costs, marks, start, budget)
            if end > target:
                parts = [(0, head), (start, end)]
                return _assemble(lines, costs, parts, first_line, gap_hint)
    if prefix_end == 0:
        prefix_end = 1  # always show at least the first line (the signature)
    return _assemble(lines, costs, [(0, prefix_end)], first_line, gap_hint)


def _fit(costs: list[int], marks: list[bool], start: int, budget: int) -> int:
    """End index (exclusive) of the longest run from `start` within `budget` ending at a boundary."""
    spent = 0
    best = start
    for i in range(start, len(costs)):
        spent += costs[i]
        if spent > budget:
            break
        if marks[i + 1]:
            best = i + 1
    if best == start:  # no clean boundary fits: fall back to whole lines
        spent = 0
        for i in range(start, len(costs)):
            spent += costs[i]
            if spent > budget:
                return i
        return len(costs)
    return best


def _window_start(marks: list[bool], head: int, target: int) -> int:
    """The last boundary at or before `target`, a little above it so the context reads."""
    candidates = [i for i in range(head, target + 1) if marks[i]]
    if not candidates:
        return max(head, target - 2)
    return candidates[-1] if target - candidates[-1] <= 12 else max(head, target - 3)


def _densest_line(lines: list[str], focus: list[str]) -> int | None:
    wanted = {t.lower() for t in focus}
    best, best_score = None, 0
    for i, line in enumerate(lines):
        words = set()
        for w in _WORD.findall(line):
            words.add(w.lower())
            words.update(split_identifier(w))
        score = len(words & wanted)
        if score > best_score:
            best, best_score = i, score
    return best


def _assemble(
    lines: list[str], costs: list[int], parts: list[tuple[int, int]], first_line: int, gap_hint: str
) -> Cut:
    out: list[str] = []
    shown: list[tuple[int, int]] = []
    cursor = 0
    indent = " " * min((_indent(ln) for ln in lines if ln.strip()), default=0)
    for a, b in parts:
        if a > cursor:
            out.append(f"{indent}… lines {first_line + cursor}-{first_line + a - 1} omitted{gap_hint}")
        out.extend(lines[a:b])
        shown.append((first_line + a, first_line + b - 1))
        cursor = b
    if cursor < len(lines):
        out.append(f"{indent}… lines {first_line + cursor}-{first_line + len(lines) - 1} omitted{gap_hint}")
    text = "\n".join(out)
    return Cut(text, tuple(shown), False, tokens.count(text))
