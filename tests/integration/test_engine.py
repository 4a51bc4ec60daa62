"""The patching engine against the oracle: plain TransformerLens hooks."""

import pytest
import torch
from hooks_reference import receiver_gradients_reference, run_reference, sender_activations

from interpbench.runner import make_task

# 1 head/layer numeric; 2 heads in a layer; 2 heads numeric; bidirectional; and a trained
# model, whose biases (tracr's are zero) every receiver's input must carry exactly once
CASES = [("3", "tracr"), ("18", "tracr"), ("4", "tracr"), ("13", "tracr"), ("3", "siit")]
ABLATIONS = ["resample", "mean", "zero", "zero-except-embed"]


@pytest.fixture(scope="module", params=CASES, ids=["-".join(c) for c in CASES])
def task(request):
    case, loader = request.param
    return make_task(case, loader, seed=1, n_examples=64)


def oracle_ablations(task, kind):
    acts = sender_activations(task.model, task.graph, task.clean)
    if kind == "resample":
        return sender_activations(task.model, task.graph, task.corrupted)
    if kind == "mean":
        return {k: v.mean(0, keepdim=True).expand_as(v) for k, v in acts.items()}
    zeros = {k: torch.zeros_like(v) for k, v in acts.items()}
    if kind == "zero-except-embed":
        zeros["hook_embed"] = acts["hook_embed"].mean(0, keepdim=True).expand_as(acts["hook_embed"])
    return zeros


@pytest.mark.parametrize("kind", ABLATIONS)
def test_random_edge_masks_match_hooks(task, kind):
    generator = torch.Generator().manual_seed(0)
    edges = task.graph.edges
    kept = (torch.rand(6, len(edges), generator=generator) > 0.5).float()
    kept[0] = 1.0  # the full model
    kept[1] = 0.0  # the empty circuit
    ours = task.engine.run(task.engine.edge_mask(kept), kind)
    ablated = oracle_ablations(task, kind)
    for i in range(len(kept)):
        reference = run_reference(
            task.model, task.graph, task.clean, ablated, {e: bool(kept[i, j]) for j, e in enumerate(edges)}
        )
        assert torch.allclose(ours[i], reference, atol=1e-5), f"circuit {i}: {(ours[i] - reference).abs().max()}"


def test_full_mask_is_the_model(task):
    logits = task.engine.run(task.engine.valid[None])
    assert torch.allclose(logits[0], task.model(task.clean), atol=1e-5)


def test_node_masks_ablate_every_outgoing_edge(task):
    engine, graph = task.engine, task.graph
    node = graph.nodes[-1]
    by_node = engine.run(engine.node_mask(torch.tensor([[n != node for n in graph.nodes]], dtype=torch.float)), "zero")
    by_edges = engine.run(
        engine.edge_mask(torch.tensor([[s != node for s, _ in graph.edges]], dtype=torch.float)), "zero"
    )
    assert torch.allclose(by_node, by_edges, atol=1e-6)


@pytest.mark.parametrize("kind", ABLATIONS)
def test_node_runs_match_node_masks_in_value_and_gradient(task, kind):
    """run_nodes (one running sum per pass) is run(node_mask(...)) computed faster."""
    engine, n = task.engine, len(task.graph.nodes)
    kept = torch.rand(3, n, generator=torch.Generator().manual_seed(2))
    dense, by_nodes = kept.clone().requires_grad_(True), kept.clone().requires_grad_(True)
    a, b = engine.run(engine.node_mask(dense), kind), engine.run_nodes(by_nodes, kind)
    assert torch.allclose(a, b, atol=1e-5)
    task.metric(a).sum().backward()
    task.metric(b).sum().backward()
    assert torch.allclose(dense.grad, by_nodes.grad, atol=1e-5, rtol=1e-4)
    with torch.no_grad():
        assert torch.allclose(engine.run_nodes(kept, kind), engine.run(engine.node_mask(kept), kind), atol=1e-5)


def test_batched_equals_one_by_one_and_duplicates_are_free(task):
    engine = task.engine
    generator = torch.Generator().manual_seed(1)
    kept = (torch.rand(4, len(task.graph.edges), generator=generator) > 0.3).float()
    kept = torch.cat([kept, kept[:2]])  # duplicates
    batched = engine.run(engine.edge_mask(kept), "resample")
    for i in range(len(kept)):
        single = engine.run(engine.edge_mask(kept[i : i + 1]), "resample")[0]
        assert torch.allclose(batched[i], single, atol=1e-5)
    tiny = engine.run(engine.edge_mask(kept), "resample", memory_mb=0)  # one circuit per chunk
    assert torch.allclose(tiny, batched, atol=1e-6)
    # a metric reduced chunk by chunk (no circuit's logits kept) is the metric of the logits
    for memory_mb in (512, 0):
        reduced = engine.run(engine.edge_mask(kept), "resample", memory_mb=memory_mb, reduce=task.metric)
        assert torch.allclose(reduced, task.metric(batched), atol=1e-6)
    fractional = engine.edge_mask(kept * 0.5).requires_grad_()
    assert torch.allclose(engine.run(fractional, reduce=task.metric), task.metric(engine.run(fractional)))


def test_late_changes_reuse_the_clean_pass(task):
    """A mask that only ablates edges into the output computes no node, yet equals the
    full computation."""
    engine, graph = task.engine, task.graph
    last = graph.receivers[-1].name
    kept = torch.tensor([[0.0 if r == last and i % 2 else 1.0 for i, (_, r) in enumerate(graph.edges)]])
    logits = engine.run(engine.edge_mask(kept), "resample")[0]
    assert engine.node_evaluations == 0
    ablated = oracle_ablations(task, "resample")
    reference = run_reference(
        task.model, graph, task.clean, ablated, {e: bool(kept[0, j]) for j, e in enumerate(graph.edges)}
    )
    assert torch.allclose(logits, reference, atol=1e-5)


def test_no_circuits_no_logits(task):
    B, P = task.clean.shape
    assert task.engine.run(task.engine.valid[None][:0]).shape == (0, B, P, task.model.cfg.d_vocab_out)


def test_nodes_cut_off_from_the_logits_are_not_computed(task):
    engine = task.engine
    engine.run(engine.edge_mask(torch.zeros(1, len(task.graph.edges))), "zero")
    assert engine.node_evaluations == 0  # the empty circuit: every node's output is ablated


def test_a_threshold_sweep_shares_activations(task):
    """Nested circuits (a ROC sweep of scores) cost fewer node evaluations batched than
    one at a time, with the same logits."""
    engine, edges = task.engine, task.graph.edges
    scores = torch.rand(len(edges), generator=torch.Generator().manual_seed(2))
    kept = (scores[None] >= scores.sort().values[:, None]).float()  # one point per edge
    masks = engine.edge_mask(kept)
    batched = engine.run(masks, "resample")
    shared = engine.node_evaluations
    alone = 0
    for i in range(len(masks)):
        assert torch.allclose(batched[i], engine.run(masks[i : i + 1], "resample")[0], atol=1e-5)
        alone += engine.node_evaluations
    assert 0 < shared < alone


def test_fractional_masks_are_differentiable(task):
    engine = task.engine
    kept = torch.rand(3, len(task.graph.edges), generator=torch.Generator().manual_seed(3)).requires_grad_(True)
    logits = engine.run(engine.edge_mask(kept), "zero")
    assert torch.allclose(logits, engine.run(engine.edge_mask(kept.detach()), "zero"), atol=1e-5)  # same pass
    task.metric(logits).sum().backward()
    assert kept.grad is not None and torch.isfinite(kept.grad).all() and kept.grad.abs().sum() > 0


def test_receiver_gradients_match_autograd_on_hooks(task):
    """EAP's gradients at receiver inputs equal those TransformerLens hooks see."""
    engine, model = task.engine, task.model
    embed, pos = engine.embeddings(task.clean)
    target = lambda logits: logits[:, 1:].sum()  # noqa: E731
    _, grads, outputs = engine.receiver_gradients(target, embed, pos)
    assert torch.allclose(outputs, engine.clean_out, atol=1e-6)
    saved = {}

    def keep(act, hook):
        act.retain_grad()
        saved[hook.name] = act
        return act

    names = {
        f"blocks.{l}.hook_{kind}_in{'put' if kind != 'mlp' else ''}"
        for l in range(model.cfg.n_layers)
        for kind in ("q", "k", "v", "mlp")
    }
    model.zero_grad()
    logits = model.run_with_hooks(task.clean, fwd_hooks=[(lambda n: n in names, keep)])
    target(logits).backward()
    for r, receiver in enumerate(task.graph.receivers):
        if receiver.kind == "resid_post":
            continue
        if receiver.kind == "mlp":
            expected = saved[f"blocks.{receiver.layer}.hook_mlp_in"].grad
        else:  # [B, P, H, D] per layer
            expected = saved[f"blocks.{receiver.layer}.hook_{receiver.kind}_input"].grad[:, :, receiver.head]
        assert torch.allclose(grads[r], expected, atol=1e-5), receiver.name
        # Saturated attention (tracr's) has exactly zero gradient; rounding noise there
        # would rank edges EAP cannot see above those it scores zero.
        assert (grads[r][expected == 0] == 0).all(), receiver.name


@pytest.mark.parametrize("which", ["first-layer-heads-and-last-mlp", "one-head"])
def test_receiver_gradients_with_fixed_outputs_match_hooks(task, which):
    """Senders held at given outputs (EAP-IG over activations): the engine's logits and
    receiver gradients equal those of TransformerLens hooks that overwrite the senders'
    outputs, whether a whole layer is replaced (and not computed) or one head of it."""
    engine, graph, cfg = task.engine, task.graph, task.model.cfg
    if which == "one-head":
        names = [f"blocks.{cfg.n_layers - 1}.attn.hook_result[{cfg.n_heads - 1}]"]
    else:
        names = [f"blocks.0.attn.hook_result[{h}]" for h in range(cfg.n_heads)]
        names += [f"blocks.{cfg.n_layers - 1}.hook_mlp_out"] if graph.has_mlps else []
    # Between the clean and the corrupted outputs (values the model's layers are built for),
    # plus noise, so that even a node whose output never varies changes.
    generator = torch.Generator().manual_seed(5)
    fixed = {
        n: 0.3 * engine.clean_out[graph.sender_index[n]]
        + 0.7 * engine.corrupted_out[graph.sender_index[n]]
        + 0.1 * torch.randn(engine.clean_out.shape[1:], generator=generator)
        for n in names
    }
    target = lambda logits: logits[:, 1:].sum()  # noqa: E731
    embed, pos = engine.embeddings(task.clean)
    logits, grads, outputs = engine.receiver_gradients(
        target, embed, pos, {graph.sender_index[n]: v for n, v in fixed.items()}
    )
    expected_logits, expected = receiver_gradients_reference(task.model, graph, task.clean, target, fixed)
    assert torch.allclose(logits, expected_logits, atol=1e-5)
    for n, value in fixed.items():
        assert torch.equal(outputs[graph.sender_index[n]], value)
    for r, receiver in enumerate(graph.receivers):
        assert torch.allclose(grads[r], expected[receiver.name], atol=1e-5), receiver.name
    if which != "one-head":  # the replaced layer's inputs reach the output by no path
        assert (grads[: 3 * cfg.n_heads] == 0).all()
    assert grads.abs().sum() > 0


def test_the_embeddings_cannot_be_fixed(task):
    engine = task.engine
    embed, pos = engine.embeddings(task.clean)
    with pytest.raises(ValueError, match="embed and pos"):
        engine.receiver_gradients(lambda logits: logits.sum(), embed, pos, {0: embed})


def test_eap_through_saturated_attention_matches_autograd_exactly():
    """Case 11's layer-1 head attends with a saturated (one-hot) pattern, so EAP scores
    the edges into its query and key exactly zero under TransformerLens's autograd; the
    engine must too, or rounding noise would rank edges EAP cannot see above others."""
    from interpbench.plugins.methods.eap import EAPConfig, attribution_target, run_eap

    task = make_task("11", "tracr", seed=0, n_examples=200)
    engine, model = task.engine, task.model
    scores = {(e.sender, e.receiver): e.score for e in run_eap(task, EAPConfig(ablation="zero")).edges}
    saved = {}

    def keep(act, hook):
        act.retain_grad()
        saved[hook.name] = act
        return act

    model.zero_grad()
    logits = model.run_with_hooks(
        task.clean, fwd_hooks=[("blocks.1.hook_q_input", keep), ("blocks.1.hook_k_input", keep)]
    )
    attribution_target(task)(logits).backward()
    delta = engine.clean_out[engine.graph.sender_index["blocks.0.hook_mlp_out"]]  # zero ablation
    for kind in ("q", "k"):
        grad = saved[f"blocks.1.hook_{kind}_input"].grad[:, :, 0]
        expected = torch.einsum("bpd,bpd->b", grad, delta).abs().mean().item()
        assert expected == 0.0  # the premise: saturated attention
        assert scores[("blocks.0.hook_mlp_out", f"blocks.1.hook_{kind}_input[0]")] == 0.0


def test_attribution_pass_contracts_the_gradients_it_does_not_keep(task):
    """EAP's pass without a gradient buffer gives what contracting the kept gradients gives,
    and hands its own sender outputs to a delta that needs them."""
    engine = task.engine
    embed, pos = engine.embeddings(task.clean)
    target = lambda logits: logits[:, 1:].sum()  # noqa: E731
    _, grads, _ = engine.receiver_gradients(target, embed, pos)
    expected = engine.edge_attributions(grads, engine.clean_out - engine.corrupted_out)
    seen = []

    def delta(outputs):
        seen.append(outputs)
        return outputs - engine.corrupted_out

    _, ours, outputs = engine.attribution_pass(target, embed, pos, delta)
    assert torch.allclose(seen[0], engine.clean_out, atol=1e-6) and outputs is seen[0]
    assert ours.shape == (engine.R, engine.S, task.clean.shape[0])
    assert torch.allclose(ours, expected, rtol=1e-5, atol=1e-6 * float(expected.abs().max()))
    assert (ours[engine.valid == 0] == 0).all()  # only the graph's pairs
