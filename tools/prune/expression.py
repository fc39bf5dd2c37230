"""Selecting by a JMESPath expression, with its errors explained."""

from __future__ import annotations

from typing import Any

from .errors import BadExpression
from .settings import MAX_PATH_CHARS


def _search(value: Any, expression: str, notes: list[str]) -> Any:
    import jmespath
    from jmespath import exceptions as jexc

    if not expression.strip():
        raise BadExpression(
            "expression is empty: give a JMESPath expression such as 'items[*].{id: id, state: state}'"
        )
    if len(expression) > MAX_PATH_CHARS:
        raise BadExpression(f"an expression is at most {MAX_PATH_CHARS} characters")
    try:
        compiled = jmespath.compile(expression)
    except jexc.ParseError as exc:
        near = f" near {exc.token_value!r}" if exc.token_value not in (None, "") else ""
        detail = str(exc.msg) if exc.msg and exc.msg != "Invalid jmespath expression" else type(exc).__name__
        detail = {"IncompleteExpressionError": "the expression ends too early"}.get(detail, detail)
        raise BadExpression(
            f"JMESPath syntax error in {expression!r} at column {exc.lex_position}{near}: {detail}. "
            "Syntax: https://jmespath.org/specification.html"
        ) from None
    except jexc.JMESPathError as exc:
        raise BadExpression(f"JMESPath could not parse {expression!r}: {exc}") from None
    try:
        out = compiled.search(value)
    except jexc.JMESPathError as exc:
        raise BadExpression(
            f"JMESPath could not evaluate {expression!r}: {' '.join(str(exc).split())}"
        ) from None
    except RecursionError:
        raise BadExpression(f"JMESPath ran too deep evaluating {expression!r}: simplify it") from None
    if out is None:
        top = sorted(value)[:30] if isinstance(value, dict) else []
        listing = f"; the top level has {', '.join(top)}" if top else ""
        notes.append(f"the expression gave null: a field it names may not exist{listing}")
    return out
