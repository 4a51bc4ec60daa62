"""Token-position edges (``--positions``): per-position masks against the hooks oracle,
per-position attributions, and the per-position ground truth of a tracr circuit."""

import pytest
import torch
from hooks_reference import run_reference, sender_activations
from test_engine_layernorm import model_with

from interpbench.engine import PatchingEngine
from interpbench.graph import ComputationalGraph, position_of
from interpbench.runner import make_task

# causal; bidirectional; a trained model with biases
CASES = [("3", "tracr"), ("13", "tracr"), ("3", "siit")]


@pytest.fixture(scope="module", params=CASES, ids=["-".join(c) for c in CASES])
def task(request):
    case, loader = request.param
    return make_task(case, loader, seed=1, n_examples=48, positions=True)


def kept_per_pair(graph, kept: torch.Tensor) -> dict:
    """{(sender, receiver): bool [P]} from per-edge values in graph.edges order."""
    P = graph.positions
    return {pair: kept[i * P : (i + 1) * P].bool() for i, pair in enumerate(graph.pairs)}


@pytest.mark.parametrize("ablation", ["resample", "mean", "zero"])
def test_per_position_masks_match_hooks(task, ablation):
    graph, engine = task.graph, task.engine
    generator = torch.Generator().manual_seed(0)
    kept = (torch.rand(4, len(graph.edges), generator=generator) > 0.3).float()
    ours = engine.run(engine.edge_mask(kept), ablation)
    acts = sender_activations(task.model, graph, task.clean)
    ablated = {
        "resample": lambda: sender_activations(task.model, graph, task.corrupted),
        "mean": lambda: {k: v.mean(0, keepdim=True).expand_as(v) for k, v in acts.items()},
        "zero": lambda: {k: torch.zeros_like(v) for k, v in acts.items()},
    }[ablation]()
    for i in range(len(kept)):
        reference = run_reference(task.model, graph, task.clean, ablated, kept_per_pair(graph, kept[i]))
        assert torch.allclose(ours[i], reference, atol=1e-5), f"circuit {i}: {(ours[i] - reference).abs().max()}"


def test_a_mask_the_same_at_every_position_is_the_pair_mask(task):
    engine = task.engine
    generator = torch.Generator().manual_seed(3)
    pairs = (torch.rand(3, engine.R, engine.S, generator=generator) > 0.5).float() * engine.valid
    every_position = pairs[..., None].expand(-1, -1, -1, task.clean.shape[1])
    assert torch.allclose(engine.run(every_position), engine.run(pairs), atol=1e-5)


def test_shared_evaluation_matches_the_differentiable_pass_and_shares_nested_circuits(task):
    """The no-grad path (each distinct node activation once) gives the differentiable
    pass's logits on fractional per-position masks, and circuits that share node inputs compute fewer
    node activations than its circuits one by one (a circuit leaving every node clean
    computes none)."""
    engine = task.engine
    generator = torch.Generator().manual_seed(4)
    P = task.clean.shape[1]
    mask = torch.rand(4, engine.R, engine.S, P, generator=generator) * (torch.rand(4, engine.R, engine.S, P) > 0.4)
    shared = engine.run(mask)
    dense = engine.run(mask.clone().requires_grad_(True)).detach()
    assert torch.allclose(shared, dense, atol=1e-5)
    # circuits that differ only at the output: every node's inputs are the same in all of them
    nested = (mask[:1] > 0.5).float().repeat(6, 1, 1, 1)
    for i in range(6):
        nested[i, -1, :, : i + 1] = 0.0
    engine.run(nested)
    together = engine.node_evaluations
    alone = 0
    for circuit in nested:
        engine.run(circuit[None])
        alone += engine.node_evaluations
    assert 0 < together < alone


def test_per_position_attributions_sum_to_the_pair_attributions(task):
    engine = task.engine
    embed, pos = engine.embeddings(task.clean)
    target = lambda logits: logits[:, 1:].sum()  # noqa: E731
    _, grads, _ = engine.receiver_gradients(target, embed, pos)
    delta = engine.clean_out - engine.corrupted_out
    per_position = engine.edge_attributions(grads, delta)  # [R, S, P, B]
    assert per_position.shape == (engine.R, engine.S, task.clean.shape[1], task.clean.shape[0])
    expected = torch.einsum("rbpd,sbpd->rspb", grads, delta) * engine.valid[..., None, None]
    assert torch.allclose(per_position, expected, atol=1e-5 * float(expected.abs().max()))
    _, from_pass, _ = engine.attribution_pass(target, embed, pos, delta)
    assert torch.allclose(from_pass, per_position, atol=1e-5 * float(expected.abs().max()))
    values = engine.per_edge(per_position.sum(-1))  # graph.edges order: pair-major, then position
    s, r = position_of(task.graph.edges[1][0]), position_of(task.graph.edges[1][1])
    assert s[1] == r[1] == 1
    assert values[1] == per_position[task.graph.receiver_index[r[0]], task.graph.sender_index[s[0]], 1].sum()


def test_per_position_masks_match_hooks_with_layernorm():
    model = model_with("LN")
    graph = ComputationalGraph(2, 4, positions=6)
    generator = torch.Generator().manual_seed(2)
    clean, corrupted = (torch.randint(0, 7, (16, 6), generator=generator) for _ in range(2))
    engine = PatchingEngine(model, graph, clean, corrupted)
    kept = (torch.rand(3, len(graph.edges), generator=generator) > 0.5).float()
    ours = engine.run(engine.edge_mask(kept))
    ablated = sender_activations(model, graph, corrupted)
    for i in range(len(kept)):
        reference = run_reference(model, graph, clean, ablated, kept_per_pair(graph, kept[i]))
        assert torch.allclose(ours[i], reference, atol=1e-5)


def test_a_graph_with_other_positions_than_the_data_is_refused():
    model = model_with("LN")
    tokens = torch.zeros(2, 6, dtype=torch.long)
    with pytest.raises(ValueError, match="5 positions, the data 6"):
        PatchingEngine(model, ComputationalGraph(2, 4, positions=5), tokens, tokens)


def test_the_ground_truth_holds_each_edge_where_it_reaches_a_scored_position():
    """Case 1 (is the token the one two places back?, causal, 10 positions): its head reads
    keys and values two positions before each query, so keys and values at the last two
    positions are no one's; BOS's output is not scored, so nothing at BOS is needed but the
    key and value the query at position 1 finds there."""
    task = make_task("1", "tracr", n_examples=64, positions=True)
    truth = {(position_of(s), position_of(r)) for s, r in task.ground_truth.edge_set()}

    def at(sender, receiver):
        return sorted(p for (s, p), (r, _) in truth if (s, r) == (sender, receiver))

    assert at("hook_embed", "blocks.0.hook_v_input[0]") == list(range(8))
    assert at("hook_pos_embed", "blocks.0.hook_k_input[0]") == list(range(8))
    assert at("hook_pos_embed", "blocks.0.hook_q_input[0]") == list(range(1, 10))
    assert at("blocks.0.hook_mlp_out", "blocks.0.hook_resid_post") == list(range(1, 10))
    pairs = {(position_of(s)[0], position_of(r)[0]) for s, r in task.ground_truth.edge_set()}
    assert pairs == task.loaded.circuit.edge_set()  # every pair of the circuit, at some positions


def test_every_builtin_method_runs_on_position_edges():
    """Each method scores every edge at every position (or every node), and the record
    says the run was per position."""
    from interpbench import registry
    from interpbench.registry import BUILTIN_DISTRIBUTION
    from interpbench.runner import run

    P = make_task("3", "tracr", n_examples=8).clean.shape[1]
    for info in registry.methods():
        if info.plugin != BUILTIN_DISTRIBUTION:
            continue
        result = run("3", info.name, n_examples=24, positions=True)
        assert result.positions and result.status == "ok", info.name
        if result.level == "edge":
            names = {e.sender for e in result.scores.edges}
            assert {position_of(n)[1] for n in names} == set(range(P)), info.name
        assert result.metrics["edge_auroc"] is not None, info.name
