"""Comparing scores with the ground truth: granularity, confusion sets, ROC curves and their areas.

Pure Python. Scores and circuits are compared at the granularity the ground truth is
certified at (``fold_scores``, ``fold_edges``): ``qkv`` keeps a head's q, k and v inputs
apart (exact for compiled tracr models); ``head`` folds them into the head, as
InterpBench promotes q/k/v nodes before scoring (a SIIT-trained model certifies which
heads and MLPs implement the circuit, not how a head splits its work between q, k
and v). The two embeddings stay separate senders at both levels.

Two areas are offered, because the field uses both:

- ``pessimistic_auc`` (InterpBench/ACDC): ROC points sorted by FPR (then TPR),
  points where TPR drops removed, padded with (0, 0) and (1, 1), and the area under
  the staircase that only rises once its FPR is reached;
- ``trapezoid_auc``: the plain area with linear interpolation between points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal

from interpbench.graph import edge_key, fold_node, split_edge_key

#: The levels edges are scored at: the two granularities, and InterpBench's own evaluation
#: (head level with both embeddings merged into ``blocks.0.hook_resid_pre``).
Folding = Literal["qkv", "head", "interpbench"]


def fold_edge(key: str, level: Folding) -> str:
    """An edge key (``sender->receiver``) at ``level``."""
    if level == "qkv":
        return key
    sender, receiver = split_edge_key(key)
    merge = level == "interpbench"
    return edge_key(fold_node(sender, merge_embeddings=merge), fold_node(receiver, merge_embeddings=merge))


def fold_scores(scores: dict[str, float], level: Folding) -> dict[str, float]:
    """Edge scores at ``level``: a folded edge scores the best of the edges folded into it."""
    out: dict[str, float] = {}
    for key, score in scores.items():
        folded = fold_edge(key, level)
        out[folded] = max(score, out.get(folded, score))
    return out


def fold_edges(keys: Iterable[str], level: Folding) -> set[str]:
    """A set of edges at ``level``: a folded edge is in it if any edge folded into it is."""
    return {fold_edge(k, level) for k in keys}


@dataclass
class Confusion:
    tp: list[str]
    fp: list[str]
    fn: list[str]
    tn: list[str]

    @property
    def tpr(self) -> float | None:
        positives = len(self.tp) + len(self.fn)
        return len(self.tp) / positives if positives else None

    @property
    def fpr(self) -> float | None:
        negatives = len(self.fp) + len(self.tn)
        return len(self.fp) / negatives if negatives else None


def confusion(selected: set[str], truth: set[str], universe: list[str]) -> Confusion:
    c = Confusion([], [], [], [])
    for item in universe:
        inside, chosen = item in truth, item in selected
        (c.tp if inside and chosen else c.fn if inside else c.fp if chosen else c.tn).append(item)
    return c


def roc_points(scores: dict[str, float], truth: set[str]) -> list[tuple[float, float]]:
    """(FPR, TPR) at every distinct threshold, highest threshold first ("score >= t")."""
    positives = sum(1 for k in scores if k in truth)
    negatives = len(scores) - positives
    if positives == 0 or negatives == 0:
        return []
    points = [(0.0, 0.0)]
    tp = fp = 0
    ordered = sorted(scores.items(), key=lambda kv: -kv[1])
    for i, (item, score) in enumerate(ordered):
        if item in truth:
            tp += 1
        else:
            fp += 1
        if i + 1 == len(ordered) or ordered[i + 1][1] != score:
            points.append((fp / negatives, tp / positives))
    return points


def monotone(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted by FPR then TPR, (0,0) and (1,1) added, points where TPR drops removed."""
    kept: list[tuple[float, float]] = []
    for x, y in sorted(set(points) | {(0.0, 0.0), (1.0, 1.0)}):
        if kept and y < kept[-1][1]:
            continue
        kept.append((x, y))
    return kept


def pessimistic_auc(points: list[tuple[float, float]]) -> float:
    """Area under the staircase through the points: TPR rises only at its point's FPR."""
    pts = monotone(points)
    return sum((1.0 - x1) * (y1 - y0) for (_, y0), (x1, y1) in zip(pts, pts[1:]))


def trapezoid_auc(points: list[tuple[float, float]]) -> float:
    pts = monotone(points)
    return sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in zip(pts, pts[1:]))


def average_precision(scores: dict[str, float], truth: set[str]) -> float | None:
    """Area under the precision-recall curve as average precision: the precision at each
    distinct threshold, weighted by the recall gained there (tied items enter together)."""
    positives = sum(1 for k in scores if k in truth)
    if positives == 0:
        return None
    area = recall = 0.0
    tp = seen = 0
    ordered = sorted(scores.items(), key=lambda kv: -kv[1])
    for i, (item, score) in enumerate(ordered):
        tp += item in truth
        seen += 1
        if i + 1 == len(ordered) or ordered[i + 1][1] != score:
            area += (tp / positives - recall) * tp / seen
            recall = tp / positives
    return area


#: MIB's circuit sizes (Mueller et al. 2025, circuit localization track): these fractions of
#: the scored items, kept by top score.
MIB_FRACTIONS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


def top_circuits(scores: dict[str, float], fractions=MIB_FRACTIONS) -> list[set[str]]:
    """For each fraction f, the ⌊f · n⌋ items of highest score (ties in the dict's order)."""
    ordered = sorted(scores, key=lambda k: -scores[k])
    return [set(ordered[: int(f * len(ordered))]) for f in fractions]


def area(xs: list[float], ys: list[float]) -> float:
    """Trapezoid area under the points (xs ascending)."""
    return sum((x1 - x0) * (y0 + y1) / 2 for x0, x1, y0, y1 in zip(xs, xs[1:], ys, ys[1:]))


def mib_areas(faithfulness: list[float], fractions=MIB_FRACTIONS) -> tuple[float, float]:
    """MIB's CPR (area under f over the circuit sizes, higher is better) and CMD (area
    under |1 - f|, lower is better), trapezoids over the fractions on a linear axis."""
    return area(list(fractions), faithfulness), area(list(fractions), [abs(1 - f) for f in faithfulness])
