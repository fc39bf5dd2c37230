import pytest

from tokenlean.tools.fuse import rrf


def test_rrf_matches_hand_computed_scores():
    fused = rrf({"bm25": ["a", "b", "c"], "symbol": ["b", "d"]}, {"bm25": 1.0, "symbol": 2.0}, k=60)
    scores = {f.id: f.score for f in fused}
    assert scores["a"] == pytest.approx(1 / 61)
    assert scores["b"] == pytest.approx(1 / 62 + 2 / 61)
    assert scores["c"] == pytest.approx(1 / 63)
    assert scores["d"] == pytest.approx(2 / 62)
    assert [f.id for f in fused] == ["b", "d", "a", "c"]


def test_why_lists_each_strategy_and_rank_strongest_first():
    (b, *_) = rrf({"bm25": ["a", "b"], "symbol": ["b"]}, {"bm25": 1.0, "symbol": 1.0})
    assert b.id == "b"
    assert b.why == (("symbol", 1), ("bm25", 2))


def test_zero_weight_strategy_is_ignored():
    fused = rrf({"bm25": ["a"], "path": ["z"]}, {"bm25": 1.0, "path": 0.0})
    assert [f.id for f in fused] == ["a"]


def test_duplicates_within_a_ranking_count_once_at_their_best_rank():
    (a,) = rrf({"bm25": ["a", "a"]}, None, k=10)
    assert a.score == pytest.approx(1 / 11)


def test_ties_break_deterministically():
    first = rrf({"x": ["p"], "y": ["q"]}, None)
    second = rrf({"y": ["q"], "x": ["p"]}, None)
    assert [f.id for f in first] == [f.id for f in second] == ["p", "q"]
