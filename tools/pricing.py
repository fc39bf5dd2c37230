"""Offline model prices and the cost of recorded usage, with input, output and cache kept apart.

Prices ship in `data/prices.json` (extracted from LiteLLM's and tokencost's MIT-licensed tables by
`scripts/update_prices.py`; its header says from which versions and when). A user file named by
$TOKENLEAN_PRICES, with the same shape, overrides or adds models.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from tokenlean.indexers.ledger_store import UsageRecord

TIER = 200_000  # Anthropic's long-context threshold for the *_above_200k rates
_DATE = re.compile(r"-(20\d{6}|\d{4}-\d{2}-\d{2})$")


class Price(NamedTuple):
    model: str  # the table row that matched
    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float
    input_above_200k: float | None
    output_above_200k: float | None
    cache_write_5m_above_200k: float | None
    cache_read_above_200k: float | None


class Cost(NamedTuple):
    input: float = 0.0
    output: float = 0.0
    cache_write: float = 0.0
    cache_read: float = 0.0

    @property
    def total(self) -> float:
        return self.input + self.output + self.cache_write + self.cache_read

    def __add__(self, other: object) -> Cost:  # type: ignore[override]
        if not isinstance(other, Cost):
            return NotImplemented
        return Cost(*(a + b for a, b in zip(self, other, strict=True)))


@lru_cache(maxsize=1)
def table() -> dict[str, dict]:
    data = json.loads(resources.files(__package__).joinpath("data/prices.json").read_text())
    models = dict(data["models"])
    override = os.environ.get("TOKENLEAN_PRICES")
    if override:
        with open(override, encoding="utf-8") as fh:
            extra = json.load(fh)
        models.update(extra.get("models", extra))
    return models


def table_source() -> str:
    data = json.loads(resources.files(__package__).joinpath("data/prices.json").read_text())
    return f"{', '.join(data['source'])} (generated {data['generated']})"


def normalise(model: str) -> str:
    """`claude-opus-4-5-20251101[1m]` -> `claude-opus-4-5`; provider prefixes dropped."""
    name = model.strip().lower().split("/")[-1]
    name = re.sub(r"\[[^\]]*\]$", "", name)
    return _DATE.sub("", name)


def lookup(model: str) -> Price | None:
    """The price row for a model: exact name, then without its date, then the longest known prefix."""
    rows = table()
    if not model:
        return None
    candidates = [model, model.lower(), normalise(model)]
    key = next((c for c in candidates if c in rows), None)
    if key is None:
        base = normalise(model)
        prefixes = [k for k in rows if base.startswith(k) or k.startswith(base)]
        if not prefixes:
            return None
        # The longest key that the model name starts with; else the shortest that extends it.
        starts = [k for k in prefixes if base.startswith(k)]
        key = max(starts, key=len) if starts else min(prefixes, key=len)
    row = rows[key]
    inp = float(row["input"])
    return Price(
        key,
        inp,
        float(row.get("output", 0.0)),
        float(row.get("cache_write_5m", inp * 1.25)),
        float(row.get("cache_write_1h", inp * 2.0)),  # ccusage's rule when the table has no 1h rate
        float(row.get("cache_read", inp)),
        row.get("input_above_200k"),
        row.get("output_above_200k"),
        row.get("cache_write_5m_above_200k"),
        row.get("cache_read_above_200k"),
    )


def _tiered(tokens: int, rate: float, above: float | None) -> float:
    if above is None or tokens <= TIER:
        return tokens * rate
    return TIER * rate + (tokens - TIER) * above


def cost(usage: UsageRecord, price: Price | None) -> Cost:
    """What one request cost. Unknown models cost nothing (and are reported as unpriced)."""
    if price is None:
        return Cost()
    return Cost(
        input=_tiered(usage.input, price.input, price.input_above_200k),
        output=_tiered(usage.output, price.output, price.output_above_200k),
        cache_write=_tiered(usage.cache_write_5m, price.cache_write_5m, price.cache_write_5m_above_200k)
        + usage.cache_write_1h * price.cache_write_1h,
        cache_read=_tiered(usage.cache_read, price.cache_read, price.cache_read_above_200k),
    )
