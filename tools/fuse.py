"""Reciprocal rank fusion: score(d) = sum over strategies s of w_s / (k + rank_s(d))."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import NamedTuple, TypeVar

K = 60  # the constant from Cormack et al. (2009); flattens the head less than small k would

T = TypeVar("T", bound=Hashable)


class Fused(NamedTuple):
    id: Hashable
    score: float
    why: tuple[tuple[str, int], ...]  # (strategy, 1-based rank), strongest contribution first


def rrf(
    rankings: Mapping[str, Sequence[T]],
    weights: Mapping[str, float] | None = None,
    k: int = K,
) -> list[Fused]:
    """Fuse ranked id lists. Ties break by best single rank, then by id, so output is deterministic."""
    scores: dict[T, float] = {}
    why: dict[T, list[tuple[float, str, int]]] = {}
    for strategy, ranked in rankings.items():
        weight = 1.0 if weights is None else weights.get(strategy, 0.0)
        if weight <= 0:
            continue
        seen: set[T] = set()
        for rank, item in enumerate(ranked, start=1):
            if item in seen:
                continue
            seen.add(item)
            contribution = weight / (k + rank)
            scores[item] = scores.get(item, 0.0) + contribution
            why.setdefault(item, []).append((contribution, strategy, rank))
    fused = []
    for item, score in scores.items():
        reasons = sorted(why[item], key=lambda r: (-r[0], r[1]))
        fused.append(Fused(item, score, tuple((s, r) for _, s, r in reasons)))
    fused.sort(key=lambda f: (-f.score, min(r for _, r in f.why), str(f.id)))
    return fused
