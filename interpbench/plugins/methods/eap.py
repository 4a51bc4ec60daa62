"""Edge attribution patching (Syed et al. 2023) and EAP with integrated gradients
(Hanna et al. 2024).

EAP approximates, to first order, what ablating edge (s, r) does to the output:
``(corrupted_s - clean_s) · d target / d input_r`` from one clean and one corrupted
pass and one backward pass. EAP-IG averages the gradient over ``steps`` points on
the straight line from the corrupted to the clean input embeddings; ``clean-corrupted``
(the EAP-IG paper's cheaper variant) averages it at its two ends only;
``eap-ig-activations`` interpolates each node's output in turn instead of the input
(``run_eap_ig_activations``).

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


class EAPIGActivationsConfig(EAPIGConfig):
    """Args:
    steps: points on each node's path from its ablated to its clean output.
    gradients: the passes whose gradients an edge's score averages.
    """

    steps: int = Field(8, ge=1, le=512, description="Integration steps per node, from its ablated to its clean output.")
    gradients: Literal["all-nodes", "own-node"] = Field(
        "all-nodes",
        description="all-nodes: every edge's gradient averaged over the passes of every node's interpolation, as "
        "EAP-IG's code (get_scores_ig_activations) computes it; own-node: only over the passes that interpolate the "
        "edge's sender, the reading of the MIB circuit track's README (interpolating 'at the component that is being "
        "attributed').",
    )


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

    engine = task.engine
    delta = engine.clean_out - engine.ablated_outputs(ablation)  # [S, B, P, D]
    return summarize(task, engine.edge_attributions(grads, delta), score)


def summarize(task: DiscoveryTask, per_example, score: str) -> list[float]:
    """Per edge, from attributions [R, S, B] ([R, S, P, B] per position) per example: the mean
    of their absolute values (``abs-mean``) or the absolute value of their sum (``interpbench``)."""
    summary = per_example.sum(-1).abs() if score == "interpbench" else per_example.abs().mean(-1)
    return task.engine.per_edge(summary).tolist()


def run_eap(task: DiscoveryTask, config: EAPConfig) -> Scores:
    engine = task.engine
    embed, pos = engine.embeddings(task.clean)
    target = interpbench_target(task) if config.score == "interpbench" else attribution_target(task)
    ablation = task.ablation(config.ablation)
    # Resample's corrupted outputs: computed now, not while the gradient pass's graph is held.
    ablated = engine.ablated_outputs(ablation) if ablation == "resample" else None

    def delta(clean_out):
        engine.adopt_clean_outputs(clean_out)  # the clean pass just ran: no need for another
        return clean_out - (ablated if ablated is not None else engine.ablated_outputs(ablation))

    _, per_example, _ = engine.attribution_pass(target, embed, pos, delta)
    return task.relative_selection(summarize(task, per_example, config.score), config.relative_threshold)


def run_eap_ig(task: DiscoveryTask, config: EAPIGConfig) -> Scores:
    return averaged_gradient_scores(task, config, [k / config.steps for k in range(1, config.steps + 1)])


def run_clean_corrupted(task: DiscoveryTask, config: EAPConfig) -> Scores:
    return averaged_gradient_scores(task, config, [0.0, 1.0])


def off_clean_target(task: DiscoveryTask, config: EAPConfig):
    """The attribution target of passes that are not the clean one (interpolated inputs or
    activations): the full model's classes come from the clean logits, not the pass."""
    if config.score == "interpbench":
        return interpbench_target(task)
    return attribution_target(task, task.clean_logits.argmax(-1)[:, 1:])


def averaged_gradient_scores(task: DiscoveryTask, config: EAPConfig, alphas: list[float]) -> Scores:
    """EAP with the receiver gradients averaged over points on the straight line from the
    ablated (alpha 0) to the clean (alpha 1) input embeddings."""
    engine = task.engine
    target = off_clean_target(task, config)
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


def node_groups(task: DiscoveryTask) -> list[list[int]]:
    """Sender indices in the groups EAP-IG interpolates together, in topological order: the
    input (token and positional embeddings), each layer's attention heads (its
    ``hook_result``), each MLP."""
    groups: dict[tuple[int, str], list[int]] = {}
    for sender in task.graph.senders:
        kind = sender.kind if sender.kind in ("head", "mlp") else "input"
        groups.setdefault((sender.layer, kind), []).append(task.graph.sender_index[sender.name])
    return list(groups.values())


def run_eap_ig_activations(task: DiscoveryTask, config: EAPIGActivationsConfig) -> Scores:
    """EAP-IG over activations (Hanna et al.; EAP-IG's ``get_scores_ig_activations``, the
    MIB circuit track's ``eap-ig-activations``).

    For each node in turn (the input, each layer's attention, each MLP) and each
    ``k = 1 .. steps``, the model runs on the clean input with that node's output replaced
    by ``ablated + k/steps · (clean - ablated)``, held constant (nothing flows back through
    it), every other node computed from what it receives; one backward pass gives the
    gradient at every receiver. An edge's score is EAP's with that gradient averaged over
    all ``nodes × steps`` passes (``gradients="all-nodes"``, as EAP-IG's code computes it)
    or over its sender's own ``steps`` passes (``"own-node"``, the reading of MIB's README:
    interpolation "at the component that is being attributed").
    Cost: ``nodes × steps`` forward and backward passes, nodes = 1 + layers (+ layers with MLPs).

    Departures. Our graph has the positional embedding as a sender; EAP-IG's input node is
    ``hook_embed`` alone, so the input here interpolates both embeddings together (as
    ``eap-ig`` does). The path starts at the run's ablated output: the corrupted one for
    resample, as in EAP-IG; under mean ablation EAP-IG's code starts it at zero while taking
    the difference to the mean, here both are the mean. Target and aggregation over examples
    are those of ``eap`` and ``eap-ig`` (the model's own answer, per-example absolute values;
    ``score="interpbench"``), not EAP-IG's signed sums of a task metric.
    """
    import torch

    engine = task.engine
    target = off_clean_target(task, config)
    ablation = task.ablation(config.ablation)
    clean = engine.clean_out  # [S, B, P, D]
    ablated = engine.ablated_outputs(ablation).expand_as(clean)
    delta = clean - ablated
    groups = node_groups(task)
    P = engine.positions
    per_position = P is not None
    pairs = (engine.R, engine.S, P) if P is not None else (engine.R, engine.S)
    own_node = clean.new_zeros(*pairs, clean.shape[1])  # [R, S, B] ([R, S, P, B]), filled node by node
    total = None
    for group in groups:
        summed = None
        for k in range(1, config.steps + 1):
            point = {s: ablated[s] + k / config.steps * delta[s] for s in group}
            embed, pos = point.pop(0, clean[0]), point.pop(1, clean[1])
            _, grads, _ = engine.receiver_gradients(target, embed, pos, point)
            summed = grads if summed is None else summed + grads
        assert summed is not None, "at least one step"
        if config.gradients == "own-node":
            contraction = "rbpd,sbpd->rspb" if per_position else "rbpd,sbpd->rsb"
            own_node[:, group] = torch.einsum(contraction, summed / config.steps, delta[group])
        else:
            total = summed if total is None else total + summed
    if total is None:
        per_example = own_node
    else:
        per_example = engine.edge_attributions(total / (len(groups) * config.steps), delta)
    return task.relative_selection(summarize(task, per_example, config.score), config.relative_threshold)


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
        name="eap-ig-activations",
        description="EAP-IG over activations (Hanna et al. 2024): each node's output interpolated in turn.",
        level="edge",
        config=EAPIGActivationsConfig,
        run=run_eap_ig_activations,
    ),
    dict(
        name="clean-corrupted",
        description="EAP with the gradient averaged at the clean and the corrupted input (Hanna et al. 2024).",
        level="edge",
        config=EAPConfig,
        run=run_clean_corrupted,
    ),
]
