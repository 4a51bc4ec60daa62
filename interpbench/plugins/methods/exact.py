"""Exact edge patching: the effect of ablating each edge alone, measured, not approximated.

The brute-force reference that attribution patching (EAP, EAP-IG) approximates to first
order: one circuit per edge, the full model less that edge, each scored by the case's
validation metric against the full model (KL or L2; BOS excluded). The engine evaluates
them in batches, computing each distinct node activation once per batch, so the cost is
about one forward pass per edge whose ablation changes a node, not a full forward each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from interpbench import AblationConfig, Scores

if TYPE_CHECKING:
    from interpbench import DiscoveryTask


class ExactConfig(AblationConfig):
    """Args:
    relative_threshold: keep edges whose effect is at least this fraction of the largest.
    memory_mb: how much memory the logits of one batch of circuits may take.
    """

    relative_threshold: float = Field(
        0.01, ge=0, le=1, description="Keep edges whose effect is at least this fraction of the largest."
    )
    memory_mb: int = Field(256, ge=1, le=65536, description="Memory for one batch of circuits' logits.")


def single_edge_effects(task: DiscoveryTask, ablation, memory_mb: int = 256) -> list[float]:
    """The validation metric with edge i alone ablated, for every edge of ``task.graph.edges``."""
    import torch

    engine = task.engine
    E = len(task.graph.edges)
    per_circuit = task.clean.numel() * task.model.cfg.d_vocab_out * 4
    batch = max(1, (memory_mb << 20) // per_circuit)
    effects: list[float] = []
    with torch.no_grad():
        for start in range(0, E, batch):
            kept = torch.ones(min(batch, E - start), E)
            kept[torch.arange(len(kept)), torch.arange(start, start + len(kept))] = 0.0
            effects += engine.run(engine.edge_mask(kept), ablation, reduce=task.metric).tolist()
    return effects


def run(task: DiscoveryTask, config: ExactConfig) -> Scores:
    effects = single_edge_effects(task, task.ablation(config.ablation), config.memory_mb)
    return task.relative_selection(effects, config.relative_threshold)


METHODS = [
    dict(
        name="exact",
        description="Activation patching of every edge alone: the measured effect EAP approximates.",
        level="edge",
        config=ExactConfig,
        run=run,
    )
]
