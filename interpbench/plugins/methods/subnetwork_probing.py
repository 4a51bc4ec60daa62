"""Subnetwork probing (Cao et al. 2021, as adapted by ACDC and InterpBench).

A hard-concrete mask (Louizos et al. 2018) is learned over the edges (``edge-sp``)
or over the heads and MLPs (``node-sp``): the loss is the validation metric of the
masked model, as a fraction of the empty circuit's, plus ``lambda_reg`` times the
expected fraction of kept items. Normalising the metric makes one ``lambda_reg``
mean the same on every case (tracr's outputs give KLs of very different sizes). An
item's score is its learned log-odds of being kept (probabilities saturate to ties);
it is selected when its keep probability reaches ``threshold``.
"""

from __future__ import annotations

from pydantic import Field

from interpbench.plugins.methods.common import AblationConfig, edge_scores, select_edges
from interpbench.schemas import Scores

# Hard-concrete stretch and temperature (Louizos et al. 2018).
BETA, GAMMA, ZETA = 2 / 3, -0.1, 1.1


class SPConfig(AblationConfig):
    """Args:
    lambda_reg: weight of the sparsity penalty.
    epochs: optimisation steps over the whole data.
    lr: Adam learning rate for the mask logits.
    threshold: keep items whose keep probability is at least this.
    """

    lambda_reg: float = Field(1.0, ge=0, description="Weight of the sparsity penalty.")
    epochs: int = Field(300, ge=1, le=100_000, description="Optimisation steps.")
    lr: float = Field(0.05, gt=0, description="Adam learning rate for the mask logits.")
    threshold: float = Field(0.5, ge=0, le=1, description="Keep items whose keep probability is at least this.")


def learn_mask(task, n_items: int, to_dense, config: SPConfig) -> list[float]:
    """Train hard-concrete logits; return each item's log-odds of being kept."""
    import math

    import torch

    generator = torch.Generator().manual_seed(task.seed)
    log_alpha = torch.full((1, n_items), 3.0, requires_grad=True)  # start near "keep all"
    optimizer = torch.optim.Adam([log_alpha], lr=config.lr)
    penalty_shift = BETA * math.log(-GAMMA / ZETA)
    ablation = task.ablation(config.ablation)
    with torch.no_grad():
        empty = float(task.metric(task.engine.run(to_dense(torch.zeros(1, n_items)), ablation))[0])
    scale = 1.0 / empty if empty > 0 else 1.0
    for _ in range(config.epochs):
        u = torch.rand(log_alpha.shape, generator=generator).clamp(1e-6, 1 - 1e-6)
        s = torch.sigmoid((u.log() - (1 - u).log() + log_alpha) / BETA)
        z = (s * (ZETA - GAMMA) + GAMMA).clamp(0.0, 1.0)
        loss = scale * task.metric(task.engine.run(to_dense(z), ablation))[0]
        loss = loss + config.lambda_reg * torch.sigmoid(log_alpha - penalty_shift).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return log_alpha.detach()[0].tolist()


def _logit(p: float) -> float:
    import math

    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


def run_edge_sp(task, config: SPConfig) -> Scores:
    log_odds = learn_mask(task, len(task.graph.edges), task.engine.edge_mask, config)
    cut = _logit(config.threshold)
    return Scores(level="edge", edges=edge_scores(task, log_odds), selected=select_edges(task, log_odds, cut))


def run_node_sp(task, config: SPConfig) -> Scores:
    nodes = task.graph.nodes
    log_odds = learn_mask(task, len(nodes), task.engine.node_mask, config)
    cut = _logit(config.threshold)
    return Scores(
        level="node",
        nodes=dict(zip(nodes, log_odds)),
        selected=[n for n, v in zip(nodes, log_odds) if v >= cut],
    )


METHODS = [
    dict(
        name="edge-sp",
        description="Subnetwork probing over edges: a learned hard-concrete mask with a sparsity penalty.",
        level="edge",
        config=SPConfig,
        run=run_edge_sp,
    ),
    dict(
        name="node-sp",
        description="Subnetwork probing over heads and MLPs: a learned hard-concrete mask with a sparsity penalty.",
        level="node",
        config=SPConfig,
        run=run_node_sp,
    ),
]
