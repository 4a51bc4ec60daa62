"""Edge pruning (Bhaskar, Wettig, Zhong & Chen 2024, "Finding Transformer Circuits with
Edge Pruning"; reference code: princeton-nlp/Edge-Pruning).

Every edge carries a hard-concrete mask z (Louizos et al. 2018, ``hard_concrete``) that
mixes its sender's clean and ablated output in its receiver's input, which is what the
reference's disentangled residual stream does. Each step draws one mask per edge and
minimises

    faithfulness + λ1 (s - t) + λ2 (s - t)²

where faithfulness is the masked model's distance to the full model (the task's metric
summed over positions and averaged over examples: the reference's
``kl_div(..., reduction="batchmean")`` for categorical cases), s = 1 - Σz / E is the
sparsity of the drawn masks, and t the step's target: it rises linearly from 0 to
``target_sparsity`` over the first ``sparsity_warmup_steps`` and stays there (the
reference's ``get_current_edge_target_sparsity``). λ1 and λ2 start at 0 and are
*maximised*, by gradient ascent in the same optimizer, so the penalty grows until s meets
t: below the target λ2 grows and λ1 turns negative, both pushing masks towards 0. One
AdamW (PyTorch's default weight decay, as the reference's ``get_optimizers`` keeps it)
with a group for the mask logits (``mask_lr``) and a maximising group for the lambdas
(``lambda_lr``); both learning rates rise linearly over ``lr_warmup_steps`` and then fall
linearly to 0 (transformers' ``get_linear_schedule_with_warmup``, as the reference
trains). Each step sees one minibatch of ``batch_size`` examples (subnetwork probing's
``minibatches``).

The circuit is read off as the reference's ``deterministic_z_from_log_alpha`` does: in
each of its mask tensors (the q, k or v inputs of one layer's heads, one layer's MLP
input, the final residual stream) the round(Σ P(z > 0)) edges of highest log α stay, less
those whose deterministic mask σ(0.8 · log α / β) is at most ``threshold``. An edge's
score is its learned log α, the mask's log-odds: a ranking for the ROC. With ``sweep``,
the masks are learned again from scratch for each further target sparsity and the ROC
comes from those circuits, as the paper draws its curves (``run_scripts/ioi_sweep.sh``:
targets 0.94 to 1.1); the scores stay those of ``target_sparsity``.

Departures, each forced by our budget or graph:

- 300 steps of 50 examples, what edge-SP spends, against the reference's 720 to 6,000
  steps of 16 examples (tracr) or 3,000 of 32 (GPT-2); the warmups keep the proportions
  of its GPT-2 runs (2,500 and 200 of 3,000 steps).
- Masks start at log α = 3 (edge-SP's start), not 10: there a drawn mask is clamped at 1
  and gets no gradient but about once in 5,000 draws, which the reference's thousands of
  steps (and AdamW's weight decay pulling log α towards 0) outlast and 300 steps do not.
  ``init_log_alpha=10`` is the reference's start.
- ``threshold`` 0.5 (keep log α > 0), not the reference's 0.005 (log α > -4.4): after
  300 steps the masks of pruned edges still sit near log α = -3, each with P(z > 0) about
  0.2, so the expected count keeps a fifth of them (on case 3's SIIT model 37 edges
  against 5). The circuit then comes out a little sparser than the target (by 0.01 to
  0.07 there), since the Lagrangian holds the drawn masks' sparsity, in which half-open
  masks count in part. ``threshold=0.005`` is the reference's read-off.
- Edge masks only. The reference also learns a mask per node (head, MLP, embedding) with
  a Lagrangian of its own; its GPT-2 defaults and one of its two tracr runs turn that
  loss off (``--disable_node_loss``), leaving the node masks to the faithfulness term,
  which keeps them open: every node stays, as here.
- Numerical cases use the task's squared error as faithfulness (the reference has KL
  only), and ablation is the loader's: zero-except-embed on compiled models (the
  reference's tracr runs zero-ablate) and resample on trained ones (its GPT-2 runs patch
  in corrupted activations).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from pydantic import Field, field_validator, model_validator

from interpbench import AblationConfig, Scores, SweptCircuit, edge_key, position_of
from interpbench.plugins.methods import hard_concrete
from interpbench.plugins.methods.subnetwork_probing import minibatches

if TYPE_CHECKING:
    import torch

    from interpbench import ComputationalGraph, DiscoveryTask

# The reference's deterministic mask is sigmoid(FACTOR * log_alpha / BETA).
FACTOR = 0.8


class EdgePruningConfig(AblationConfig):
    """Args:
    target_sparsity: the fraction of edges the Lagrangian drives the masks to remove;
        above 1 it keeps pushing, towards the sparsest circuit the faithfulness term allows
        (the reference's tracr ``reverse`` run uses 1.02).
    steps: optimisation steps.
    sparsity_warmup_steps: the target rises linearly from 0 over these first steps.
    lr_warmup_steps: the learning rates rise linearly over these, then fall linearly to 0.
    mask_lr: AdamW learning rate of the mask logits.
    lambda_lr: AdamW learning rate of the Lagrange multipliers (gradient ascent).
    init_log_alpha: the masks' starting log α (the reference starts at 10).
    batch_size: examples per step (fixed minibatches of a seeded shuffle); none: the whole data.
    threshold: of the expected number of kept edges, drop those whose deterministic mask is at most
        this (the reference's tracr scripts: 0.005).
    sweep: further target sparsities, one training each, for the ROC; empty: one run.
    """

    target_sparsity: float = Field(
        1.02,
        ge=0,
        description="Fraction of edges to remove; above 1 pushes towards the sparsest faithful circuit "
        "(the reference's tracr reverse run: 1.02).",
    )
    steps: int = Field(300, ge=1, le=100_000, description="Optimisation steps.")
    sparsity_warmup_steps: int = Field(
        250, ge=0, description="The target sparsity rises linearly from 0 over these first steps."
    )
    lr_warmup_steps: int = Field(
        20, ge=0, description="Learning rates rise linearly over these first steps, then fall linearly to 0."
    )
    mask_lr: float = Field(
        0.1, gt=0, description="AdamW learning rate of the mask logits (the reference's runs: 0.03 to 1)."
    )
    lambda_lr: float = Field(
        0.1,
        gt=0,
        description="AdamW learning rate of the Lagrange multipliers, by gradient ascent (the reference's runs: "
        "0.0001 to 0.8).",
    )
    init_log_alpha: float = Field(3.0, description="Starting log alpha of every mask (the reference's: 10).")
    batch_size: int | None = Field(
        50, ge=1, description="Examples per optimisation step (fixed minibatches); none: the whole data."
    )
    threshold: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Of the expected number of kept edges per mask tensor, drop those whose deterministic "
        "mask sigmoid(0.8 log alpha / beta) is at most this (the reference's tracr scripts: 0.005).",
    )
    sweep: list[float] = Field(
        [], description="Further target sparsities (one training each) whose circuits make the ROC."
    )

    @field_validator("sweep")
    @classmethod
    def _non_negative(cls, values: list[float]) -> list[float]:
        if any(v < 0 for v in values):
            raise ValueError("target sparsities must be >= 0")
        return values

    @model_validator(mode="after")
    def _warmups_fit(self) -> EdgePruningConfig:
        for name in ("sparsity_warmup_steps", "lr_warmup_steps"):
            if getattr(self, name) > self.steps:
                raise ValueError(f"{name} ({getattr(self, name)}) exceeds steps ({self.steps})")
        return self


def target_at(step: int, config: EdgePruningConfig, target: float) -> float:
    """The step's target sparsity: linear from 0 over the warmup, then ``target``."""
    if step < config.sparsity_warmup_steps:
        return target * step / config.sparsity_warmup_steps
    return target


def lr_factor(step: int, config: EdgePruningConfig) -> float:
    """The learning rates' multiplier: linear warmup, then linear decay to 0 at the last step."""
    warmup = config.lr_warmup_steps
    if step < warmup:
        return step / warmup
    return max(0.0, (config.steps - step) / max(1, config.steps - warmup))


def prune(
    n_edges: int,
    faithfulness: Callable[[int, torch.Tensor], torch.Tensor],
    config: EdgePruningConfig,
    target: float,
    seed: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Learn the masks against ``faithfulness(step, z)`` (z: the drawn masks [1, n_edges])
    under the Lagrangian; return the final log α [n_edges] and (λ1, λ2)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(1, n_edges, generator=generator)  # breaks ties, as the reference's N(10, 0.01)
    log_alpha = (config.init_log_alpha + 0.01 * noise).requires_grad_()
    lambdas = torch.zeros(2, requires_grad=True)
    optimizer = torch.optim.AdamW(
        [
            {"params": [log_alpha], "lr": config.mask_lr},
            {"params": [lambdas], "lr": config.lambda_lr, "maximize": True},
        ],
        weight_decay=0.01,  # PyTorch's default, which the reference's optimizer keeps
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, config))
    for step in range(config.steps):
        z = hard_concrete.sample(log_alpha, generator)
        gap = (1 - z.sum() / n_edges) - target_at(step, config, target)
        loss = faithfulness(step, z) + lambdas[0] * gap + lambdas[1] * gap**2
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    return log_alpha.detach()[0], lambdas.detach()


def read_off(graph: ComputationalGraph, log_alpha: torch.Tensor, threshold: float) -> list[bool]:
    """Which edges the learned masks keep: per reference mask tensor (one kind of receiver in
    one layer), the round(Σ P(z > 0)) edges of highest log α whose deterministic mask
    exceeds ``threshold``."""
    import torch

    keep_probability = hard_concrete.keep_probability(log_alpha)
    deterministic = torch.sigmoid(FACTOR * log_alpha / hard_concrete.BETA)
    receivers = {r.name: r for r in graph.receivers}
    groups: dict[tuple[int, str], list[int]] = {}
    for i, (_, r) in enumerate(graph.edges):
        receiver = receivers[position_of(r)[0]]
        groups.setdefault((receiver.layer, receiver.kind), []).append(i)
    kept = [False] * len(graph.edges)
    for members in groups.values():
        expected_zeros = round(len(members) - float(keep_probability[members].sum()))
        by_log_alpha = sorted(members, key=lambda i: -float(log_alpha[i]))
        for i in by_log_alpha[: len(members) - expected_zeros]:
            kept[i] = bool(deterministic[i] > threshold)
    return kept


def run_edge_pruning(task: DiscoveryTask, config: EdgePruningConfig) -> Scores:
    batches = minibatches(task, config.batch_size)
    ablation = task.ablation(config.ablation)
    positions = task.clean.shape[1] - 1  # BOS is not scored

    def faithfulness(step: int, z: torch.Tensor) -> torch.Tensor:
        batch = batches[step % len(batches)]
        return positions * batch.metric(batch.engine.run(batch.engine.edge_mask(z), ablation))[0]

    keys = [edge_key(s, r) for s, r in task.graph.edges]
    learned = {
        target: prune(len(keys), faithfulness, config, target, task.seed)[0]
        for target in sorted({config.target_sparsity, *config.sweep})
    }
    kept = {
        target: [k for k, keep in zip(keys, read_off(task.graph, log_alpha, config.threshold)) if keep]
        for target, log_alpha in learned.items()
    }
    sweep = [SweptCircuit(threshold=t, selected=selected) for t, selected in kept.items()] if config.sweep else []
    return Scores(
        level="edge",
        edges=task.edge_scores(learned[config.target_sparsity].tolist()),
        selected=kept[config.target_sparsity],
        sweep=sweep,
    )


METHODS = [
    dict(
        name="edge-pruning",
        description="Edge pruning (Bhaskar et al. 2024): hard-concrete edge masks learned against the distance to "
        "the full model, under a Lagrangian that drives their sparsity to a target.",
        level="edge",
        config=EdgePruningConfig,
        run=run_edge_pruning,
    ),
]
