"""Our ACDC (thresholds in lockstep, chains of candidates per batched pass, each chain
betting on how the next edges go) keeps exactly the edges that textbook ACDC keeps: one
edge at a time, receivers from the output back, each edge removed when the metric moves
by less than the threshold."""

import pytest
import torch

from interpbench import DiscoveryTask, LoadedModel, kl_from_baseline, registry
from interpbench.plugins.methods.acdc import _reaches_output, acdc
from interpbench.schemas import Circuit


def random_task(seed: int = 0, positions: bool = False) -> DiscoveryTask:
    from transformer_lens import HookedTransformer, HookedTransformerConfig

    cfg = HookedTransformerConfig(
        n_layers=2, n_heads=3, d_model=24, d_head=8, d_mlp=48, d_vocab=11, n_ctx=5, act_fn="gelu",
        normalization_type="LN", use_attn_result=True, use_split_qkv_input=True, use_hook_mlp_in=True, seed=seed,
    )  # fmt: skip
    model = HookedTransformer(cfg).eval()
    generator = torch.Generator().manual_seed(seed)
    clean, corrupted = (torch.randint(0, 11, (16, 5), generator=generator) for _ in range(2))
    loaded = LoadedModel(
        model=model, circuit=Circuit(level="edge", nodes=[], edges=[]), input_encoding={}, categorical=True
    )
    case = registry.get_case("3")
    return DiscoveryTask(case=case, loaded=loaded, clean=clean, corrupted=corrupted, seed=seed, positions=positions)


def textbook_acdc(task: DiscoveryTask, threshold: float, metric) -> set[int]:
    """One edge at a time; with token positions an edge is a sender at a position, and a
    receiver is visited at the positions where its node still reaches the output."""
    engine, graph = task.engine, task.graph
    P = engine.positions or 1
    mask = engine.valid[:, :, None].repeat(1, 1, P)  # [R, S, P]

    def metric_of(m):
        return float(metric(engine.run((m if engine.positions else m[..., 0])[None], "resample"))[0])

    with torch.no_grad():
        current = metric_of(mask)
        for r in reversed(range(engine.R)):
            mask[r, :, ~_reaches_output(graph, mask, r, engine.causal)] = 0.0
            for s in reversed(range(engine.S)):
                for p in reversed(range(P)):
                    if mask[r, s, p] == 0:
                        continue
                    mask[r, s, p] = 0.0
                    value = metric_of(mask)
                    if value - current < threshold:
                        current = value
                    else:
                        mask[r, s, p] = 1.0
    present = engine.per_edge(mask if engine.positions else mask[..., 0]) > 0
    return set(present.nonzero().flatten().tolist())


@pytest.mark.parametrize("seed, positions", [(0, False), (1, False), (0, True)])
def test_lockstep_acdc_keeps_what_textbook_acdc_keeps(seed, positions):
    task = random_task(seed, positions)
    metric = kl_from_baseline(task.clean_logits)
    thresholds = [1e-5, 1e-4, 1e-3, 1e-2, 3e-2, 1e-1]
    kept, passes = acdc(task, thresholds, metric, "resample")
    fractions = [len(k) / len(task.graph.edges) for k in kept]
    assert max(fractions) > 0.6 and min(fractions) < 0.2  # dense and sparse circuits both tried
    for threshold, ours in zip(thresholds, kept):
        assert ours == textbook_acdc(task, threshold, metric), f"threshold {threshold}"
    assert passes < len(task.graph.edges)  # batched: fewer passes than edges


def test_bets_follow_what_a_pass_costs():
    from interpbench.plugins.methods.acdc import PassCost, _trees

    cost = PassCost()
    for circuits in (1, 4, 8, 2, 6):  # 50 ms a pass plus 5 ms a circuit
        cost.add(circuits, 0.050 + 0.005 * circuits)
    assert cost.overhead_in_circuits() == pytest.approx(10.0)
    # each circuit costs all (a GPT-2-sized unembedding): one bet per threshold with edges left, as textbook ACDC
    assert [len(tree) for tree in _trees([5, 0, 3], [0.5, 0.5, 0.5], overhead=0.0)] == [1, 0, 1]
    # a pass that is mostly overhead: a tree of several bets, the likelier path deeper
    tree = _trees([20], [0.1], overhead=10.0)[0]
    depth_of_removals = max(depth for depth, _ in tree)
    assert len(tree) > 3 and depth_of_removals >= 3
    assert len(tree) < len(_trees([20], [0.1], overhead=40.0)[0])
