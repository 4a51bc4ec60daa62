"""Subnetwork probing (Cao et al. 2021, as adapted by ACDC and InterpBench).

A hard-concrete mask (Louizos et al. 2018) is learned over the edges (``edge-sp``)
or over the heads and MLPs (``node-sp``): the loss is the validation metric of the
masked model, as a fraction of the empty circuit's, plus ``lambda_reg`` times the
expected fraction of kept items. Normalising the metric makes one ``lambda_reg``
mean the same on every case (tracr's outputs give KLs of very different sizes). An
item's score is its learned log-odds of being kept (probabilities saturate to ties);
it is selected when its keep probability reaches ``threshold``.

Each step sees one minibatch of ``batch_size`` examples, the fixed minibatches of a
seeded shuffle taken in turn, as Cao et al. train; ``batch_size=None`` makes every step
see the whole data, as ACDC's and InterpBench's implementation does (a step then costs
the whole data's forward and backward pass; ``benchmarks/sp_minibatch.py`` compares the
two in time and AUROC).

With ``sweep``, the mask is learned again from scratch for each further
``lambda_reg``, and the ROC comes from the circuits of that sweep, as InterpBench
computes subnetwork probing's; the scores stay those of ``lambda_reg``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from interpbench import AblationConfig, Scores, SweptCircuit, edge_key
from interpbench.plugins.methods import hard_concrete

if TYPE_CHECKING:
    from interpbench import DiscoveryTask


class SPConfig(AblationConfig):
    """Args:
    lambda_reg: weight of the sparsity penalty.
    epochs: optimisation steps.
    batch_size: examples per step, cycling through fixed minibatches of a seeded
        shuffle, as Cao et al. train; none: every step sees the whole data (ACDC's and
        InterpBench's implementation).
    lr: Adam learning rate for the mask logits.
    threshold: keep items whose keep probability is at least this.
    sweep: further ``lambda_reg`` values, one training each, for the ROC; empty: one run.
    """

    lambda_reg: float = Field(1.0, ge=0, description="Weight of the sparsity penalty.")
    epochs: int = Field(300, ge=1, le=100_000, description="Optimisation steps.")
    batch_size: int | None = Field(
        50,
        ge=1,
        description="Examples per optimisation step (fixed minibatches, Cao et al.); none: the whole data "
        "(ACDC's and InterpBench's full-batch steps).",
    )
    lr: float = Field(0.05, gt=0, description="Adam learning rate for the mask logits.")
    threshold: float = Field(0.5, ge=0, le=1, description="Keep items whose keep probability is at least this.")
    sweep: list[float] = Field(
        [], description="Further lambda_reg values (one training each) whose circuits make the ROC."
    )

    @field_validator("sweep")
    @classmethod
    def _non_negative(cls, values: list[float]) -> list[float]:
        if any(v < 0 for v in values):
            raise ValueError("lambda_reg values must be >= 0")
        return values


def minibatches(task: DiscoveryTask, batch_size: int | None) -> list[DiscoveryTask]:
    """The task split into fixed minibatches of a seeded shuffle (the task itself when
    ``batch_size`` is none or covers the data). Fixed, so each keeps its engine's caches."""
    import torch

    n = len(task.clean)
    if batch_size is None or batch_size >= n:
        return [task]
    order = torch.randperm(n, generator=torch.Generator().manual_seed(task.seed))
    return [task.rows(index) for index in order.split(batch_size)]


def learn_mask(
    task: DiscoveryTask, batches: list[DiscoveryTask], n_items: int, masked_run, config: SPConfig
) -> list[float]:
    """Train hard-concrete logits, one step per minibatch in turn; return each item's
    log-odds of being kept. ``masked_run(task, kept, ablation)`` gives the task's logits
    with items kept by ``kept`` [C, n_items]."""
    import torch

    generator = torch.Generator().manual_seed(task.seed)
    log_alpha = torch.full((1, n_items), 3.0, requires_grad=True)  # start near "keep all"
    optimizer = torch.optim.Adam([log_alpha], lr=config.lr)
    ablation = task.ablation(config.ablation)
    # One scale for every minibatch, from the whole data, so that the steps weigh alike.
    with torch.no_grad():
        empty = float(task.metric(masked_run(task, torch.zeros(1, n_items), ablation))[0])
    scale = 1.0 / empty if empty > 0 else 1.0
    for step in range(config.epochs):
        batch = batches[step % len(batches)]
        z = hard_concrete.sample(log_alpha, generator)
        loss = scale * batch.metric(masked_run(batch, z, ablation))[0]
        loss = loss + config.lambda_reg * hard_concrete.keep_probability(log_alpha).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return log_alpha.detach()[0].tolist()


def _logit(p: float) -> float:
    import math

    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


def probe(task: DiscoveryTask, level: str, keys: list[str], masked_run, config: SPConfig) -> Scores:
    """Learn the mask at ``lambda_reg`` (and at each ``sweep`` value); score and select."""
    cut = _logit(config.threshold)
    batches = minibatches(task, config.batch_size)
    learned = {
        lam: learn_mask(task, batches, len(keys), masked_run, config.model_copy(update={"lambda_reg": lam}))
        for lam in sorted({config.lambda_reg, *config.sweep})
    }
    kept = {lam: [k for k, v in zip(keys, log_odds) if v >= cut] for lam, log_odds in learned.items()}
    log_odds = learned[config.lambda_reg]
    scored = dict(edges=task.edge_scores(log_odds)) if level == "edge" else dict(nodes=dict(zip(keys, log_odds)))
    sweep = [SweptCircuit(threshold=lam, selected=selected) for lam, selected in kept.items()] if config.sweep else []
    return Scores(level=level, selected=kept[config.lambda_reg], sweep=sweep, **scored)


def run_edge_sp(task: DiscoveryTask, config: SPConfig) -> Scores:
    keys = [edge_key(s, r) for s, r in task.graph.edges]
    return probe(task, "edge", keys, lambda t, kept, ablation: t.engine.run(t.engine.edge_mask(kept), ablation), config)


def run_node_sp(task: DiscoveryTask, config: SPConfig) -> Scores:
    return probe(task, "node", task.graph.nodes, lambda t, kept, ablation: t.engine.run_nodes(kept, ablation), config)


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
