"""Reciprocal rank fusion: score(d) = sum over strategies s of w_s / (k + rank_s(d))."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
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
    return _combine(rankings, weights, lambda strategy, rank: 1.0 / (k + rank))


def fuse(
    rankings: Mapping[str, Sequence[T]],
    weights: Mapping[str, float] | None = None,
    k: int = K,
    scores: Mapping[str, Sequence[float]] | None = None,
) -> list[Fused]:
    """Weighted fusion that keeps score gaps where a strategy has meaningful scores.

    score(d) = sum over strategies s of w_s * c_s(d), where c_s(d) is
      score_s(d) / top score_s   for a strategy passed with `scores` (BM25: a hit far behind the best
                                 one counts for that much less, near-ties stay near),
      (k + 1) / (k + rank_s(d))  for the others (1 at rank 1, half at rank k + 2: RRF scaled to 1).
    A scored strategy whose top score is not positive counts by rank. Ties break by best single rank,
    then by id, as in `rrf`.
    """

    def share(strategy: str, rank: int) -> float:
        values = (scores or {}).get(strategy)
        if values and values[0] > 0:
            return max(0.0, values[rank - 1]) / values[0]
        return (k + 1) / (k + rank)

    return _combine(rankings, weights, share)


def _combine(
    rankings: Mapping[str, Sequence[T]],
    weights: Mapping[str, float] | None,
    share: Callable[[str, int], float],
) -> list[Fused]:
    """Sum weight * share(strategy, rank) per id (an id repeated in one ranking counts once, at its
    best rank), with the reasons strongest first and deterministic ties."""
    totals: dict[T, float] = {}
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
            contribution = weight * share(strategy, rank)
            totals[item] = totals.get(item, 0.0) + contribution
            why.setdefault(item, []).append((contribution, strategy, rank))
    fused = []
    for item, score in totals.items():
        reasons = sorted(why[item], key=lambda r: (-r[0], r[1]))
        fused.append(Fused(item, score, tuple((s, r) for _, s, r in reasons)))
    fused.sort(key=lambda f: (-f.score, min(r for _, r in f.why), str(f.id)))
    return fused
