"""Errors a user can act on. Their text says what was wrong and what to do next."""


class TokenleanError(Exception):
    """An expected failure with an actionable message; shown as-is to users and agents."""


class IndexProblem(TokenleanError):
    """The index is missing, busy, damaged or from another version."""


class IndexBusy(IndexProblem):
    """Another process is updating the same index."""
