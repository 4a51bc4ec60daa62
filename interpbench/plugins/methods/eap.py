"""Edge attribution patching (Syed et al. 2023) and EAP with integrated gradients
(Hanna et al. 2024).

EAP approximates, to first order, what ablating edge (s, r) does to the output:
``(corrupted_s - clean_s) · d target / d input_r`` from one clean and one corrupted
pass and one backward pass. EAP-IG averages the gradient over ``steps`` points on
the straight line from the corrupted to the clean input embeddings; ``clean-corrupted``
(the EAP-IG paper's cheaper variant) averages it at its two ends only.

The validation metrics (KL, L2 against the full model) have zero gradient at the
full model, so the attribution target is the model's own answer: the log-probability
of the full model's class (categorical cases) or the output value (numerical ones).
Attributions are taken per example and their absolute values averaged, so that
effects of opposite sign on different inputs do not cancel.

``score="interpbench"`` reproduces InterpBench's EAP instead (auto-circuit's
``mask_gradient_prune_scores`` with ``grad_function="logit"``, the whole data as one
batch): the signed gradient of InterpBench's loss with respect to each edge's mask,
``(ablated_s - clean_s) · dL/d input_r`` summed over examples and positions, where L is
the batch-mean cross-entropy of the true (HL) answers for categorical cases and their
mean absolute error for numerical ones. Edges are ranked by the absolute value of that
sum, as auto-circuit orders them: effects of opposite sign on different examples cancel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from interpbench import AblationConfig, Scores

if TYPE_CHECKING:
    from interpbench import Ablation, DiscoveryTask


class EAPConfig(AblationConfig):
    """Args:
    relative_threshold: keep edges scoring at least this fraction of the best edge.
    """

    relative_threshold: float = Field(
        0.01, ge=0, le=1, description="Keep edges scoring at least this fraction of the best."
    )
    score: Literal["abs-mean", "interpbench"] = Field(
        "abs-mean",
        description="abs-mean: per-example attributions' absolute values averaged over examples; interpbench: "
        "InterpBench's gradient of its loss (cross-entropy or mean absolute error to the true answers), signed "
        "contributions summed over the batch, then its absolute value.",
    )


class EAPIGConfig(EAPConfig):
    """Args:
    steps: points on the path from the ablated (e.g. corrupted) to the clean embeddings.
    """

    steps: int = Field(8, ge=1, le=512, description="Integration steps from corrupted to clean inputs.")


def attribution_target(task: DiscoveryTask, answer=None):
    """A differentiable scalar: summed answer of the model over examples (BOS excluded).

    ``answer`` holds the full model's classes [B, P-1]; without it, the pass being
    differentiated is the clean one and supplies them itself.
    """
    if task.categorical:

        def target(logits):
            chosen = answer if answer is not None else logits.detach().argmax(-1)[:, 1:]
            return logits[:, 1:].log_softmax(-1).gather(-1, chosen[..., None]).sum()

    else:

        def target(logits):
            return logits[:, 1:, 0].sum()

    return target


def interpbench_target(task: DiscoveryTask):
    """InterpBench's EAP loss, negated so that (like ``attribution_target``) larger is
    better: the batch-mean cross-entropy of the true answers (summed over positions 1..)
    for categorical cases, the mean absolute error to them for numerical ones. The true
    answers are the compiled (HL) model's outputs on the clean inputs."""
    import torch

    from interpbench import load_compiled

    with torch.no_grad():
        truth = load_compiled(task.case).model(task.clean)
    if task.categorical:
        answer = truth.argmax(-1)[:, 1:]

        def target(logits):
            return logits[:, 1:].log_softmax(-1).gather(-1, answer[..., None]).sum() / logits.shape[0]

    else:
        answer = truth[:, 1:, 0]

        def target(logits):
            return -(logits[:, 1:, 0] - answer).abs().mean()

    return target


def attribution_scores(task: DiscoveryTask, grads, ablation: Ablation, score: str = "abs-mean") -> list[float]:
    """Per edge: the mean over examples of |(clean_s - ablated_s) · grad_r| (``abs-mean``), or the
    absolute value of its signed sum over examples (``interpbench``; for L the negated target,
    ``(clean_s - ablated_s) · grad_r`` is auto-circuit's ``(ablated_s - clean_s) · dL/d input_r``)."""
    import torch

    engine = task.engine
    delta = engine.clean_out - engine.ablated_outputs(ablation)  # [S, B, P, D]
    per_example = torch.einsum("rbpd,sbpd->rsb", grads, delta)  # [R, S, B]
    summary = per_example.sum(-1).abs() if score == "interpbench" else per_example.abs().mean(-1)
    return summary[engine.edge_r, engine.edge_s].tolist()


def run_eap(task: DiscoveryTask, config: EAPConfig) -> Scores:
    engine = task.engine
    embed, pos = engine.embeddings(task.clean)
    target = interpbench_target(task) if config.score == "interpbench" else attribution_target(task)
    _, grads, clean_out = engine.receiver_gradients(target, embed, pos)
    engine.adopt_clean_outputs(clean_out)  # the clean pass just ran: no need for another
    scores = attribution_scores(task, grads, task.ablation(config.ablation), config.score)
    return task.relative_selection(scores, config.relative_threshold)


def run_eap_ig(task: DiscoveryTask, config: EAPIGConfig) -> Scores:
    return averaged_gradient_scores(task, config, [k / config.steps for k in range(1, config.steps + 1)])


def run_clean_corrupted(task: DiscoveryTask, config: EAPConfig) -> Scores:
    return averaged_gradient_scores(task, config, [0.0, 1.0])


def averaged_gradient_scores(task: DiscoveryTask, config: EAPConfig, alphas: list[float]) -> Scores:
    """EAP with the receiver gradients averaged over points on the straight line from the
    ablated (alpha 0) to the clean (alpha 1) input embeddings."""
    engine = task.engine
    if config.score == "interpbench":
        target = interpbench_target(task)
    else:
        target = attribution_target(task, task.clean_logits.argmax(-1)[:, 1:])
    ablation = task.ablation(config.ablation)
    clean_embed, clean_pos = engine.embeddings(task.clean)
    # The path starts at the ablated input: its embeddings are the ablated embedding senders.
    start = engine.ablated_outputs(ablation)[:2].expand(2, *clean_embed.shape)
    total = None
    for alpha in alphas:
        embed = start[0] + alpha * (clean_embed - start[0])
        pos = start[1] + alpha * (clean_pos - start[1])
        _, grads, _ = engine.receiver_gradients(target, embed, pos)
        total = grads if total is None else total + grads
    assert total is not None, "at least one point"
    scores = attribution_scores(task, total / len(alphas), ablation, config.score)
    return task.relative_selection(scores, config.relative_threshold)


METHODS = [
    dict(
        name="eap",
        description="Edge attribution patching (Syed et al.): gradient × activation difference, one backward pass.",
        level="edge",
        config=EAPConfig,
        run=run_eap,
    ),
    dict(
        name="eap-ig",
        description="EAP with integrated gradients (Hanna et al. 2024) from corrupted to clean embeddings.",
        level="edge",
        config=EAPIGConfig,
        run=run_eap_ig,
    ),
    dict(
        name="clean-corrupted",
        description="EAP with the gradient averaged at the clean and the corrupted input (Hanna et al. 2024).",
        level="edge",
        config=EAPConfig,
        run=run_clean_corrupted,
    ),
]
