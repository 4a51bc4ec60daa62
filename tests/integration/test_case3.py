"""Case 3 end to end: compile, agree with tracr, derive the truth, find it."""

import itertools

import pytest

import interpbench
from interpbench import registry
from interpbench.compiler.ground_truth import head_circuit
from interpbench.compiler.verify import check_agreement


def test_hooked_transformer_agrees_with_tracr_on_every_input(compiled):
    case = registry.get_case("3")
    every_input = [list(seq) for seq in itertools.product(sorted(case.vocab), repeat=case.max_seq_len - 1)]
    assert len(every_input) == 256
    agreement = check_agreement(case, compiled("3"), every_input)
    assert agreement.decoded_mismatches == 0
    assert agreement.max_residual_error <= 1e-5
    assert agreement.rasp_mismatches == 0 and agreement.rasp_checked == 256 * 4


def test_hooked_transformer_has_the_hooks_methods_need(compiled):
    cfg = compiled("3").model.cfg
    assert cfg.use_attn_result and cfg.use_split_qkv_input and cfg.use_hook_mlp_in
    assert cfg.normalization_type is None and cfg.d_vocab_out == 1


def test_ground_truth_is_what_the_program_implies(compiled):
    """frac_prevs(tokens == "x"):
    - MLP 0 computes the Map `tokens == "x"`: it reads the token embedding;
    - head 1.0 is the numerical Aggregate over Select(indices, indices, LEQ): its
      query and key read positions, its value reads the Map's output (MLP 0);
    - the head writes the program's output, read by the final residual stream.
    Head 0.0 and MLP 1 are empty layers tracr pads in; they are not in the circuit.
    """
    circuit = compiled("3").circuit
    assert circuit.edge_set() == {
        ("hook_embed", "blocks.0.hook_mlp_in"),
        ("hook_pos_embed", "blocks.1.hook_q_input[0]"),
        ("hook_pos_embed", "blocks.1.hook_k_input[0]"),
        ("blocks.0.hook_mlp_out", "blocks.1.hook_v_input[0]"),
        ("blocks.1.attn.hook_result[0]", "blocks.1.hook_resid_post"),
    }
    assert head_circuit(circuit).edge_set() == {
        ("blocks.0.hook_resid_pre", "blocks.0.hook_mlp_out"),
        ("blocks.0.hook_resid_pre", "blocks.1.attn.hook_result[0]"),
        ("blocks.0.hook_mlp_out", "blocks.1.attn.hook_result[0]"),
        ("blocks.1.attn.hook_result[0]", "blocks.1.hook_resid_post"),
    }


def test_node_ablation_separates_circuit_nodes():
    result = interpbench.run(case="3", method="node-ablation", loader="tracr")
    assert result.metrics["node_auroc"] == 1.0
    assert result.metrics["node_tpr"] == 1.0 and result.metrics["node_fpr"] == 0.0
    assert set(result.sets["node_tp"]) == {"blocks.0.hook_mlp_out", "blocks.1.attn.hook_result[0]"}
    effects = result.scores.details
    # Resample and mean effects are always reported; the tracr loader's default
    # ablation ranks (positions never change between inputs, so only zeroing shows them).
    assert set(effects) == {"resample", "mean", "zero-except-embed"}
    assert result.scores.nodes == effects["zero-except-embed"]
    assert effects["resample"]["blocks.0.attn.hook_result[0]"] == pytest.approx(0.0, abs=1e-9)
    assert effects["mean"]["blocks.1.attn.hook_result[0]"] > 0.01


def test_ranking_by_mean_ablation_is_a_config_option():
    result = interpbench.run(case="3", method="node-ablation", config={"score": "mean"})
    assert result.config["score"] == "mean"
    assert result.scores.nodes == result.scores.details["mean"]


def test_acdc_recovers_the_ground_truth_exactly():
    result = interpbench.run(case="3", method="acdc", loader="tracr")
    assert result.metrics["edge_tpr"] == 1.0
    assert result.metrics["edge_fpr"] == 0.0
    assert result.metrics["edge_auroc"] == 1.0
    assert result.thresholds, "the ROC threshold sweep is recorded"
    assert result.timings.method_seconds > 0


def test_same_seed_same_scores():
    a = interpbench.run(case="3", method="eap-ig", seed=3)
    b = interpbench.run(case="3", method="eap-ig", seed=3)
    assert a.scores == b.scores


@pytest.mark.parametrize("method", ["edge-sp", "node-sp"])
def test_subnetwork_probing_lambda_sweep_makes_the_roc(method):
    """With a lambda sweep, one training per value: a larger penalty keeps fewer items,
    the scores and selection are those of lambda_reg, and the ROC walks the circuits."""
    lambdas = [0.0, 1.0, 1000.0]
    result = interpbench.run(case="3", method=method, config={"epochs": 60, "lambda_reg": 1.0, "sweep": [0.0, 1000.0]})
    level = "edge" if method == "edge-sp" else "node"
    assert result.thresholds == lambdas
    kept = {c.threshold: set(c.selected) for c in result.scores.sweep}
    assert len(kept[0.0]) >= len(kept[1.0]) >= len(kept[1000.0])
    assert len(kept[1000.0]) < len(kept[0.0])
    assert set(result.scores.selected) == kept[1.0]
    assert result.metrics[f"{level}_tpr"] is not None
    assert (1.0, 1.0) in [tuple(p) for p in result.curves[f"{level}_roc"]]  # lambda 0 keeps everything


def test_subnetwork_probing_rejects_a_negative_lambda():
    with pytest.raises(Exception, match="lambda_reg values must be >= 0"):
        interpbench.run(case="3", method="edge-sp", config={"sweep": [-1.0]})


def test_minibatches_partition_the_data_and_keep_the_metric(task3):
    """Each minibatch is the task on its own examples: together they cover the data once,
    the full model scores 0 on each, and their metrics average to the whole data's."""
    import torch

    from interpbench.plugins.methods.subnetwork_probing import minibatches

    n = len(task3.clean)
    batches = minibatches(task3, n // 4)
    assert len(batches) == 4 and sum(len(b.clean) for b in batches) == n
    assert sorted(torch.cat([b.clean for b in batches]).tolist()) == sorted(task3.clean.tolist())
    assert minibatches(task3, None) == [task3] and minibatches(task3, n) == [task3]
    empty = torch.zeros(1, len(task3.graph.edges))
    for ablation in (task3.ablation("auto"), "mean"):  # mean ablation: the whole data's means in every minibatch
        whole = float(task3.metric(task3.engine.run(task3.engine.edge_mask(empty), ablation))[0])
        parts = [float(b.metric(b.engine.run(b.engine.edge_mask(empty), ablation))[0]) for b in batches]
        assert sum(parts) / 4 == pytest.approx(whole, rel=1e-5)
    assert all(torch.equal(b.engine.ablated_outputs("mean"), task3.engine.ablated_outputs("mean")) for b in batches)
    assert all(float(b.metric(b.clean_logits[None])[0]) == pytest.approx(0, abs=1e-7) for b in batches)


def test_subnetwork_probing_minibatched_finds_the_circuit():
    """batch_size covering the data is the full-batch run; smaller batches (the default) still
    find case 3's circuit."""
    full = interpbench.run(case="3", method="node-sp", config={"epochs": 60, "batch_size": None})
    covering = interpbench.run(case="3", method="node-sp", config={"epochs": 60, "batch_size": 10_000})
    assert covering.scores == full.scores
    mini = interpbench.run(case="3", method="node-sp", config={"epochs": 60})
    assert mini.config["batch_size"] == 50
    assert mini.metrics["node_auroc"] >= full.metrics["node_auroc"] - 0.05
