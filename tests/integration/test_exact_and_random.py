"""The brute-force reference (``exact``) and the chance-level floor (``random``)."""

import pytest
import torch

import interpbench
from interpbench.plugins.methods.exact import single_edge_effects


def test_exact_effects_are_single_edge_patching(task3):
    ablation = task3.ablation("auto")
    effects = single_edge_effects(task3, ablation)
    assert len(effects) == len(task3.graph.edges)
    assert single_edge_effects(task3, ablation, memory_mb=1) == pytest.approx(effects, abs=1e-6), "batching"
    for i in range(len(task3.graph.edges)):
        kept = torch.ones(1, len(task3.graph.edges))
        kept[0, i] = 0
        alone = float(task3.metric(task3.engine.run(task3.engine.edge_mask(kept), ablation))[0])
        assert effects[i] == pytest.approx(alone, rel=1e-5, abs=1e-7)


def test_exact_finds_the_compiled_circuit():
    result = interpbench.run(case="3", method="exact")
    assert result.status == "ok"
    assert result.metrics["edge_auroc"] == 1.0 and result.metrics["edge_tpr"] == 1.0


def test_random_is_seeded_and_at_chance():
    first, again = (interpbench.run(case="3", method="random", seed=1) for _ in range(2))
    other = interpbench.run(case="3", method="random", seed=2)
    assert first.metrics["edge_auroc"] == again.metrics["edge_auroc"]
    assert [e.score for e in first.scores.edges] != [e.score for e in other.scores.edges]
    assert 0.0 <= first.metrics["edge_auroc"] <= 1.0


def test_mib_measures_on_a_compiled_case():
    result = interpbench.run(case="3", method="exact")
    m = result.metrics
    f = dict(result.curves["mib_faithfulness"])
    assert f[1.0] == pytest.approx(1.0)  # every edge kept: the full model
    assert 0 < m["mib_cpr"] <= 0.999 + 1e-9 and m["mib_cmd"] >= 0
    assert m["edge_auprc"] == 1.0 and m["edge_auroc_mib"] <= m["edge_auroc_trapezoid"] + 1e-9
    floor = interpbench.run(case="3", method="random", seed=0).metrics
    assert floor["mib_cpr"] < m["mib_cpr"] and floor["edge_auprc"] < 1.0


def test_clean_corrupted_averages_the_gradient_at_both_ends(task3):
    from interpbench.plugins.methods.eap import EAPConfig, attribution_scores, attribution_target

    engine, ablation = task3.engine, task3.ablation("auto")
    target = attribution_target(task3, task3.clean_logits.argmax(-1)[:, 1:])
    clean = engine.embeddings(task3.clean)
    ablated = [a.expand_as(c) for a, c in zip(engine.ablated_outputs(ablation)[:2], clean)]
    grads = [engine.receiver_gradients(target, *point)[1] for point in (clean, ablated)]
    expected = attribution_scores(task3, (grads[0] + grads[1]) / 2, ablation)
    got = interpbench.run(case="3", method="clean-corrupted").scores
    assert [e.score for e in got.edges] == pytest.approx(expected, rel=1e-5, abs=1e-8)
    assert got.edges and EAPConfig().score == "abs-mean"


def test_ifr_shares_are_l1_proximities_normalised_over_the_senders(task3):
    from interpbench.plugins.methods.ifr import importances

    engine, graph = task3.engine, task3.graph
    values = dict(zip(graph.edges, importances(task3)))
    receiver = graph.receivers[-1].name  # the output: every sender feeds it
    senders = [s.name for s in graph.senders]
    outputs = {s: engine.clean_out[graph.sender_index[s]] for s in senders}
    total = engine.clean_receiver_input(graph.receiver_index[receiver])
    proximity = {s: (total.abs().sum(-1) - (total - outputs[s]).abs().sum(-1)).clamp(min=0) for s in senders}
    norm = sum(proximity.values()).clamp(min=1e-12)
    for s in senders:
        assert values[(s, receiver)] == pytest.approx(float((proximity[s] / norm).mean()), rel=1e-5, abs=1e-7)
    shares = [values[(s, receiver)] for s in senders]
    assert 0.99 < sum(shares) < 1.01  # one receiver's shares sum to one, wherever a part is near


def test_ifr_runs_as_a_method():
    result = interpbench.run(case="3", method="ifr")
    assert result.status == "ok" and 0 <= result.metrics["edge_auroc"] <= 1
