"""What a prune returns, before it is put in text form."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PruneResult:
    value: Any  # the pruned value, after guarding (and cutting, when over budget)
    text: str  # `value` in the chosen encoding
    encoding: str  # toon | json | text
    candidates: dict[str, int]  # tokens of each encoding tried
    mode: str  # fields | expression | task | all
    kept: list[str]  # leaf field paths kept, `[*]` for array elements
    dropped: list[str]  # leaf field paths of the payload not kept (empty for expression mode)
    reasons: dict[str, str]  # task mode: why each kept path was kept
    tokens_before: int  # the payload as given (the raw text when a string)
    tokens_after: int  # of `text`
    budget: int
    redactions: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    truncated: str | None = None  # what was cut to fit the budget
    tokens: int = 0  # of the text form, set by prune_text
