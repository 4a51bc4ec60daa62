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


def test_average_precision_by_hand():
    from interpbench.scoring import average_precision

    # ranked a(+) b(-) c(+) d(-): precision 1 at recall 1/2, 2/3 at recall 1 -> (1 + 2/3) / 2
    assert average_precision({"a": 4, "b": 3, "c": 2, "d": 1}, {"a", "c"}) == pytest.approx(5 / 6)
    # a tie of b(-) and c(+) enters together: precision 2/3 at recall 1
    assert average_precision({"a": 4, "b": 2, "c": 2, "d": 1}, {"a", "c"}) == pytest.approx(5 / 6)
    assert average_precision({"a": 1, "b": 2}, {"a"}) == pytest.approx(1 / 2)
    assert average_precision({"a": 1}, set()) is None


def test_mib_circuits_and_areas_by_hand():
    from interpbench.scoring import MIB_FRACTIONS, mib_areas, top_circuits

    scores = {f"e{i}": float(i) for i in range(1000)}
    circuits = top_circuits(scores)
    assert [len(c) for c in circuits] == [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
    assert circuits[0] == {"e999"} and circuits[2] == {"e995", "e996", "e997", "e998", "e999"}
    assert [len(c) for c in top_circuits({"a": 1.0, "b": 0.0})] == [0] * 7 + [0, 1, 2]
    # f = 1 everywhere: CPR is the width of the axis (0.999), CMD 0
    assert mib_areas([1.0] * 10) == pytest.approx((0.999, 0.0))
    # f rising linearly with the fraction: CPR = (1 - 0.001^2) / 2 by trapezoids on a line
    cpr, cmd = mib_areas(list(MIB_FRACTIONS))
    assert cpr == pytest.approx((1 - 0.001**2) / 2) and cmd == pytest.approx(0.999 - cpr)
    # MIB's formula, term by term, on an overshooting curve
    f = [0.0, 0.1, 0.2, 0.4, 0.8, 1.2, 1.1, 1.0, 1.0, 1.0]
    x = MIB_FRACTIONS
    expected_cpr = sum((x[i + 1] - x[i]) * (f[i] + f[i + 1]) / 2 for i in range(9))
    expected_cmd = sum((x[i + 1] - x[i]) * (abs(1 - f[i]) + abs(1 - f[i + 1])) / 2 for i in range(9))
    assert mib_areas(f) == pytest.approx((expected_cpr, expected_cmd))
