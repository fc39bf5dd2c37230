"""The tool surface: each tool is one small function with its description beside it.

`tool_specs` lists them with their toolset; `app.build_server` registers the chosen toolsets. Every
body runs through `CallRunner` (budgets, footer, ledger) and raises TokenleanError for anything the
agent can fix, which becomes an MCP error result with that text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.types import ToolAnnotations
from pydantic import Field

from tokenlean.indexers.errors import TokenleanError
from tokenlean.tools import deps as deps_mod
from tokenlean.tools import prune as prune_mod
from tokenlean.tools import read as read_mod
from tokenlean.tools import render
from tokenlean.tools import repomap as repomap_mod
from tokenlean.tools import search as search_mod
from tokenlean.tools import slice as slice_mod
from tokenlean.tools.handles import Handles
from tokenlean.tools.ledger import Allowance, Ledger
from tokenlean.tools.ledger import report_text as ledger_report_text
from tokenlean.tools.seen import Seen
from tokenlean.tools.workspace import Workspace

from .calls import CallRunner, Output
from .config import Config
from .sessions import Caller

READ_ONLY = ToolAnnotations(readOnlyHint=True, idempotentHint=True, openWorldHint=False)
WRITES_STATE = ToolAnnotations(readOnlyHint=False, idempotentHint=False, openWorldHint=False)
# Claude Code loads these schemas up front even when it defers other MCP tools.
ALWAYS_LOAD = {"anthropic/alwaysLoad": True}
TASK_FIELD = Field(description="Ledger task id (default: this session).")
FULL_FIELD = Field(description="Resend content you already received in this session.")


@dataclass
class ServerState:
    """What the tools of one server instance share."""

    ws: Workspace
    cfg: Config
    ledger: Ledger | None
    calls: CallRunner
    handles: Handles = field(default_factory=Handles)
    seen: Seen = field(default_factory=Seen)


@dataclass(frozen=True)
class ToolSpec:
    name: str
    fn: Callable[..., str]
    toolset: str
    annotations: ToolAnnotations
    meta: dict[str, Any] | None = None


def tool_specs(state: ServerState) -> list[ToolSpec]:
    ws, cfg, calls = state.ws, state.cfg, state.calls

    def search(
        query: Annotated[
            str, Field(description="What to find: a description, an error, a symbol or a path.")
        ],
        limit: Annotated[int, Field(ge=1, le=search_mod.MAX_LIMIT, description="Places to return.")] = 10,
        budget_tokens: Annotated[
            int,
            Field(ge=search_mod.MIN_BUDGET, le=search_mod.MAX_BUDGET, description="Output token ceiling."),
        ] = cfg.search_budget,
        cursor: Annotated[str | None, Field(description="From a previous result, to see more.")] = None,
        fields: Annotated[
            list[str] | None, Field(description="Hit fields to keep, e.g. [path, start_line, symbol].")
        ] = None,
        full: Annotated[bool, FULL_FIELD] = False,
        task: Annotated[str | None, TASK_FIELD] = None,
        ctx: Context | None = None,
    ) -> str:
        """Find code in the repository: ranked snippets with file:line and why each hit was chosen."""
        arguments = {
            "query": query,
            "limit": limit,
            "budget_tokens": budget_tokens,
            "cursor": cursor,
            "fields": fields,
        }

        def body(allowance: Allowance, caller: Caller) -> Output:
            chosen = render.check_fields(fields) if fields else None
            if allowance.brief and (chosen is None or "text" in chosen):
                chosen = render.BRIEF_FIELDS  # nearly out of budget: signatures instead of bodies
            result = search_mod.search(
                ws, query, limit=limit, budget_tokens=allowance.budget_tokens, cursor=cursor
            )
            saved = 0
            for hit in result.hits:
                if hit.text and not hit.stale:
                    key = f"place:{hit.root}:{hit.rel}:{hit.start_line}-{hit.end_line}"
                    sent = state.seen.deliver(
                        caller.session, key, hit.text, "this place", full or not caller.stateful
                    )
                    if sent.state == "unchanged":
                        hit.text, saved = f"({sent.text})", saved + sent.saved
            text = render.search_text(result, chosen)
            return Output(text, result.baseline_tokens, seen=saved, root=_roots_label(ws))

        return calls.run(
            ctx, "search", arguments, body, task=task, requested=budget_tokens, minimum=search_mod.MIN_BUDGET
        )

    def read(
        path: Annotated[str | None, Field(description="File path relative to the root.")] = None,
        symbol: Annotated[
            str | None, Field(description="Function/class/method name, e.g. Parser.parse (path optional).")
        ] = None,
        lines: Annotated[str | None, Field(description="Line range START-END (1-based).")] = None,
        handle: Annotated[
            str | None, Field(description="A handle (h:...) to read from instead of a file.")
        ] = None,
        as_handle: Annotated[
            bool, Field(description="Return a short handle to the content instead of the content.")
        ] = False,
        budget_tokens: Annotated[
            int,
            Field(
                ge=read_mod.MIN_READ_BUDGET, le=read_mod.MAX_READ_BUDGET, description="Output token ceiling."
            ),
        ] = cfg.read_budget,
        full: Annotated[bool, FULL_FIELD] = False,
        task: Annotated[str | None, TASK_FIELD] = None,
        ctx: Context | None = None,
    ) -> str:
        """Read one symbol or a line range of a file (or a handle), cut at syntactic boundaries to fit."""
        arguments = {
            "path": path,
            "symbol": symbol,
            "lines": lines,
            "handle": handle,
            "as_handle": as_handle,
            "budget_tokens": budget_tokens,
        }

        def body(allowance: Allowance, caller: Caller) -> Output:
            if handle:
                if path or symbol:
                    raise read_mod.BadRead("give a handle or a path/symbol, not both")
                stored = state.handles.get(handle)
                result = read_mod.read_handle(stored, lines, allowance.budget_tokens)
                key = f"handle:{stored.id}:{lines or ''}"
            else:
                result = read_mod.read(
                    ws, path, symbol=symbol, lines=lines, budget_tokens=allowance.budget_tokens
                )
                key = f"read:{result.root}:{result.rel}:" + (
                    f"#{result.symbol}" if symbol else f"{result.start_line}-{result.end_line}"
                )
            if as_handle:
                whole = read_mod.full_text(ws, result) if not handle else state.handles.get(handle).text
                made = state.handles.put(whole, f"{result.path} {result.symbol}".strip(), kind="file")
                return Output(made.summary(), result.file_tokens, root=str(result.root))
            label = (
                f"{result.path} {result.symbol}"
                if result.symbol and not handle
                else f"{result.path}:{result.start_line}-{result.end_line}"
            )
            sent = state.seen.deliver(caller.session, key, result.text, label, full or not caller.stateful)
            if sent.state == "unchanged":
                return Output(
                    sent.text, result.file_tokens, seen=sent.saved, root=str(result.root), footer=False
                )
            result.text = sent.text
            return Output(
                read_mod.read_text(result), result.file_tokens, seen=sent.saved, root=str(result.root)
            )

        return calls.run(
            ctx, "read", arguments, body, task=task, requested=budget_tokens, minimum=read_mod.MIN_READ_BUDGET
        )

    def deps(
        path: Annotated[str | None, Field(description="File path relative to the root.")] = None,
        symbol: Annotated[
            str | None, Field(description="Or a symbol, e.g. Parser.parse (its file's imports).")
        ] = None,
        direction: Annotated[
            Literal["both", "uses", "used_by"], Field(description="What it imports, who imports it, or both.")
        ] = "both",
        depth: Annotated[int, Field(ge=1, le=deps_mod.MAX_DEPTH, description="Import hops to follow.")] = 1,
        budget_tokens: Annotated[
            int, Field(ge=deps_mod.MIN_BUDGET, le=deps_mod.MAX_BUDGET, description="Output token ceiling.")
        ] = deps_mod.DEFAULT_BUDGET,
        task: Annotated[str | None, TASK_FIELD] = None,
        ctx: Context | None = None,
    ) -> str:
        """What a file or symbol imports and what imports it, to a depth, with the import lines."""
        arguments = {
            "path": path,
            "symbol": symbol,
            "direction": direction,
            "depth": depth,
            "budget_tokens": budget_tokens,
        }

        def body(allowance: Allowance, caller: Caller) -> Output:
            result = deps_mod.deps(
                ws,
                path,
                symbol=symbol,
                direction=direction,
                depth=depth,
                budget_tokens=allowance.budget_tokens,
            )
            text = deps_mod.deps_text(result)
            return Output(text, result.baseline_tokens, root=_roots_label(ws))

        return calls.run(
            ctx, "deps", arguments, body, task=task, requested=budget_tokens, minimum=deps_mod.MIN_BUDGET
        )

    def outline(
        query: Annotated[
            str | None, Field(description="Focus on what matters for this; omit for the whole repository.")
        ] = None,
        path: Annotated[str | None, Field(description="Only files under this folder.")] = None,
        budget_tokens: Annotated[
            int,
            Field(ge=repomap_mod.MIN_BUDGET, le=repomap_mod.MAX_BUDGET, description="Output token ceiling."),
        ] = repomap_mod.DEFAULT_BUDGET,
        task: Annotated[str | None, TASK_FIELD] = None,
        ctx: Context | None = None,
    ) -> str:
        """A repo map: the most important files and their signatures, ranked by the import graph."""
        arguments = {"query": query, "path": path, "budget_tokens": budget_tokens}

        def body(allowance: Allowance, caller: Caller) -> Output:
            result = repomap_mod.outline(ws, query, path=path, budget_tokens=allowance.budget_tokens)
            text = repomap_mod.outline_text(result)
            return Output(text, result.baseline_tokens, root=_roots_label(ws))

        return calls.run(
            ctx,
            "outline",
            arguments,
            body,
            task=task,
            requested=budget_tokens,
            minimum=repomap_mod.MIN_BUDGET,
        )

    def _source(
        path: str | None, handle: str | None, inline: Any, what: str, inline_name: str = "text"
    ) -> tuple[Any, str, str]:
        """(content, name, root label) from exactly one of a path under a root, a handle or inline."""
        given = [k for k, v in (("path", path), ("handle", handle), (inline_name, inline)) if v is not None]
        if len(given) != 1:
            got = ", ".join(given) or "none"
            raise TokenleanError(
                f"give exactly one of path, handle or {inline_name} for the {what} (got {got})"
            )
        if path is not None:
            root, rel = ws.roots.resolve(path)
            return ws.read_text(root, rel), rel, str(root)
        if handle is not None:
            stored = state.handles.get(handle)
            return stored.text, stored.description, ""
        return inline, "inline", ""

    def slice_tool(
        path: Annotated[str | None, Field(description="Document path under the root.")] = None,
        handle: Annotated[str | None, Field(description="Or a handle (h:...) holding the document.")] = None,
        text: Annotated[str | None, Field(description="Or the document itself.")] = None,
        role: Annotated[
            str | None, Field(description="Who reads it or what they ask, e.g. 'security reviewer'.")
        ] = None,
        roles: Annotated[
            list[str] | None, Field(description="Several roles: one slice each, one call.")
        ] = None,
        sections: Annotated[
            list[str] | None, Field(description="Section ids to fetch whole (s3, s3-s7) instead of slicing.")
        ] = None,
        summary: Annotated[bool, Field(description="Include title, outline and gist.")] = True,
        budget_tokens: Annotated[
            int | None,
            Field(
                ge=slice_mod.MIN_BUDGET,
                le=slice_mod.MAX_BUDGET,
                description="Output token ceiling (default: a quarter of the document, 5000-12000).",
            ),
        ] = None,
        task: Annotated[str | None, TASK_FIELD] = None,
        ctx: Context | None = None,
    ) -> str:
        """A document's outline and only the sections one role (or several) needs; or sections by id."""
        arguments = {
            "path": path,
            "handle": handle,
            "role": role,
            "roles": roles,
            "sections": sections,
            "budget_tokens": budget_tokens,
        }

        def body(allowance: Allowance, caller: Caller) -> Output:
            content, name, root = _source(path, handle, text, "document")
            if sections:
                ceiling = allowance.budget_tokens
                fetch_budget = ceiling if budget_tokens else min(ceiling, slice_mod.DEFAULT_FETCH_BUDGET)
                fetched = slice_mod.fetch_sections(content, name, sections, budget_tokens=fetch_budget)
                return Output(fetched.text, fetched.document_tokens, root=root)
            result = slice_mod.slice_document(
                content,
                name,
                role,
                roles=roles,
                budget_tokens=allowance.budget_tokens if budget_tokens else None,
                summary=summary,
                scorers=slice_mod.scorers_for(cfg.slicing_vectors),
                ceiling=allowance.budget_tokens,
                whole_if_cheaper=True,
            )
            wanted = (
                None if budget_tokens else slice_mod.default_budget(result.document_tokens, len(result.roles))
            )
            return Output(result.text, result.document_tokens, root=root, wanted=wanted)

        return calls.run(
            ctx,
            "slice",
            arguments,
            body,
            task=task,
            requested=budget_tokens or slice_mod.AUTO_MAX_BUDGET,
            minimum=slice_mod.MIN_BUDGET,
        )

    def prune_tool(
        json: Annotated[Any, Field(description="The JSON payload itself (text or value).")] = None,
        path: Annotated[str | None, Field(description="Or a JSON file under the root.")] = None,
        handle: Annotated[str | None, Field(description="Or a handle (h:...) holding it.")] = None,
        fields: Annotated[
            list[str] | None, Field(description="Paths to keep, e.g. items[*].{id,status,owner.login}.")
        ] = None,
        expression: Annotated[str | None, Field(description="Or a JMESPath expression.")] = None,
        need: Annotated[
            str | None, Field(description="Or what the data is needed for; fields are inferred.")
        ] = None,
        encoding: Annotated[
            Literal["auto", "toon", "json", "text"], Field(description="Output form.")
        ] = "auto",
        budget_tokens: Annotated[
            int, Field(ge=prune_mod.MIN_BUDGET, le=prune_mod.MAX_BUDGET, description="Output token ceiling.")
        ] = prune_mod.DEFAULT_BUDGET,
        task: Annotated[str | None, TASK_FIELD] = None,
        ctx: Context | None = None,
    ) -> str:
        """Keep only the fields of a JSON payload a task needs, in the most compact encoding (TOON/JSON)."""
        arguments = {
            "path": path,
            "handle": handle,
            "fields": fields,
            "expression": expression,
            "need": need,
            "encoding": encoding,
            "budget_tokens": budget_tokens,
        }

        def body(allowance: Allowance, caller: Caller) -> Output:
            content, name, root = _source(path, handle, json, "JSON payload", "json")
            result = prune_mod.prune(
                content,
                fields=fields,
                expression=expression,
                task=need,
                encoding=encoding,
                budget_tokens=allowance.budget_tokens,
                name=name,
            )
            return Output(prune_mod.prune_text(result), result.tokens_before, root=root)

        return calls.run(
            ctx, "prune", arguments, body, task=task, requested=budget_tokens, minimum=prune_mod.MIN_BUDGET
        )

    def stash(
        content: Annotated[str, Field(description="Text to keep: a document, a tool's output, JSON.")],
        description: Annotated[str, Field(description="One line saying what it is.")] = "",
        task: Annotated[str | None, TASK_FIELD] = None,
        ctx: Context | None = None,
    ) -> str:
        """Keep large content on the server and get a short handle to pass to subagents or read in parts."""
        arguments = {"description": description, "bytes": len(content)}

        def body(allowance: Allowance, caller: Caller) -> Output:
            made = state.handles.put(content, description or "stashed content", kind="text")
            return Output(made.summary(), made.tokens)

        return calls.run(ctx, "stash", arguments, body, task=task, gated=False)

    def ledger_tool(
        action: Annotated[
            Literal["report", "budget"], Field(description="report: spending; budget: set a task's limits.")
        ] = "report",
        by: Annotated[
            Literal["task", "tool", "agent", "client", "session", "day"],
            Field(description="Report grouping."),
        ] = "task",
        since: Annotated[str | None, Field(description="Report window start: 24h, 7d or a date.")] = None,
        task: Annotated[
            str | None, Field(description="Task to report on or budget (default: this session).")
        ] = None,
        soft: Annotated[int | None, Field(description="Soft budget in tokens: warn past it.")] = None,
        hard: Annotated[int | None, Field(description="Hard budget in tokens: refuse past it.")] = None,
        ctx: Context | None = None,
    ) -> str:
        """Tokens spent per task, tool or agent vs reading whole files; set a task's token budget."""
        arguments = {"action": action, "by": by, "since": since, "task": task, "soft": soft, "hard": hard}

        def body(allowance: Allowance, caller: Caller) -> Output:
            if state.ledger is None:
                raise TokenleanError("the ledger is disabled on this server (started with --no-ledger)")
            if action == "budget":
                if soft is None and hard is None:
                    raise TokenleanError("give soft and/or hard (tokens) to set a budget")
                return Output(state.ledger.set_budget(allowance.task, soft, hard), 0)
            rows = state.ledger.report(by, since, task=task)
            return Output(ledger_report_text(rows, by), 0)

        return calls.run(ctx, "ledger", arguments, body, task=task, gated=False)

    return [
        ToolSpec("search", search, "code", READ_ONLY, ALWAYS_LOAD),
        ToolSpec("read", read, "code", READ_ONLY, ALWAYS_LOAD),
        ToolSpec("deps", deps, "code", READ_ONLY),
        ToolSpec("outline", outline, "code", READ_ONLY),
        ToolSpec("slice", slice_tool, "docs", READ_ONLY),
        ToolSpec("prune", prune_tool, "docs", READ_ONLY),
        ToolSpec("stash", stash, "docs", WRITES_STATE),
        ToolSpec("ledger", ledger_tool, "ledger", WRITES_STATE),
    ]


def _roots_label(ws: Workspace) -> str:
    return ";".join(str(r) for r in ws.roots)
