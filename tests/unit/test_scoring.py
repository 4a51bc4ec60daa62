import pytest

from interpbench.scoring import confusion, pessimistic_auc, roc_points, trapezoid_auc


def test_perfect_separation_scores_one():
    scores = {"a": 0.9, "b": 0.8, "c": 0.1, "d": 0.0}
    points = roc_points(scores, {"a", "b"})
    assert pessimistic_auc(points) == 1.0
    assert trapezoid_auc(points) == 1.0


def test_inverted_ranking_scores_zero():
    points = roc_points({"a": 0.0, "b": 1.0}, {"a"})
    assert pessimistic_auc(points) == 0.0


def test_ties_are_pessimistic_but_trapezoid_interpolates():
    # One positive and one negative with the same score: a single diagonal step.
    points = roc_points({"a": 0.5, "b": 0.5}, {"a"})
    assert points == [(0.0, 0.0), (1.0, 1.0)]
    assert pessimistic_auc(points) == 0.0
    assert trapezoid_auc(points) == 0.5


def test_hand_computed_example():
    # Ranking: p1, n1, p2, n2 -> points (0,0) (0,.5) (.5,.5) (.5,1) (1,1).
    scores = {"p1": 4, "n1": 3, "p2": 2, "n2": 1}
    points = roc_points(scores, {"p1", "p2"})
    assert points == [(0, 0), (0, 0.5), (0.5, 0.5), (0.5, 1.0), (1.0, 1.0)]
    assert pessimistic_auc(points) == pytest.approx(0.75)
    assert trapezoid_auc(points) == pytest.approx(0.75)


def test_points_where_tpr_drops_are_removed():
    # A threshold sweep that is not nested: the point (0.5, 0.2) comes after (0.4, 0.8).
    assert pessimistic_auc([(0.4, 0.8), (0.5, 0.2)]) == pytest.approx(0.6 * 0.8 + 0 * 0.2)


def test_confusion_sets_and_rates():
    c = confusion({"a", "c"}, {"a", "b"}, ["a", "b", "c", "d"])
    assert (c.tp, c.fp, c.fn, c.tn) == (["a"], ["c"], ["b"], ["d"])
    assert c.tpr == 0.5 and c.fpr == 0.5
