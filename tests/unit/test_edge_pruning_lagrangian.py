"""Edge pruning's parts without a model: the Lagrangian's multipliers, its schedules, and
how the circuit is read off the learned masks."""

import pytest
import torch

from interpbench.graph import ComputationalGraph
from interpbench.plugins.methods.edge_pruning import EdgePruningConfig, lr_factor, prune, read_off, target_at
from interpbench.plugins.methods.hard_concrete import keep_probability


def no_faithfulness(step, z):
    """A model no edge matters to: only the Lagrangian moves the masks."""
    return (0 * z).sum()


def test_one_ascent_step_moves_the_multipliers_by_the_learning_rate_towards_the_target():
    """Masks near "keep all" have sparsity about 0.1, below a target of 0.9: the term
    λ1 (s - t) + λ2 (s - t)² is maximised in λ, so Adam's first step (a step of lr in the
    gradient's sign) takes λ1 to -lr (its gradient s - t is negative, and a negative λ1
    rewards sparsity) and λ2 to +lr (its gradient (s - t)² is positive). Above the target
    λ1 turns positive instead."""
    config = EdgePruningConfig(steps=1, sparsity_warmup_steps=0, lr_warmup_steps=0, lambda_lr=0.1)
    _, (l1, l2) = prune(40, no_faithfulness, config, target=0.9, seed=0)
    assert float(l1) == pytest.approx(-0.1, rel=1e-4) and float(l2) == pytest.approx(0.1, rel=1e-4)
    _, (l1, l2) = prune(40, no_faithfulness, config, target=0.0, seed=0)
    assert float(l1) == pytest.approx(0.1, rel=1e-4) and float(l2) == pytest.approx(0.1, rel=1e-4)


@pytest.mark.parametrize("start, target", [(3.0, 1.0), (-2.0, 0.0)])
def test_the_lagrangian_drives_the_masks_towards_the_target(start, target):
    """From masks denser than the target, training removes edges; from sparser ones, it
    restores them. λ2 grows either way, and λ1 takes the sign of the sparsity's gap (which
    never changes: no draw is sparser than 1 or denser than 0)."""
    config = EdgePruningConfig(steps=60, sparsity_warmup_steps=0, lr_warmup_steps=0, mask_lr=0.5, init_log_alpha=start)
    n = 40
    before = float(keep_probability(torch.full((n,), start)).mean())
    log_alpha, (l1, l2) = prune(n, no_faithfulness, config, target=target, seed=0)
    after = float(keep_probability(log_alpha).mean())
    too_dense = 1 - before < target
    assert float(l2) > 0
    assert (float(l1) < 0) == too_dense
    assert (after < before - 0.2) if too_dense else (after > before + 0.2)


def test_schedules():
    """The target rises linearly from 0 over its warmup; the learning rates rise over theirs
    and fall linearly to 0 at the last step (transformers' linear schedule with warmup)."""
    config = EdgePruningConfig(steps=10, sparsity_warmup_steps=4, lr_warmup_steps=2)
    assert [target_at(s, config, 0.8) for s in (0, 2, 4, 9)] == pytest.approx([0.0, 0.4, 0.8, 0.8])
    assert [lr_factor(s, config) for s in (0, 1, 2, 6, 10)] == pytest.approx([0.0, 0.5, 1.0, 0.5, 0.0])
    with pytest.raises(ValueError, match="sparsity_warmup_steps \\(250\\) exceeds steps \\(100\\)"):
        EdgePruningConfig(steps=100)
    with pytest.raises(ValueError, match="target sparsities must be >= 0"):
        EdgePruningConfig(sweep=[-0.5])


def test_read_off_keeps_the_expected_number_per_mask_tensor():
    """One layer, one head, no MLP: the q, k and v inputs read the two embeddings (three
    tensors of two edges) and the final residual stream reads them and the head (three
    edges). Per tensor, round(Σ P(z > 0)) edges of highest log α stay, less those whose
    deterministic mask sigmoid(1.2 log α) is at most the threshold."""
    graph = ComputationalGraph(n_layers=1, n_heads=1, has_mlps=False)
    index = {edge: i for i, edge in enumerate(graph.edges)}
    log_alpha = torch.full((len(graph.edges),), -20.0)  # P(z > 0) ≈ 0 everywhere

    def set_(sender, receiver, value):
        log_alpha[index[(sender, receiver)]] = value

    q, k = "blocks.0.hook_q_input[0]", "blocks.0.hook_k_input[0]"
    out, head = "blocks.0.hook_resid_post", "blocks.0.attn.hook_result[0]"
    set_("hook_embed", q, 20.0)  # q: one edge certain, one not: keeps 1
    set_("hook_pos_embed", k, -1.6)  # k: P(z > 0) = sigmoid(0.0) = 0.5 for both: round(1.0) keeps 1, the higher
    set_("hook_embed", k, -1.59)
    for sender in ("hook_embed", "hook_pos_embed", head):  # out: three at P = 0.5 and 0.9, 0.9: round(2.3) keeps 2
        set_(sender, out, -1.6)
    set_(head, out, 0.6)
    set_("hook_pos_embed", out, 0.6)
    kept = {edge for edge, keep in zip(graph.edges, read_off(graph, log_alpha, threshold=0.005)) if keep}
    assert kept == {("hook_embed", q), ("hook_embed", k), (head, out), ("hook_pos_embed", out)}
    # sigmoid(1.2 · -1.59) = 0.129: a threshold above it drops the k edge the count kept
    kept = {edge for edge, keep in zip(graph.edges, read_off(graph, log_alpha, threshold=0.2)) if keep}
    assert kept == {("hook_embed", q), (head, out), ("hook_pos_embed", out)}
