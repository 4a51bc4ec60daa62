"""Information flow routes (Ferrando & Voita 2024): which senders a receiver's input is
made of, from one clean forward pass, with no ablation and no gradient.

A receiver's input is a sum of its senders' outputs (and biases), y = Σ_s c_s. The paper
scores each part by its L1 proximity to the sum, ``max(0, ||y||_1 - ||y - c_s||_1)``,
normalised over the parts so they sum to one. Here that is computed at every example and
position, and an edge's score is the mean over them. Departure from the paper: its routes
are drawn per token (attention's contributions split by source position, a threshold per
route); our graph has no token positions, so positions are averaged, and the selection is a
``threshold`` on the averaged importance (the paper's τ).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from interpbench import MethodConfig, Scores, edge_key

if TYPE_CHECKING:
    from interpbench import DiscoveryTask


class IFRConfig(MethodConfig):
    """Args:
    threshold: keep edges whose mean importance is at least this (the paper's τ).
    """

    threshold: float = Field(0.04, ge=0, le=1, description="Keep edges whose mean importance is at least this.")


def importances(task: DiscoveryTask) -> list[float]:
    """Per edge of ``task.graph.edges``: the sender's mean share of its receiver's input
    (over examples and positions, or at the edge's position)."""
    import torch

    engine = task.engine
    outputs = engine.clean_out  # [S, B, P, D]
    P = engine.positions
    per_position = P is not None
    scores = torch.zeros((engine.R, engine.S, P) if P is not None else (engine.R, engine.S))
    with torch.no_grad():
        for r in range(engine.R):
            senders = engine.valid[r].nonzero()[:, 0]
            parts = outputs[senders]  # [k, B, P, D]
            total = engine.clean_receiver_input(r)  # the sum of the parts (and the biases)
            proximity = (total.abs().sum(-1) - (total - parts).abs().sum(-1)).clamp(min=0)  # [k, B, P]
            share = proximity / proximity.sum(0).clamp(min=1e-12)
            scores[r, senders] = share.mean(1) if per_position else share.mean((1, 2))
    return engine.per_edge(scores).tolist()


def run(task: DiscoveryTask, config: IFRConfig) -> Scores:
    values = importances(task)
    selected = [edge_key(s, r) for (s, r), v in zip(task.graph.edges, values) if v >= config.threshold]
    return Scores(level="edge", edges=task.edge_scores(values), selected=selected)


METHODS = [
    dict(
        name="ifr",
        description="Information flow routes (Ferrando & Voita 2024): each sender's L1 share of its receiver's input.",
        level="edge",
        config=IFRConfig,
        run=run,
    )
]
