"""Node ablation: how much does the output move when one head or MLP is ablated?"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from interpbench import MethodConfig, Scores

if TYPE_CHECKING:
    from interpbench import Ablation, DiscoveryTask


class NodeAblationConfig(MethodConfig):
    """Args:
    score: which ablation's effect ranks the nodes (resample and mean effects are
        always reported; auto adds the loader's default ablation and ranks by it).
    threshold: a node whose effect is at least this is kept in the circuit.
    """

    score: Literal["auto", "resample", "mean", "zero", "zero-except-embed"] = Field(
        "auto", description="Which ablation's effect ranks the nodes; auto is the loader's default ablation."
    )
    threshold: float = Field(1e-4, ge=0, description="Nodes whose effect is at least this are in the circuit.")


def node_effects(task: DiscoveryTask, ablation: Ablation) -> dict[str, float]:
    """Validation metric with each node ablated in turn: all nodes in one batched pass."""
    import torch

    n = len(task.graph.nodes)
    kept = 1.0 - torch.eye(n)  # circuit i lacks node i
    with torch.no_grad():
        values = task.engine.run(task.engine.node_mask(kept), ablation, reduce=task.metric)
    return dict(zip(task.graph.nodes, values.tolist()))


def run(task: DiscoveryTask, config: NodeAblationConfig) -> Scores:
    ranked_by = task.ablation(config.score)
    kinds = dict.fromkeys(["resample", "mean", ranked_by])  # ordered, without repeats
    effects = {kind: node_effects(task, kind) for kind in kinds}
    ranking = effects[ranked_by]
    return Scores(
        level="node",
        nodes=ranking,
        selected=[n for n, v in ranking.items() if v >= config.threshold],
        details=effects,
    )


METHODS = [
    dict(
        name="node-ablation",
        description="Scores each head and MLP by the metric change when it is resample- or mean-ablated.",
        level="node",
        config=NodeAblationConfig,
        run=run,
    )
]
