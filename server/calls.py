"""Every tool call goes through here: who calls, what the task may spend, the footer, the ledger."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from mcp.server.mcpserver.exceptions import ToolError

from tokenlean.indexers import tokens
from tokenlean.indexers.errors import TokenleanError
from tokenlean.indexers.ledger_store import CallRecord
from tokenlean.tools.ledger import Allowance, Ledger, digest

from . import shaping
from .sessions import Caller, Sessions, client_name

log = logging.getLogger("tokenlean.server")


class Output(NamedTuple):
    """A tool body's result before the footer."""

    text: str
    baseline: int  # tokens the naive alternative would have cost
    seen: int = 0  # tokens not re-sent because the caller already had them
    root: str = ""
    footer: bool = True  # a one-line "unchanged" marker goes without one (unless a budget warns)
    # What the body wanted to spend, when only its input told it (a slice's default budget): the
    # task's budget shrank the response only if it is below this, not below the ceiling asked for.
    wanted: int | None = None


Body = Callable[[Allowance, Caller], Output]


class CallRunner:
    """Runs tool bodies for callers, with budgets and accounting applied uniformly."""

    def __init__(self, ledger: Ledger | None, sessions: Sessions | None = None) -> None:
        self.ledger = ledger
        self.sessions = sessions or Sessions()

    def run(
        self,
        ctx: Any,
        tool: str,
        arguments: dict,
        body: Body,
        *,
        task: str | None = None,
        requested: int = 0,
        minimum: int = 0,
        gated: bool = True,
    ) -> str:
        """Call `body` within the caller's budget; return its text with the footer, or raise ToolError."""
        caller = self.sessions.caller(ctx, task)
        ceiling = shaping.clamp_budget(requested, client_name(ctx)) if requested else 0
        started = time.perf_counter()
        try:
            allowance = self._allow(caller, ceiling, minimum, gated)
            out = body(allowance, caller)
        except TokenleanError as exc:
            self._record(caller, tool, arguments, started, tokens.count(str(exc)), 0, 0, "", str(exc))
            raise ToolError(str(exc)) from exc
        except Exception as exc:  # a bug of ours: say so plainly, log it in full, keep serving
            log.exception("%s failed unexpectedly", tool)
            message = (
                f"tokenlean hit an internal error in {tool} ({type(exc).__name__}); it is logged on the "
                "server's stderr. Retry once; if it repeats, narrow the call or report the log."
            )
            self._record(caller, tool, arguments, started, tokens.count(message), 0, 0, "", message)
            raise ToolError(message) from exc
        body_tokens = tokens.count(out.text)
        if out.wanted is not None:
            allowance = dataclasses.replace(
                allowance, shrunk=allowance.shrunk and allowance.budget_tokens < out.wanted
            )
        over_soft = allowance.soft is not None and allowance.spent + body_tokens > allowance.soft
        if not out.footer and not over_soft:
            self._record(caller, tool, arguments, started, body_tokens, out.baseline, out.seen, out.root, "")
            return out.text
        footer = self._footer(allowance, body_tokens, out.baseline)
        spent = body_tokens + tokens.count(footer) + 1
        footer = self._footer(allowance, spent, out.baseline)
        self._record(caller, tool, arguments, started, spent, out.baseline, out.seen, out.root, "")
        return f"{out.text}\n{footer}"

    def _allow(self, caller: Caller, ceiling: int, minimum: int, gated: bool) -> Allowance:
        if self.ledger is None or not gated:
            return Allowance(caller.task, ceiling, 0, None, None, False, False)
        return self.ledger.allow(caller.task, ceiling, minimum)

    def _footer(self, allowance: Allowance, spent: int, baseline: int) -> str:
        line = shaping.footer(spent, baseline)
        if self.ledger is not None:
            line += " · " + self.ledger.status(allowance, spent)
        return line

    def _record(
        self,
        caller: Caller,
        tool: str,
        arguments: dict,
        started: float,
        spent: int,
        baseline: int,
        seen: int,
        root: str,
        error: str,
    ) -> None:
        if self.ledger is None:
            return
        call = CallRecord(
            ts=time.time(),
            task=caller.task,
            session=caller.session,
            agent=caller.agent,
            client=caller.client,
            source="tool",
            tool=tool,
            args_digest=digest(arguments),
            tokens=spent,
            baseline=baseline,
            seen_tokens=seen,
            latency_ms=(time.perf_counter() - started) * 1000,
            error=error.split("\n", 1)[0][:300],
            root=root,
        )
        try:
            self.ledger.record(call)
        except Exception:  # accounting must never break the answer itself
            log.exception("could not record a %s call in the ledger", tool)
