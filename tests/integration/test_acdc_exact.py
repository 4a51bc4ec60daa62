"""Our ACDC (thresholds in lockstep, chains of candidates per batched pass, each chain
betting on how the next edges go) keeps exactly the edges that textbook ACDC keeps: one
edge at a time, receivers from the output back, each edge removed when the metric moves
by less than the threshold."""

import pytest
import torch

from interpbench import DiscoveryTask, LoadedModel, kl_from_baseline, registry
from interpbench.plugins.methods.acdc import _reaches_output, acdc
from interpbench.schemas import Circuit


def random_task(seed: int = 0) -> DiscoveryTask:
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
    return DiscoveryTask(case=registry.get_case("3"), loaded=loaded, clean=clean, corrupted=corrupted, seed=seed)


def textbook_acdc(task: DiscoveryTask, threshold: float, metric) -> set[int]:
    engine, graph = task.engine, task.graph
    mask = engine.valid.clone()[None]
    with torch.no_grad():
        current = float(metric(engine.run(mask, "resample"))[0])
        for r in reversed(range(engine.R)):
            if not _reaches_output(graph, mask[0], r):
                mask[0, r] = 0.0
                continue
            for s in reversed(range(engine.S)):
                if mask[0, r, s] == 0:
                    continue
                mask[0, r, s] = 0.0
                value = float(metric(engine.run(mask, "resample"))[0])
                if value - current < threshold:
                    current = value
                else:
                    mask[0, r, s] = 1.0
    present = mask[0, engine.edge_r, engine.edge_s] > 0
    return set(present.nonzero().flatten().tolist())


@pytest.mark.parametrize("seed", [0, 1])
def test_lockstep_acdc_keeps_what_textbook_acdc_keeps(seed):
    task = random_task(seed)
    metric = kl_from_baseline(task.clean_logits)
    thresholds = [1e-5, 1e-4, 1e-3, 1e-2, 3e-2, 1e-1]
    kept, passes = acdc(task, thresholds, metric, "resample")
    fractions = [len(k) / len(task.graph.edges) for k in kept]
    assert max(fractions) > 0.6 and min(fractions) < 0.2  # dense and sparse circuits both tried
    for threshold, ours in zip(thresholds, kept):
        assert ours == textbook_acdc(task, threshold, metric), f"threshold {threshold}"
    assert passes < len(task.graph.edges)  # batched: fewer passes than edges
