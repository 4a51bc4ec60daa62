"""The patching engine on models with normalization (GPT-2-like LayerNorm, folded LNPre,
RMSNorm): patched before each receiver's normalization, which is recomputed, exactly as
TransformerLens hooks on hook_q_input / hook_mlp_in / hook_resid_post give."""

import pytest
import torch
from hooks_reference import receiver_gradients_reference, run_reference, sender_activations

from interpbench.engine import PatchingEngine
from interpbench.graph import ComputationalGraph


def model_with(normalization: str, attn_only: bool = False, kind: str = "gpt2"):
    """``kind``: gpt2 (learned positions), pythia (rotary on half of each head, halves
    paired, attention parallel to the MLP), llama (rotary, adjacent pairs, gated MLP)."""
    from transformer_lens import HookedTransformer, HookedTransformerConfig

    rotary = {
        "gpt2": {},
        "pythia": dict(
            positional_embedding_type="rotary", rotary_dim=2, rotary_adjacent_pairs=False, parallel_attn_mlp=True
        ),
        "llama": dict(positional_embedding_type="rotary", rotary_dim=4, rotary_adjacent_pairs=True, gated_mlp=True),
    }[kind]
    cfg = HookedTransformerConfig(
        n_layers=2, d_model=16, n_heads=4, d_head=4, d_mlp=None if attn_only else 32, d_vocab=7, n_ctx=6,
        act_fn="silu" if kind == "llama" else "gelu", normalization_type=normalization, attn_only=attn_only,
        use_attn_result=True, use_split_qkv_input=True, use_hook_mlp_in=not attn_only, seed=0, **rotary,
    )  # fmt: skip
    model = HookedTransformer(cfg)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():  # LayerNorm weights away from 1 and 0 too
            if name.endswith(("ln1.w", "ln2.w", "ln_final.w")):
                p.copy_(1 + 0.5 * torch.randn(p.shape, generator=generator))
            elif name.endswith(("ln1.b", "ln2.b", "ln_final.b")):
                p.copy_(0.3 * torch.randn(p.shape, generator=generator))
            elif name.endswith(("b_O", "b_Q", "b_K", "b_V", "b_in", "b_out")):  # biases, which start at 0
                p.copy_(0.1 * torch.randn(p.shape, generator=generator))
    return model.eval()


KINDS = [
    ("LN", False, "gpt2"),
    ("LNPre", False, "gpt2"),
    ("RMS", False, "gpt2"),
    ("LN", True, "gpt2"),  # attention-only
    (None, True, "gpt2"),
    ("LN", False, "pythia"),  # rotary queries and keys, attention parallel to the MLP
    ("RMS", False, "llama"),  # rotary, gated MLP
]


@pytest.mark.parametrize("normalization, attn_only, kind", KINDS)
def test_patched_runs_match_hooks_with_normalization(normalization, attn_only, kind):
    model = model_with(normalization, attn_only, kind)
    graph = ComputationalGraph(2, 4, has_mlps=not attn_only, parallel=kind == "pythia")
    generator = torch.Generator().manual_seed(2)
    clean, corrupted = (torch.randint(0, 7, (24, 6), generator=generator) for _ in range(2))
    engine = PatchingEngine(model, graph, clean, corrupted)
    assert torch.allclose(engine.run(engine.valid[None])[0], model(clean), atol=1e-5)
    kept = (torch.rand(5, len(graph.edges), generator=generator) > 0.5).float()
    kept[0] = 0.0
    ours = engine.run(engine.edge_mask(kept), "resample")
    ablated = sender_activations(model, graph, corrupted)
    for i in range(len(kept)):
        reference = run_reference(
            model, graph, clean, ablated, {e: bool(kept[i, j]) for j, e in enumerate(graph.edges)}
        )
        assert torch.allclose(ours[i], reference, atol=1e-5), f"circuit {i}: {(ours[i] - reference).abs().max()}"
    # the differentiable pass agrees with the shared one
    soft = kept[1:2].clone().requires_grad_(True)
    assert torch.allclose(engine.run(engine.edge_mask(soft), "resample")[0], ours[1], atol=1e-5)


@pytest.mark.parametrize("normalization, attn_only, kind", KINDS)
def test_receiver_gradients_and_attributions_match_hooks(normalization, attn_only, kind):
    """EAP's quantities: the gradient at every receiver's input (before its normalization)
    as TransformerLens hooks see it, and the edge attributions of the pass that does not
    keep them."""
    model = model_with(normalization, attn_only, kind)
    graph = ComputationalGraph(2, 4, has_mlps=not attn_only, parallel=kind == "pythia")
    generator = torch.Generator().manual_seed(3)
    clean, corrupted = (torch.randint(0, 7, (12, 6), generator=generator) for _ in range(2))
    engine = PatchingEngine(model, graph, clean, corrupted)
    target = lambda logits: logits[:, 1:].log_softmax(-1)[..., 0].sum()  # noqa: E731
    embed, pos = engine.embeddings(clean)
    _, grads, _ = engine.receiver_gradients(target, embed, pos)
    _, expected = receiver_gradients_reference(model, graph, clean, target, {})
    for r, receiver in enumerate(graph.receivers):
        assert torch.allclose(grads[r], expected[receiver.name], atol=1e-5), receiver.name
    delta = engine.clean_out - engine.corrupted_out
    _, attributions, _ = engine.attribution_pass(target, embed, pos, delta)
    per_edge = torch.stack([(delta[engine.edge_s[i]] * grads[r]).sum((1, 2)) for i, r in enumerate(engine.edge_r)])
    assert torch.allclose(attributions[engine.edge_r, engine.edge_s], per_edge, atol=1e-5)


@pytest.mark.parametrize(
    "setting, named",
    [
        (dict(positional_embedding_type="shortformer"), "shortformer positional embeddings"),
        (dict(positional_embedding_type="alibi"), "alibi positional embeddings"),
        (dict(n_key_value_heads=1), "grouped-query attention"),
        (dict(window_size=2, attn_types=["local"]), "local attention"),
        (dict(act_fn="solu_ln"), "a LayerNorm inside the MLP"),
    ],
)
def test_what_the_engine_would_compute_wrong_is_refused_in_one_line(setting, named):
    """Each config feature the engine does not implement is named, not silently dropped."""
    from transformer_lens import HookedTransformer, HookedTransformerConfig

    cfg = HookedTransformerConfig(
        **{**dict(n_layers=1, d_model=8, n_heads=2, d_head=4, d_mlp=16, d_vocab=5, n_ctx=4, act_fn="gelu",
                  use_attn_result=True, use_split_qkv_input=True, use_hook_mlp_in=True), **setting}
    )  # fmt: skip
    tokens = torch.zeros(2, 4, dtype=torch.long)
    with pytest.raises(ValueError, match=f"does not support .*{named}") as refused:
        PatchingEngine(HookedTransformer(cfg), ComputationalGraph(1, 2), tokens, tokens)
    assert "\n" not in str(refused.value)
