"""What the pruner raises on a payload or selection it cannot honour."""

from __future__ import annotations

from tokenlean.indexers.errors import TokenleanError


class BadPrune(TokenleanError):
    """A payload or selection that cannot be honoured."""


class InvalidJson(BadPrune):
    """The payload is not JSON."""


class PayloadTooLarge(BadPrune):
    """The payload is over the size limit."""


class UnknownField(BadPrune):
    """A field path that matches nothing in the payload."""


class BadExpression(BadPrune):
    """A JMESPath expression that does not parse or cannot be evaluated."""
