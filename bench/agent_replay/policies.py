"""Deterministic agent policies that localise the code for a task, and what each puts in context.

A policy sees only what an agent would see (grep output, file text, tokenlean's text responses) and
decides its next call from it; the benchmark watches with the gold answer and stops the policy once
a success level is reached (an oracle stop, the same for every policy). Three success levels, each
defined on the lines of repository text that are in the agent's context, whatever tool put them there:

  file  some line of a gold file is in context
  fn    some line of a gold function is in context (its line range overlaps lines shown)
  full  every line of some gold function is in context

Tokens are o200k counts (`tokenlean.indexers.tokens.count`) of everything a call puts in context:
its arguments (what the model writes) and its result (what it reads). Tool schemas are per task and
reported apart (see run.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokenlean.indexers import tokens

LEVELS = ("file", "fn", "full")
GREP_PAGE = 30  # lines of grep output an agent looks at per call (`| head -30`, then the next 30)
READS_PER_PAGE = 2  # symbols read per page of search results (the best places not fully shown)
MAX_PAGES = 5  # search pages (the first one plus cursor continuations)
FULL_READS = 3  # reads allowed to see a found function whole (continuations of a cut read)
READ_LINES = 2000  # naive: a Read without offset/limit returns this many lines (Claude Code)
READ_MAX_TOKENS = 25_000  # naive: ... or an error when those lines come to more tokens (Claude Code)
WINDOW_FILES = 10  # naive-window: files per grep page
MATCH_LINES = 3  # naive-window: matching lines shown per file
MATCH_CHARS = 160  # naive-window: a matching line is clipped to this many characters
WINDOW = 100  # naive-window: lines read around a file's densest line (Claude Code's Read offset/limit)
WINDOW_ABOVE = 20  # naive-window: of which above it
SYMBOL_KINDS = frozenset(
    {"function", "method", "class", "struct", "interface", "trait", "enum", "impl", "type"}
)  # read by name; other places (markdown sections, module windows) by line range


@dataclass(frozen=True)
class GoldFn:
    path: str
    start: int
    end: int
    symbol: str


@dataclass(frozen=True)
class Gold:
    files: frozenset[str]
    functions: tuple[GoldFn, ...]

    @classmethod
    def of(cls, task: dict) -> Gold:
        fns = tuple(
            GoldFn(g["path"], g["start_line"], g["end_line"], g["symbol"]) for g in task["gold_functions"]
        )
        return cls(frozenset(task["gold_files"]), fns)


@dataclass
class Milestone:
    tokens: int  # tokens in context when the level was reached (arguments + results)
    results: int  # of which tool results
    calls: int  # agent tool calls made by then (an injected context is not a call)


@dataclass
class Step:
    tool: str
    args_tokens: int
    result_tokens: int
    what: str  # a short description: the path read, the page searched


def arg_tokens(arguments: dict[str, Any] | None) -> int:
    """What the model writes to make a call: its arguments as JSON (the bench's `task` id excluded)."""
    if not arguments:
        return 0
    shown = {k: v for k, v in arguments.items() if k != "task" and v is not None}
    return tokens.count(json.dumps(shown, ensure_ascii=False))


def _covered(ranges: list[tuple[int, int]], start: int, end: int) -> bool:
    need = start
    for a, b in sorted(ranges):
        if a > need:
            return False
        need = max(need, b + 1)
        if need > end:
            return True
    return need > end


class Trace:
    """The context of one agent on one task: tokens, calls, lines shown, success milestones."""

    def __init__(self, gold: Gold, horizon: int) -> None:
        self.gold = gold
        self.horizon = horizon
        self.tokens = 0
        self.results = 0
        self.calls = 0
        self.steps: list[Step] = []
        self.shown: dict[str, list[tuple[int, int]]] = {}
        self.reached: dict[str, Milestone] = {}

    def add(
        self,
        tool: str,
        arguments: dict[str, Any] | None,
        result_tokens: int,
        shown: list[tuple[str, int, int]],
        what: str = "",
        call: bool = True,
    ) -> None:
        args = arg_tokens(arguments)
        self.tokens += args + result_tokens
        self.results += result_tokens
        self.calls += 1 if call else 0
        self.steps.append(Step(tool, args, result_tokens, what))
        for path, a, b in shown:
            if b >= a:
                self.shown.setdefault(path, []).append((a, b))
        self._check()

    def _check(self) -> None:
        now = Milestone(self.tokens, self.results, self.calls)
        if "file" not in self.reached and any(p in self.gold.files for p in self.shown):
            self.reached["file"] = now
        if "fn" not in self.reached and self.overlapping():
            self.reached["fn"] = now
        if "full" not in self.reached:
            for g in self.gold.functions:
                if _covered(self.shown.get(g.path, []), g.start, g.end):
                    self.reached["full"] = now
                    break

    def overlapping(self) -> list[GoldFn]:
        return [
            g
            for g in self.gold.functions
            if any(a <= g.end and b >= g.start for a, b in self.shown.get(g.path, []))
        ]

    @property
    def over(self) -> bool:
        return self.tokens >= self.horizon

    @property
    def done(self) -> bool:
        return "full" in self.reached or self.over

    def summary(self) -> dict:
        return {
            "tokens": self.tokens,
            "results": self.results,
            "calls": self.calls,
            "reached": {k: vars(v) for k, v in self.reached.items()},
            "steps": [[s.tool, s.args_tokens, s.result_tokens, s.what] for s in self.steps],
        }


# -- reading tokenlean's text responses (what the agent sees)

_HEADER = re.compile(r"^\[(\d+)\] (.+?):(\d+)-(\d+)(?: · (.*))?$")
_WHY = re.compile(r"^(?:[a-z]+#\d+ ?)+$")
_GAP = re.compile(r"^\s*… lines (\d+)-(\d+) omitted")
_REST = re.compile(r"^\s*… the rest, up to line (\d+), omitted")
_CURSOR = re.compile(r"Next page: same query with cursor=(\S+)\s*$")
_READ_HEAD = re.compile(r"^(.+?):(\d+)-(\d+) of \d+ lines(?: · (.+?))? · file content is data")
_NEXT = re.compile(r"Continue with lines=(\d+-\d+)")
_FOOTER = re.compile(r"^— [\d,]+ tokens")


@dataclass
class Place:
    rank: int
    path: str
    start: int
    end: int
    kind: str
    symbol: str
    shown: list[tuple[int, int]] = field(default_factory=list)
    complete: bool = True


@dataclass
class Page:
    places: list[Place]
    cursor: str | None


def _strip_footer(lines: list[str]) -> list[str]:
    if lines and _FOOTER.match(lines[-1]):
        return lines[:-1]
    return lines


def parse_search(text: str) -> Page:
    """The places of a search response and the lines of each that its snippet shows."""
    lines = _strip_footer(text.split("\n"))
    places: list[Place] = []
    cursor = None
    current: Place | None = None
    body: list[str] = []

    def close() -> None:
        if current is None:
            return
        while body and not body[-1].strip():
            body.pop()  # the blank separator before the next place
        if len(body) == 1 and body[0].startswith("(") and "unchanged since you received it" in body[0]:
            current.complete = True  # already in context: nothing new shown
            return
        line = current.start
        run_start = line
        for raw in body:
            gap, rest = _GAP.match(raw), _REST.match(raw)
            if gap or rest:
                if line > run_start:
                    current.shown.append((run_start, line - 1))
                current.complete = False
                line = int(gap.group(2)) + 1 if gap else current.end + 1
                run_start = line
                continue
            line += 1
        if line > run_start:
            current.shown.append((run_start, min(line - 1, current.end)))
        places.append(current)

    for raw in lines[1:]:  # the first line is the title
        m = _HEADER.match(raw)
        if m and (current is None or int(m.group(1)) == current.rank + 1):
            close()
            kind, symbol = "", ""
            segments = (m.group(5) or "").split(" · ")
            if segments and segments[0] and not _WHY.match(segments[0]):
                kind, _, symbol = segments[0].partition(" ")
            current = Place(int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4)), kind, symbol)
            body = []
            continue
        if current is not None and raw.startswith("not shown: "):
            c = _CURSOR.search(raw)
            cursor = c.group(1) if c else None
            close()
            current = None
            continue
        if current is not None:
            if not body and raw.startswith("! "):
                continue  # a note (redaction, injection warning) under the header
            body.append(raw)
    close()
    return Page(places, cursor)


@dataclass
class ReadView:
    path: str
    start: int
    end: int
    next_lines: str | None
    unchanged: bool = False


def parse_read(text: str) -> ReadView | None:
    """The range a read response shows (None for an error or an 'unchanged' marker)."""
    first = text.split("\n", 1)[0]
    m = _READ_HEAD.match(first)
    if not m:
        return None
    n = _NEXT.search(text)
    return ReadView(m.group(1), int(m.group(2)), int(m.group(3)), n.group(1) if n else None)


# -- the naive policy: grep, then whole files


def naive_grep_page(keywords: list[str], ranked: list[tuple[str, int]], start: int) -> str:
    """What a grep page costs: the files matching the query's keywords, most keywords first, one per
    line with how many of the keywords it holds (`rg -i -c` per keyword, ranked), 30 lines a call."""
    head = f"{len(ranked)} files match {len(keywords)} keywords (files ranked by keywords matched)"
    if start:
        head = f"files {start + 1}-{min(start + GREP_PAGE, len(ranked))} of {len(ranked)}"
    rows = [f"{path} {k}/{len(keywords)}" for path, k in ranked[start : start + GREP_PAGE]]
    return "\n".join([head, *rows])


def file_lines(text: str) -> int:
    return max(1, len(text.split("\n")) - (1 if text.endswith("\n") else 0))


def read_whole(text: str) -> tuple[str, int]:
    """What a client's Read of a whole file returns, and how many lines of the file that shows:
    Claude Code's Read gives the first READ_LINES lines, and an error instead of content when they
    come to more than READ_MAX_TOKENS tokens (then the agent moves on to the next file)."""
    lines = text.split("\n")
    total = file_lines(text)
    part = text if total <= READ_LINES else "\n".join(lines[:READ_LINES])
    size = tokens.count(part)
    if size > READ_MAX_TOKENS:
        return (
            f"File content ({size:,} tokens) exceeds maximum allowed tokens ({READ_MAX_TOKENS:,}). "
            "Please use offset and limit parameters to read specific portions of the file, or use the "
            "GrepTool to search for specific content.",
            0,
        )
    return part, min(total, READ_LINES)


def run_naive(trace: Trace, root: Path, keywords: list[str], ranked: list[tuple[str, int]], record) -> None:
    """Grep the keywords, then read whole files in grep order until a gold file is read.

    `ranked` is (path, keywords matched) best first; `record(tool, arguments, text)` puts a client call
    in the ledger (as the PostToolUse hook does). Stops at the horizon or when the files run out."""
    pattern = "|".join(re.escape(k) for k in keywords)
    start = 0
    while start < len(ranked) and not trace.done:
        args = {"pattern": pattern, "-i": True, "output_mode": "count", "offset": start}
        out = naive_grep_page(keywords, ranked, start)
        record("Grep", args, out)
        trace.add("Grep", args, tokens.count(out), [], what=f"files {start + 1}-")
        for path, _ in ranked[start : start + GREP_PAGE]:
            if trace.done:
                break
            text = (root / path).read_bytes().decode("utf-8", errors="replace").removeprefix("\ufeff")
            out, shown = read_whole(text)
            args = {"file_path": path}
            record("Read", args, out)
            trace.add("Read", args, tokens.count(out), [(path, 1, shown)], what=path)
        start += GREP_PAGE
    if not ranked:  # nothing matched: the agent has nothing to read
        args = {"pattern": pattern, "-i": True, "output_mode": "count"}
        out = naive_grep_page(keywords, ranked, 0)
        record("Grep", args, out)
        trace.add("Grep", args, tokens.count(out), [], what="no match")


def _dense_lines(text: str, keywords: list[str]) -> list[tuple[int, int, str]]:
    """(distinct keywords, line number, line) of the lines holding a keyword, densest first."""
    out = []
    for n, line in enumerate(text.split("\n"), start=1):
        low = line.lower()
        k = sum(1 for w in keywords if w in low)
        if k:
            out.append((k, n, line))
    out.sort(key=lambda x: (-x[0], x[1]))
    return out


def run_naive_window(
    trace: Trace, root: Path, keywords: list[str], ranked: list[tuple[str, int]], record
) -> None:
    """Grep with line numbers, then read a window around the best line of each file, in grep order.

    A grep page lists WINDOW_FILES files, each with its MATCH_LINES lines holding the most keywords
    (`rg -n`, the agent keeping the densest lines); the agent then reads WINDOW lines of each file
    starting a little above its densest line (Read with offset/limit) before the next page."""
    pattern = "|".join(re.escape(k) for k in keywords)
    start = 0
    while start < len(ranked) and not trace.done:
        files = []
        rows = [f"{len(ranked)} files match; files {start + 1}-{min(start + WINDOW_FILES, len(ranked))}"]
        for path, _ in ranked[start : start + WINDOW_FILES]:
            text = (root / path).read_bytes().decode("utf-8", errors="replace").removeprefix("\ufeff")
            dense = _dense_lines(text, keywords)
            files.append((path, text, dense))
            for _, n, line in sorted(dense[:MATCH_LINES], key=lambda x: x[1]):
                rows.append(f"{path}:{n}:{line.strip()[:MATCH_CHARS]}")
        out = "\n".join(rows)
        args = {"pattern": pattern, "-i": True, "-n": True, "output_mode": "content", "offset": start}
        record("Grep", args, out)
        trace.add("Grep", args, tokens.count(out), [], what=f"lines of files {start + 1}-")
        for path, text, dense in files:
            if trace.done or not dense:
                continue
            lines = text.split("\n")
            first = max(1, dense[0][1] - WINDOW_ABOVE)
            last = min(len(lines), first + WINDOW - 1)
            window = "\n".join(lines[first - 1 : last])
            args = {"file_path": path, "offset": first, "limit": WINDOW}
            record("Read", args, window)
            shown = [(path, first, last)]
            trace.add("Read", args, tokens.count(window), shown, what=f"{path}:{first}-{last}")
        start += WINDOW_FILES


# -- the tokenlean policies: search (or an injected search), then reads of the best symbols


class Agent:
    """Calls tokenlean through an MCP client and keeps the trace of what came back."""

    def __init__(self, client, trace: Trace, task_id: str) -> None:
        self.client = client
        self.trace = trace
        self.task_id = task_id
        self.places: list[Place] = []
        self.read_keys: set[str] = set()
        self.last_read: ReadView | None = None
        self.errors = 0

    async def call(self, tool: str, arguments: dict[str, Any]) -> str:
        result = await self.client.call_tool(tool, {**arguments, "task": self.task_id})
        text = "\n".join(getattr(c, "text", "") for c in result.content)
        if result.is_error:
            self.errors += 1
        return text

    def see_page(self, page: Page, tool: str, arguments: dict | None, text: str, call: bool) -> None:
        self.places += page.places
        shown = [(p.path, a, b) for p in page.places for a, b in p.shown]
        what = f"{len(page.places)} places"
        self.trace.add(tool, arguments, tokens.count(text), shown, what=what, call=call)

    async def search(self, query: str, budget: int, cursor: str | None) -> Page:
        args: dict[str, Any] = {"query": query}
        if budget != 1500:
            args["budget_tokens"] = budget
        if cursor:
            args["cursor"] = cursor
        text = await self.call("search", args)
        page = parse_search(text)
        self.see_page(page, "search", args, text, call=True)
        return page

    async def read(self, arguments: dict[str, Any]) -> ReadView | None:
        key = json.dumps(arguments, sort_keys=True)
        if key in self.read_keys:
            return None
        self.read_keys.add(key)
        text = await self.call("read", arguments)
        view = parse_read(text)
        shown = [(view.path, view.start, view.end)] if view else []
        what = arguments.get("symbol") or arguments.get("lines") or ""
        self.trace.add("read", arguments, tokens.count(text), shown, what=f"{arguments.get('path')} {what}")
        if view is not None:
            self.last_read = view
        return view

    async def read_place(self, place: Place) -> ReadView | None:
        """A definition by its name (as `read` resolves it), anything else (a markdown section, a
        window of module code) by its line range."""
        if place.symbol and place.kind in SYMBOL_KINDS:
            view = await self.read({"path": place.path, "symbol": place.symbol})
            if view is not None or self.trace.done:
                return view
        return await self.read({"path": place.path, "lines": f"{place.start}-{place.end}"})

    async def browse(self, query: str, page: Page, budget: int) -> None:
        """Reads of the best places not fully shown, then the next page, until found or out of pages."""
        pages = 1
        while not self.trace.done and "fn" not in self.trace.reached:
            reads = 0
            for place in page.places:
                if reads >= READS_PER_PAGE or self.trace.done or "fn" in self.trace.reached:
                    break
                if place.complete:
                    continue
                await self.read_place(place)
                reads += 1
            if "fn" in self.trace.reached or self.trace.done or not page.cursor or pages >= MAX_PAGES:
                break
            page = await self.search(query, budget, page.cursor)
            pages += 1
        await self.see_whole()

    async def see_whole(self) -> None:
        """Once a gold function is in view, read it whole: the place it showed up in, then continuations."""
        if "fn" not in self.trace.reached or self.trace.done:
            return
        targets = self.trace.overlapping()
        place = next(
            (
                p
                for p in self.places
                for g in targets
                if p.path == g.path and p.start <= g.end and p.end >= g.start
            ),
            None,
        )
        budget = FULL_READS
        if place is not None:
            await self.read_place(place)
            budget -= 1
        while budget > 0 and not self.trace.done and self.last_read and self.last_read.next_lines:
            view = self.last_read
            self.last_read = None
            await self.read({"path": view.path, "lines": view.next_lines})
            budget -= 1


async def run_tool(agent: Agent, query: str, budget: int) -> None:
    """tool: tokenlean search (budget 1500 by default), then reads, then further pages."""
    page = await agent.search(query, budget, None)
    await agent.browse(query, page, budget)


async def run_injected(agent: Agent, context: str, query: str, budget: int) -> None:
    """injected: the hook's search result is in context before the first turn; then as `tool`."""
    page = parse_search(context.split("\n", 1)[1] if "\n" in context else "")
    agent.see_page(page, "inject", None, context, call=False)
    await agent.browse(query, page, budget)
