"""Scoring at the certified granularity, and the rule for edges no ablation can reveal.

One layer, one head, no MLP: senders hook_embed, hook_pos_embed and the head; receivers
the head's q, k, v and the final residual stream (9 edges). Every number below is
worked out by hand in the comments.
"""

from dataclasses import dataclass, field

import pytest
import torch

from interpbench import graph as g
from interpbench.compiler.ground_truth import make_circuit
from interpbench.plugins.metrics import edge_roc
from interpbench.schemas import EdgeScore, Scores
from interpbench.scoring import fold_edges, fold_scores

Q, K, V = (g.head_in(0, 0, x) for x in "qkv")
HEAD, OUT = g.head_out(0, 0), g.resid_post(0)
E, P = g.EMBED, g.POS_EMBED


def key(s, r):
    return g.edge_key(s, r)


SCORES = {
    key(HEAD, OUT): 0.9,
    key(E, K): 0.8,
    key(E, V): 0.6,
    key(E, Q): 0.2,
    key(E, OUT): 0.1,
    **{key(P, r): 0.0 for r in (Q, K, V, OUT)},
}


@dataclass
class StubEngine:
    positions_visible: bool

    def __post_init__(self):
        gen = torch.Generator().manual_seed(0)
        self.clean_out = torch.randn(3, 4, 2, 1, generator=gen) + 2.0  # [S, B, P, D], no sender is all zero
        self._ablated = self.clean_out.clone()
        self._ablated[0] += 1.0  # the token embedding and the head change under the ablation
        self._ablated[2] += 1.0
        if self.positions_visible:
            self._ablated[1] += 1.0

    def ablated_outputs(self, ablation):
        return self._ablated


@dataclass
class StubTask:
    truth: set
    granularity: str
    positions_visible: bool = True
    graph: g.ComputationalGraph = field(default_factory=lambda: g.ComputationalGraph(1, 1, has_mlps=False))

    def __post_init__(self):
        self.engine = StubEngine(self.positions_visible)
        self.ground_truth = make_circuit(self.truth, "edge")

    def ablation(self, name):
        return "resample"


def scores(selected=None):
    edges = [
        EdgeScore(sender=s, receiver=r, score=SCORES[key(s, r)]) for s, r in g.ComputationalGraph(1, 1, False).edges
    ]
    return Scores(level="edge", edges=edges, selected=selected)


def test_folding_takes_a_heads_best_qkv_edge():
    folded = fold_scores(SCORES, "head")
    assert folded == {
        key(HEAD, OUT): 0.9,
        key(E, HEAD): 0.8,  # the best of embed->q (0.2), ->k (0.8), ->v (0.6)
        key(E, OUT): 0.1,
        key(P, HEAD): 0.0,
        key(P, OUT): 0.0,
    }
    assert fold_scores(SCORES, "qkv") == SCORES
    assert fold_edges({key(E, Q), key(E, V), key(HEAD, OUT)}, "head") == {key(E, HEAD), key(HEAD, OUT)}


def test_headline_metrics_are_at_the_certified_granularity():
    truth = {(E, Q), (E, V), (HEAD, OUT)}
    # q/k/v level: ranking HEAD->OUT (P), E->K (N), E->V (P), E->Q (P), E->OUT (N), four P-edges (N, tied).
    # 3 positives, 6 negatives; TPR reaches 1/3 at FPR 0, then 2/3 and 1 at FPR 1/6:
    # pessimistic AUROC = 1/3 + (5/6)(1/3) + (5/6)(1/3) = 16/18.
    # Head level: HEAD->OUT (P), E->HEAD (P), then three negatives: AUROC 1.
    selected = [key(HEAD, OUT), key(E, K)]
    for certified, headline in (("qkv", 16 / 18), ("head", 1.0)):
        out = edge_roc(scores(selected), StubTask(truth, certified))
        assert out.values["edge_qkv_auroc"] == pytest.approx(16 / 18)
        assert out.values["edge_head_auroc"] == pytest.approx(1.0)
        assert out.values["edge_auroc"] == pytest.approx(headline)
    # The selection: E->K is a false positive at q/k/v level, but a true positive at head level
    # (the head reads the embedding, through q and v).
    assert out.values["edge_qkv_tpr"] == pytest.approx(1 / 3) and out.values["edge_qkv_fpr"] == pytest.approx(1 / 6)
    assert out.values["edge_tpr"] == 1.0 and out.values["edge_fpr"] == 0.0
    assert out.sets["edge_tp"] == [key(E, HEAD), key(HEAD, OUT)]
    assert out.sets["edge_qkv_fp"] == [key(E, K)]
    assert set(out.curves) == {"edge_roc", "edge_qkv_roc", "edge_interpbench_roc"}


def test_edges_from_a_sender_the_ablation_cannot_change_are_not_scored():
    truth = {(E, Q), (E, V), (HEAD, OUT), (P, Q)}
    # Visible positions: P->Q is a positive scored 0, tied with three negatives.
    visible = edge_roc(scores(), StubTask(truth, "qkv", positions_visible=True))
    assert visible.sets["edge_unrevealable"] == []
    assert visible.values["edge_auroc"] < 0.8
    # Positions the ablation cannot change: the four P-edges leave the universe. Left:
    # HEAD->OUT (P), E->K (N), E->V (P), E->Q (P), E->OUT (N): AUROC = 1/3 + (1/2)(2/3) = 2/3.
    hidden = edge_roc(scores(), StubTask(truth, "qkv", positions_visible=False))
    assert hidden.sets["edge_unrevealable"] == sorted(key(P, r) for r in (Q, K, V, OUT))
    assert hidden.values["edge_auroc"] == pytest.approx(2 / 3)
    # At head level P->HEAD is gone too: HEAD->OUT, E->HEAD positives above E->OUT.
    assert hidden.values["edge_head_auroc"] == pytest.approx(1.0)


def test_a_sender_that_is_zero_everywhere_stays_a_negative():
    task = StubTask({(E, Q), (HEAD, OUT)}, "qkv", positions_visible=False)
    task.engine.clean_out[1] = 0.0
    task.engine._ablated[1] = 0.0
    out = edge_roc(scores(), task)
    assert out.sets["edge_unrevealable"] == []


def test_node_scores_are_scored_on_the_edges_their_circuits_induce():
    """InterpBench's convention for node-level methods: a node circuit holds every edge
    between its nodes; embeddings and the output are always in it."""
    from interpbench.plugins.metrics import induced_edge_scores, induced_edges

    graph = g.ComputationalGraph(1, 1, has_mlps=False)
    induced = induced_edge_scores({HEAD: 0.7}, graph)
    assert induced[key(E, Q)] == induced[key(P, V)] == induced[key(HEAD, OUT)] == 0.7
    assert induced[key(E, OUT)] == float("inf")  # between two always-kept ends
    assert induced_edges(set(), graph) == {key(E, OUT), key(P, OUT)}
    assert len(induced_edges({HEAD}, graph)) == 9
    # Ranking: E->OUT and P->OUT (negatives) above everything else, which ties at 0.7:
    # the ROC goes (0, 0) -> (2/6, 0) -> (1, 1), so the pessimistic AUROC is 0.
    out = edge_roc(
        Scores(level="node", nodes={HEAD: 0.7}, selected=[HEAD]), StubTask({(E, Q), (E, V), (HEAD, OUT)}, "qkv")
    )
    assert out.values["edge_auroc"] == 0.0
    assert out.values["edge_tpr"] == 1.0 and out.values["edge_fpr"] == 1.0


def test_interpbench_evaluation_merges_the_embeddings_and_leaves_nothing_out():
    """InterpBench's own numbers, kept for comparison: head level, hook_embed and
    hook_pos_embed one sender (blocks.0.hook_resid_pre), unrevealable edges still scored."""
    truth = {(E, Q), (E, V), (HEAD, OUT), (P, Q)}
    out = edge_roc(scores(), StubTask(truth, "head", positions_visible=False))
    folded = fold_scores(SCORES, "interpbench")
    assert folded == {key(g.RESID_PRE, HEAD): 0.8, key(g.RESID_PRE, OUT): 0.1, key(HEAD, OUT): 0.9}
    # resid_pre->HEAD (P, 0.8), HEAD->OUT (P, 0.9) above resid_pre->OUT (N): AUROC 1
    assert out.values["edge_interpbench_auroc"] == 1.0
