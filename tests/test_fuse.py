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


def test_fuse_matches_hand_computed_scores():
    from tokenlean.tools.fuse import fuse

    fused = fuse(
        {"bm25": ["a", "b", "c"], "symbol": ["b", "d"]},
        {"bm25": 1.0, "symbol": 0.6},
        k=60,
        scores={"bm25": [10.0, 5.0, 2.0]},
    )
    scores = {f.id: f.score for f in fused}
    assert scores["a"] == pytest.approx(10 / 10)  # BM25 by its score over the best score
    assert scores["b"] == pytest.approx(5 / 10 + 0.6 * 61 / 61)  # unscored: (k + 1) / (k + rank)
    assert scores["c"] == pytest.approx(2 / 10)
    assert scores["d"] == pytest.approx(0.6 * 61 / 62)
    assert [f.id for f in fused] == ["b", "a", "d", "c"]
    assert fused[0].why == (("symbol", 1), ("bm25", 2))


def test_fuse_keeps_bm25_gaps_that_rank_fusion_flattens():
    from tokenlean.tools.fuse import fuse

    rankings = {"bm25": ["lead", "far"], "path": ["far"]}
    weights = {"bm25": 1.0, "path": 0.5}
    # BM25 scores 20 and 4: the path vote (0.5) cannot lift `far` (0.2 + 0.5) over `lead` (1.0) ...
    assert [f.id for f in fuse(rankings, weights, k=60, scores={"bm25": [20.0, 4.0]})] == ["lead", "far"]
    # ... but it can when BM25 hardly separates them (0.95 + 0.5 > 1.0), and by ranks alone it always
    # does: 1/62 + 0.5/61 > 1/61.
    assert [f.id for f in fuse(rankings, weights, k=60, scores={"bm25": [20.0, 19.0]})] == ["far", "lead"]
    assert [f.id for f in rrf(rankings, weights, k=60)] == ["far", "lead"]


def test_fuse_counts_a_scored_strategy_without_positive_scores_by_rank():
    from tokenlean.tools.fuse import fuse

    fused = fuse({"bm25": ["a", "b"]}, {"bm25": 1.0}, k=60, scores={"bm25": [0.0, 0.0]})
    assert [f.score for f in fused] == pytest.approx([1.0, 61 / 62])
