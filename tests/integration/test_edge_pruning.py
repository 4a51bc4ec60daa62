"""Edge pruning end to end: it finds a circuit known by construction, reaches the sparsity
it is asked for on a trained model, and is a function of its seed."""

import pytest

import interpbench

CASE3_CIRCUIT = {
    "hook_embed->blocks.0.hook_mlp_in",
    "hook_pos_embed->blocks.1.hook_q_input[0]",
    "hook_pos_embed->blocks.1.hook_k_input[0]",
    "blocks.0.hook_mlp_out->blocks.1.hook_v_input[0]",
    "blocks.1.attn.hook_result[0]->blocks.1.hook_resid_post",
}

#: Enough steps to see the seed's effect, few enough to be quick.
SHORT = {"steps": 40, "sparsity_warmup_steps": 30, "lr_warmup_steps": 4}


def test_finds_the_compiled_circuit():
    """Case 3 compiled: its five edges rank above the rest, and the circuit read off the
    masks at the default target (as sparse as faithfulness allows) holds them all."""
    result = interpbench.run(case="3", method="edge-pruning")
    assert result.status == "ok"
    assert result.metrics["edge_auroc"] >= 0.95
    assert CASE3_CIRCUIT <= set(result.scores.selected)
    assert result.metrics["edge_tpr"] == 1.0 and result.metrics["edge_fpr"] <= 0.1


def test_reaches_the_target_sparsity_on_a_trained_model():
    """Case 3's SIIT model, two targets (the second through ``sweep``): each circuit read
    off the masks removes about the fraction of edges it was asked to (a little more: the
    Lagrangian holds the drawn masks' sparsity, where half-open masks count in part), and
    the ROC walks the two circuits."""
    result = interpbench.run(
        case="3", method="edge-pruning", loader="siit", config={"target_sparsity": 0.6, "sweep": [0.85]}
    )
    n_edges = len(result.scores.edges)
    assert result.thresholds == [0.6, 0.85]
    achieved = [1 - len(circuit.selected) / n_edges for circuit in result.scores.sweep]
    assert achieved == [pytest.approx(0.6, abs=0.08), pytest.approx(0.85, abs=0.08)]
    assert set(result.scores.selected) == set(result.scores.sweep[0].selected)


def test_same_seed_same_scores():
    a = interpbench.run(case="3", method="edge-pruning", seed=3, config=SHORT)
    b = interpbench.run(case="3", method="edge-pruning", seed=3, config=SHORT)
    c = interpbench.run(case="3", method="edge-pruning", seed=4, config=SHORT)
    assert a.scores == b.scores
    assert a.scores.edges != c.scores.edges
